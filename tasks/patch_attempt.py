"""One try of a patch at one strip level: what tasks/patching.py records and tasks/patch_report.py
reads to explain a patch that applies nowhere (its own module, so neither imports the other)."""
from __future__ import annotations

from dataclasses import dataclass

STRIP_LEVELS = (1, 0, 2, 3)     # conda-build's order: -p1 first


@dataclass(frozen=True)
class Attempt:
    """One run of patch at one strip level (its output explains a failure)."""

    strip: int
    crlf: bool
    returncode: int
    output: str
