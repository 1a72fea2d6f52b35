"""Does a requirement accept the version the stack builds? (``foo 2.0`` against ``foo 1.0``)

A build/host/run requirement on a package of the stack is linked to the recipe that
makes it; when its version constraint excludes the version that recipe builds, the link
would be to the wrong version (and the solver would fail later, far from the cause). The
constraint is read with conda's meaning (``foo 1.2`` is ``1.2.*``) by py-rattler, the
client that installs the packages, imported only when a constrained requirement names a
package of the stack.
"""
from __future__ import annotations

from functools import lru_cache

from .matchspec import SpecError, client_spec


@lru_cache(maxsize=4096)
def accepts(spec: str, version: str) -> bool:
    """Whether the version part of ``spec`` accepts ``version`` (True when it cannot tell)."""
    try:
        parts = client_spec(spec).split()
    except SpecError:
        return True
    if len(parts) < 2 or parts[1] in ("*", ""):
        return True
    if "__condoit_pin_" in parts[1] or "@" in parts[1]:
        return True                         # an unresolved pin token or marker: nothing to check
    simple = _simple_accepts(parts[1], version)
    if simple is not None:
        return simple
    try:
        from rattler import Version, VersionSpec
        return bool(VersionSpec(parts[1]).matches(Version(version)))
    except Exception:  # noqa: BLE001 - a spec or version rattler cannot read is not ours to judge here
        return True


_OPERATORS = ("==", "!=", ">=", "<=", ">", "<")


def _release(text: str) -> tuple[int, ...] | None:
    """``1.10.2`` -> (1, 10, 2); None for anything but dotted numbers."""
    bits = text.split(".")
    return tuple(int(b) for b in bits) if all(b.isdigit() for b in bits) else None


def _padded(a: tuple[int, ...], b: tuple[int, ...]) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """conda compares 1.0 and 1.0.0 as equal: pad the shorter with zeros."""
    n = max(len(a), len(b))
    return a + (0,) * (n - len(a)), b + (0,) * (n - len(b))


def _simple_accepts(constraint: str, version: str) -> bool | None:
    """The common constraints (``>=6.4,<7.0a0``, ``1.2.*``, ``==3.0.20``, ``1.2|1.4``) on a
    release version, without loading py-rattler on every `doit` call; None when unsure."""
    have = _release(version)
    if have is None:
        return None
    for alternative in constraint.split("|"):
        verdicts = [_one(term.strip(), have) for term in alternative.split(",")]
        if any(v is None for v in verdicts):
            return None
        if all(verdicts):
            return True
    return False


def _one(term: str, have: tuple[int, ...]) -> bool | None:
    op = next((o for o in _OPERATORS if term.startswith(o)), "")
    text = term[len(op):]
    if text.endswith(".*"):
        if op not in ("", "=="):
            return None
        want = _release(text[:-2])
        return None if want is None else have[:len(want)] == want
    # ``<7.0a0`` / ``>=7.0a0``: the first pre-release of 7.0, so for a release the same as 7.0
    if text.endswith("a0") and op in ("<", ">="):
        text = text[:-2]
    want = _release(text)
    if want is None:
        return None
    op = op or "=="          # client_spec already spelt conda's fuzzy ``foo 1.2`` as 1.2.*
    a, b = _padded(have, want)
    return {"==": a == b, "!=": a != b, ">=": a >= b, "<=": a <= b, ">": a > b, "<": a < b}[op]
