"""One matcher for the path patterns recipes give (no_link, binary_relocation, ignore_prefix_files,
missing_dso_whitelist, always_include_files), so every option reads patterns the same way."""
from __future__ import annotations

from fnmatch import fnmatchcase
from typing import Iterable, Sequence


def matches(path: str, patterns: Iterable[str]) -> bool:
    """Whether ``path`` (relative, '/'-separated) matches one of ``patterns``.

    Like conda-build: fnmatch patterns (``*`` also crosses '/'), an exact path, or a
    directory that contains the path. A leading ``**/`` also matches at the top level.
    """
    for pattern in patterns:
        pattern = pattern.strip()
        if not pattern:
            continue
        if path == pattern.rstrip("/") or path.startswith(pattern.rstrip("/") + "/"):
            return True
        if fnmatchcase(path, pattern):
            return True
        if pattern.startswith("**/") and fnmatchcase(path, pattern[3:]):
            return True
    return False


def select(paths: Iterable[str], patterns: Sequence[str]) -> tuple[str, ...]:
    """The paths that match (in the given order)."""
    return tuple(p for p in paths if matches(p, patterns)) if patterns else ()
