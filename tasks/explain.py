"""Why a stage runs: the inputs recorded in its stamp against the inputs it has now.

A stamp keeps the flat parts its signature was made from (``recorded_inputs`` in
tasks/stages/base.py: names and digests, no contents). Two of them differ in a few keys;
``reasons`` turns each into one line a user can act on ("patch `fix.patch` changed",
"setting `max_glibc` 2.34 -> 2.17", "upstream compile:zlib changed (sha256 1a2b... ->
3c4d...)"). The build prints the same line when it starts a stage that had a stamp, and
``doit explain:<recipe>`` lists it for every stage that would run.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence

from .model import Recipe

_DIGEST = re.compile(r"^(?:sha256:)?([0-9a-f]{16,64})$")
# The compile stage's own names for meta.yaml fields.
_COMPILE_FIELDS = {"name": "package.name", "version": "package.version", "number": "build.number",
                   "build_requirements": "requirements.build", "host_requirements": "requirements.host",
                   "script_env": "build.script_env", "variant": "variant"}
# Inputs of a stage that are condoit settings (`doit max_glibc=2.17 ...`).
_SETTINGS = frozenset({"max_glibc", "format", "compression_level", "glibc"})
_INDEX = re.compile(r"\.(?:\d+|#)(?=\.|$)")


@dataclass(frozen=True)
class Change:
    """One recorded input that differs: ``old``/``new`` are None when it was added/removed."""

    key: str
    old: Any
    new: Any


def changes(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[Change]:
    missing = object()
    out = []
    for key in sorted(set(old) | set(new)):
        a, b = old.get(key, missing), new.get(key, missing)
        if a != b:
            out.append(Change(key, None if a is missing else a, None if b is missing else b))
    return out


def _short(value: Any) -> str:
    if value is None:
        return "nothing"
    text = str(value)
    m = _DIGEST.match(text)
    return f"{m.group(1)[:8]}..." if m else text


def _was(change: Change) -> str:
    """`` a -> b``, or `` changed (sha256 a... -> b...)`` for digests."""
    if change.old is None:
        return f" added ({_short(change.new)})"
    if change.new is None:
        return f" removed (was {_short(change.old)})"
    if any(isinstance(v, str) and _DIGEST.match(v) for v in (change.old, change.new)):
        return f" changed (sha256 {_short(change.old)} -> {_short(change.new)})"
    return f" {_short(change.old)} -> {_short(change.new)}"


def _added(change: Change) -> str:
    return "added" if change.old is None else "removed" if change.new is None else "changed"


def _patch_name(recipe: Recipe | None, source: int, patch: int) -> str:
    """The file name of the ``patch``-th patch of the ``source``-th source that has patches."""
    if recipe is not None:
        patched = [s for s in recipe.sources if s.patches]
        if source < len(patched) and patch < len(patched[source].patches):
            return Path(patched[source].patches[patch]).name
    return f"#{patch + 1} of source #{source + 1}"


def reason(change: Change, stage: str, recipe: Recipe | None, target: str = "") -> str:
    """One line for one changed input (an upstream job of ``target`` named as doit names it)."""
    key = change.key
    head, _, rest = key.partition(".")
    if head == "upstream" and target:
        rest = rest.removesuffix(f"@{target}")
    if key == "stage_version":
        return f"stage code version {change.old} -> {change.new}"
    if head == "settings":
        return f"setting `{rest}`{_was(change)}"
    if head == "upstream":
        if change.old is None:
            return f"new upstream {rest}"
        if change.new is None:
            return f"upstream {rest} is no longer read"
        return f"upstream {rest} changed (sha256 {_short(change.old)} -> {_short(change.new)})"
    if head != "inputs":
        return f"`{key}`{_was(change)}"
    parts = rest.split(".")
    first = parts[0]
    if stage == "patch" and first == "patches" and len(parts) >= 4 and parts[2] == "contents" and parts[3].isdigit():
        return f"patch `{_patch_name(recipe, int(parts[1]), int(parts[3]))}` {_added(change)}"
    if first == "recipe_files":
        return f"recipe file `{'.'.join(parts[1:])}` {_added(change)}"
    if first == "script":
        return "the build script (build.sh or meta.yaml build.script) changed"
    if first in ("variant", "environment_variant") and len(parts) > 1:
        return f"variant setting `{parts[1]}`{_was(change)}"
    if first == "tool_version":
        return f"condoit's version{_was(change)}"
    if first in _SETTINGS:
        return f"setting `{first}`{_was(change)}"
    if first == "toolchain":     # {"toolchain": {kind, target, zig...}, "<tool command>": its version}
        if len(parts) > 2 and parts[1] == "toolchain":
            return f"toolchain {'.'.join(parts[2:])}{_was(change)}"
        return f"build tool `{'.'.join(parts[1:])}`{_was(change)}" if len(parts) > 1 else f"toolchain{_was(change)}"
    field = _field(stage, parts)
    if field is not None:
        return f"meta.yaml field `{field}`{_was(change)}"
    return f"input `{rest}`{_was(change)}"


def _field(stage: str, parts: list[str]) -> str | None:
    """The meta.yaml field an input key of ``stage`` comes from, without list indices."""
    dotted = _INDEX.sub("", "." + ".".join(parts))[1:]
    first = parts[0]
    if stage == "compile" and first in _COMPILE_FIELDS:
        return _COMPILE_FIELDS[first]
    if stage == "compile" and first == "outputs":
        return "outputs" + dotted[len("outputs"):]
    if stage == "package" and first == "recipe" and len(parts) > 1:
        if parts[1] == "rendered_text":
            return "(rendered meta.yaml text)"
        return dotted[len("recipe."):]
    if stage == "download" and first == "sources":
        return "source" + dotted[len("sources"):]
    if stage == "extract" and first == "folders":
        return "source.folder"
    if stage == "test" and first.isdigit() and len(parts) > 1:
        return dotted if parts[1] == "test" else f"test files ({dotted})"
    if stage == "channel" and first == "about" and len(parts) > 2:
        return f"about.{'.'.join(parts[2:])} of {parts[1]}"
    return None


def reasons(old: Mapping[str, Any], new: Mapping[str, Any], stage: str, recipe: Recipe | None,
            target: str = "") -> list[str]:
    """The lines that say why a stage whose recorded inputs were ``old`` runs with ``new``;
    one per cause (a list's entries and a field's rendered text are folded into it)."""
    lines = list(dict.fromkeys(reason(c, stage, recipe, target) for c in changes(old, new)))
    # one edit, one line: a changed list shows up entry by entry, with the same field name
    folded: dict[str, str] = {}
    for line in lines:
        m = re.match(r"(meta\.yaml field `[^`]+`)", line)
        key = m.group(1) if m else line
        folded[key] = line if key not in folded else f"{key} changed"
    lines = list(folded.values())
    if any(line.startswith("recipe file `build.sh`") for line in lines):
        lines = [line for line in lines if not line.startswith("the build script")]
    if len(lines) > 1:
        lines = [line for line in lines if "(rendered meta.yaml text)" not in line]
    return lines or ["its inputs changed (no recorded difference: the signature's form changed)"]


def summary(lines: Sequence[str], limit: int = 3) -> str:
    """One line of reasons for the build's output."""
    shown = "; ".join(lines[:limit])
    return shown + (f"; and {len(lines) - limit} more" if len(lines) > limit else "")


def render_explanations(rows: Iterable[tuple[str, str, list[str]]]) -> str:
    """``doit explain`` output: (task, state, reasons) rows, as text."""
    out = []
    current = 0
    for task, state, lines in rows:
        if state == "current":
            current += 1
            continue
        out.append(f"{task}: {state}")
        out.extend(f"    {line}" for line in lines)
    out.append(f"({current} stage(s) up to date)")
    return "\n".join(out)
