"""Match specs of requirements: ``name [version [build]]``, checked and normalised.

The reference allows 1 to 3 space-separated parts; conda also accepts ``name>=1.2`` and
``name >= 1.2``, which we normalise to ``name >=1.2`` so the name is always the first
word (``model.spec_name`` relies on that).
"""
from __future__ import annotations

import re

_NAME_RE = re.compile(r"^(?:[A-Za-z0-9_.\-]+::)?[A-Za-z0-9_][A-Za-z0-9_.\-+]*$")
# one version atom: an optional operator, then version characters (globs allowed)
_ATOM_RE = re.compile(r"^(?:==|!=|>=|<=|~=|>|<|=)?[A-Za-z0-9_.*+!]+$")
_BUILD_RE = re.compile(r"^[A-Za-z0-9_.*+!]+$")
_GLUED_RE = re.compile(r"^([A-Za-z0-9_.\-+:]*?[A-Za-z0-9_])(==|!=|>=|<=|~=|>|<|=)(.*)$")
_OP_SPACE_RE = re.compile(r"(==|!=|>=|<=|~=|>|<)\s+(?=[0-9A-Za-z*])")
_COMMA_SPACE_RE = re.compile(r"\s*([,|])\s*")


class SpecError(ValueError):
    def __init__(self, message: str, hint: str = ""):
        super().__init__(message)
        self.message, self.hint = message, hint


def normalize(spec: str) -> str:
    """Checked, normalised match spec; raise SpecError with a hint when it is not one."""
    text = str(spec).strip()
    if _NAME_RE.match(text):                # the common case: a bare package name
        return text
    if not text:
        raise SpecError("empty requirement", "remove the empty '-' entry or give a package name")
    if "[" in text:
        head, _, bracket = text.partition("[")
        if not bracket.rstrip().endswith("]"):
            raise SpecError(f"bad match spec '{text}': unclosed '['", "write name[key=value]")
        _check_name(head.strip(), text)
        return text
    text = _OP_SPACE_RE.sub(r"\1", text)
    text = _COMMA_SPACE_RE.sub(r"\1", text)
    parts = text.split()
    glued = _GLUED_RE.match(parts[0])
    if glued:                               # numpy>=1.11  ->  numpy >=1.11
        name, op, rest = glued.groups()
        parts = [name, op + rest] + parts[1:]
    if len(parts) > 3:
        raise SpecError(f"bad match spec '{spec}': {len(parts)} parts, expected 1 to 3",
                        "a match spec is 'name [version [build]]', e.g. 'zlib >=1.2,<2' or 'python 3.11.* *_cpython'")
    _check_name(parts[0], spec)
    if len(parts) >= 2:
        _check_version(parts[1], spec)
    if len(parts) == 3 and not _BUILD_RE.match(parts[2]):
        raise SpecError(f"bad match spec '{spec}': invalid build string '{parts[2]}'",
                        "the third part is a build string such as 'h1234_0' or '*_cpython'")
    return " ".join(parts)


def _check_name(name: str, spec: str) -> None:
    if not _NAME_RE.match(name):
        raise SpecError(f"bad match spec '{spec}': invalid package name '{name}'",
                        "package names use lower-case letters, digits and - _ . +")


def _check_version(version: str, spec: str) -> None:
    depth = 0
    for ch in version:
        depth += {"(": 1, ")": -1}.get(ch, 0)
        if depth < 0:
            break
    if depth != 0:
        raise SpecError(f"bad match spec '{spec}': unbalanced parentheses in '{version}'")
    for atom in re.split(r"[,|]", version.replace("(", "").replace(")", "")):
        if not atom:
            raise SpecError(f"bad match spec '{spec}': empty constraint in '{version}'",
                            "remove the stray ',' or '|'")
        if not _ATOM_RE.match(atom):
            raise SpecError(f"bad match spec '{spec}': invalid version constraint '{atom}'",
                            "use e.g. '1.2.*', '>=1.2,<2', '1.0|1.4*'")


_PLAIN_VERSION_RE = re.compile(r"^[A-Za-z0-9_.+!]+$")


def client_spec(spec: str) -> str:
    """The spec as a strict conda client (py-rattler) reads it, with conda's meaning kept.

    conda reads ``name 1.2`` as ``name 1.2.*`` and, with a build string, ``name 1.2 b``
    as the exact version; py-rattler's strict parser wants that spelled out.
    """
    parts = normalize(spec).split()
    if len(parts) >= 2 and _PLAIN_VERSION_RE.match(parts[1]):
        parts[1] = f"{parts[1]}.*" if len(parts) == 2 else f"=={parts[1]}"
    return " ".join(parts)
