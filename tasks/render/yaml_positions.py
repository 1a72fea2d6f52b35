"""YAML text -> plain data that remembers where every key and value was written.

Composition uses libyaml (``CSafeLoader``) for speed; the node tree is then turned into
``YMap``/``YList`` containers that keep each entry's (line, col) and the scalar *as
written*, so ``version: 1.10`` can be read back as "1.10" instead of the float 1.1.
Positions are mapped through ``line_map`` to lines of the original meta.yaml.

A key written twice in one mapping keeps its last value, as PyYAML (and so conda-build)
does; the caller is told through ``duplicates`` (or gets an error when it passes none).
"""
from __future__ import annotations

from typing import Any, Callable, Iterator

import yaml
from yaml.constructor import SafeConstructor
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
Pos = tuple[int, int]                         # 1-based line and column in the original file
LineMap = Callable[[int], int]                # 0-based rendered line -> 1-based original line

_STR_TAG = "tag:yaml.org,2002:str"
_constructor = SafeConstructor()


class YMap(dict):
    """A mapping with the position of each key and value, and each scalar's source text."""

    __slots__ = ("pos", "key_pos", "val_pos", "raw")

    def __init__(self, pos: Pos = (0, 0)):
        super().__init__()
        self.pos = pos
        self.key_pos: dict[Any, Pos] = {}
        self.val_pos: dict[Any, Pos] = {}
        self.raw: dict[Any, str | None] = {}

    def value_pos(self, key: Any) -> Pos:
        """Where the value of ``key`` starts (its key when the value is empty)."""
        if key in self.val_pos and self.get(key) is not None:
            return self.val_pos[key]
        return self.key_pos.get(key, self.pos)


class YList(list):
    """A sequence with the position of each item and each scalar's source text."""

    __slots__ = ("pos", "item_pos", "raw")

    def __init__(self, pos: Pos = (0, 0)):
        super().__init__()
        self.pos = pos
        self.item_pos: list[Pos] = []
        self.raw: list[str | None] = []

    def items_with_pos(self) -> Iterator[tuple[Any, Pos, str | None]]:
        return zip(self, self.item_pos, self.raw)


class YamlProblem(Exception):
    """A YAML syntax or structure error at a position of the original file."""

    def __init__(self, pos: Pos, message: str, hint: str = ""):
        super().__init__(message)
        self.pos, self.message, self.hint = pos, message, hint


# A key written again: (its new position, the key, the position of the first).
Duplicate = tuple[Pos, Any, Pos]


def load(text: str, line_map: LineMap, duplicates: list[Duplicate] | None = None) -> Any:
    """Parse ``text`` into YMap/YList/scalars; raise YamlProblem with an original position.

    A duplicate key is appended to ``duplicates`` and its last value kept (PyYAML's rule);
    with ``duplicates`` None it is a YamlProblem."""
    try:
        node = yaml.compose(text, Loader=Loader)
    except yaml.MarkedYAMLError as exc:
        # an unterminated construct is best shown where it starts, not at the end of the file
        at_end = "end of stream" in (exc.problem or "")
        mark = (exc.context_mark if at_end else None) or exc.problem_mark or exc.context_mark
        pos = (line_map(mark.line), mark.column + 1) if mark else (1, 1)
        message = " ".join(x for x in (exc.context, exc.problem) if x) or "invalid YAML"
        raise YamlProblem(pos, f"YAML error: {message}",
                          "check indentation, and quote values that contain ': ' or start with '{', '*' or '%'") from None
    except yaml.YAMLError as exc:
        raise YamlProblem((1, 1), f"YAML error: {exc}") from None
    if node is None:
        return None
    return _build(node, line_map, duplicates)


def _pos(node: Node, line_map: LineMap) -> Pos:
    return line_map(node.start_mark.line), node.start_mark.column + 1


def _scalar(node: ScalarNode, line_map: LineMap) -> Any:
    if node.tag == _STR_TAG:
        return node.value
    try:
        return _constructor.construct_object(node)
    except yaml.YAMLError as exc:
        raise YamlProblem(_pos(node, line_map), f"YAML error: {exc}") from None


def _build(node: Node, line_map: LineMap, duplicates: list[Duplicate] | None) -> Any:
    if isinstance(node, ScalarNode):
        return _scalar(node, line_map)
    if isinstance(node, SequenceNode):
        seq = YList(_pos(node, line_map))
        for item in node.value:
            seq.append(_build(item, line_map, duplicates))
            seq.item_pos.append(_pos(item, line_map))
            seq.raw.append(item.value if isinstance(item, ScalarNode) else None)
        return seq
    if isinstance(node, MappingNode):
        mapping = YMap(_pos(node, line_map))
        for key_node, value_node in node.value:
            key = _build(key_node, line_map, duplicates)
            kpos = _pos(key_node, line_map)
            if isinstance(key, (YMap, YList)):
                raise YamlProblem(kpos, "a mapping key must be a plain value")
            if key in mapping:
                first = mapping.key_pos[key]
                if duplicates is None:
                    raise YamlProblem(kpos, duplicate_message(key, first), DUPLICATE_HINT)
                duplicates.append((kpos, key, first))     # the last value wins
            mapping[key] = _build(value_node, line_map, duplicates)
            mapping.key_pos[key] = kpos
            mapping.val_pos[key] = _pos(value_node, line_map)
            mapping.raw[key] = value_node.value if isinstance(value_node, ScalarNode) else None
        return mapping
    raise YamlProblem(_pos(node, line_map), f"unsupported YAML node {type(node).__name__}")


DUPLICATE_HINT = "remove one of them, or give each a selector such as # [linux]"


def duplicate_message(key: Any, first: Pos) -> str:
    return f"duplicate key '{key}' (first at line {first[0]})"
