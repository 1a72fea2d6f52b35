"""Which files embed the host prefix, in text or binary mode, and which of them get patched.

The installer replaces the recorded placeholder (the long host prefix the build ran in)
with the install prefix: text files may grow, binary ones are patched in place, NUL-padded.
Detection and the recipe's options follow conda-build 3 (``build.py``:
``get_files_with_prefix`` and ``record_prefix_files``).
"""
from __future__ import annotations

import mmap
import os
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Sequence

from ..model import Build
from .globs import matches

# Packages from before conda-build 3 use this placeholder; conda-build still looks for it.
LEGACY_PLACEHOLDER = "/opt/anaconda1anaconda2anaconda3"
# conda-build never patches compiled Python (the installer recompiles what it needs).
NEVER_PATCHED = (".pyc", ".pyo")


@dataclass(frozen=True)
class PrefixFile:
    """One entry of info/has_prefix and of paths.json's prefix_placeholder/file_mode."""

    path: str            # relative path in the prefix
    placeholder: str     # the prefix string found (the host prefix)
    file_mode: str       # "text" | "binary"


@dataclass(frozen=True)
class ScanHit:
    """What one file holds: the first placeholder found (if any) and leaked build paths."""

    path: str
    placeholder: str | None
    mode: str                           # "text" | "binary", as detected
    leaks: tuple[str, ...] = ()


def file_mode(data: bytes | mmap.mmap) -> str:
    """conda-build's rule: a NUL byte anywhere makes a file binary."""
    return "binary" if data.find(b"\x00") != -1 else "text"


def scan(prefix: Path, files: Iterable[str], placeholders: Sequence[str],
         leaks: Sequence[str] = ()) -> tuple[ScanHit, ...]:
    """Files under ``prefix`` holding a placeholder or a leak string (regular files only)."""
    needles = [p.encode() for p in placeholders]
    leak_needles = [(s, s.encode()) for s in leaks if s]
    shortest = min((len(n) for n in needles + [b for _, b in leak_needles]), default=1)
    hits: list[ScanHit] = []
    root = str(prefix)
    for rel in files:
        if rel.endswith("/") or rel.endswith(NEVER_PATCHED):
            continue
        full = os.path.join(root, rel)
        st = os.lstat(full)
        if not stat.S_ISREG(st.st_mode) or st.st_size < shortest:
            continue
        with open(full, "rb") as fh, mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as data:
            found = next((p for p, n in zip(placeholders, needles) if data.find(n) != -1), None)
            leaked = tuple(s for s, n in leak_needles if data.find(n) != -1)
            if found is None and not leaked:
                continue
            hits.append(ScanHit(rel, found, file_mode(data), leaked))
    return tuple(hits)


@dataclass(frozen=True)
class PrefixRules:
    """The recipe's say on prefix patching (build/has_prefix_files and friends)."""

    ignore_all: bool = False            # ignore_prefix_files: true
    ignore: tuple[str, ...] = ()        # ignore_prefix_files: [paths]
    text: tuple[str, ...] = ()          # has_prefix_files: patch as text (and only these text files)
    binary: tuple[str, ...] = ()        # binary_has_prefix_files: patch as binary
    detect_binary: bool = True          # detect_binary_files_with_prefix

    @classmethod
    def from_build(cls, build: Build) -> "PrefixRules":
        ignore = build.ignore_prefix_files
        return cls(ignore_all=ignore is True, ignore=() if isinstance(ignore, bool) else tuple(ignore),
                   text=tuple(build.has_prefix_files), binary=tuple(build.binary_has_prefix_files),
                   detect_binary=_detect_binary(build))

    def mode_for(self, path: str, detected: str) -> str | None:
        """The mode the file is patched in, or None when it is left alone.

        A file in binary_has_prefix_files is binary; a detected binary is patched when
        detection is on; a file in has_prefix_files is text; and a detected text file is
        patched unless has_prefix_files names only some files (then only those).
        """
        if self.ignore_all or matches(path, self.ignore):
            return None
        if matches(path, self.binary):
            return "binary"
        if detected == "binary" and self.detect_binary:
            return "binary"
        if matches(path, self.text):
            return "text"
        if detected == "text" and not self.text:
            return "text"
        return None


def select(hits: Iterable[ScanHit], rules: PrefixRules) -> tuple[tuple[PrefixFile, ...], tuple[str, ...]]:
    """(entries to record, problems): a listed file without the prefix is an error, as in conda-build."""
    entries: list[PrefixFile] = []
    for hit in hits:
        mode = rules.mode_for(hit.path, hit.mode) if hit.placeholder else None
        if mode is not None:
            entries.append(PrefixFile(hit.path, hit.placeholder, mode))
    problems = []
    for option, patterns in (("has_prefix_files", rules.text), ("binary_has_prefix_files", rules.binary)):
        for pattern in patterns:
            if not any(matches(e.path, [pattern]) for e in entries):
                problems.append(f"{pattern}: listed in build/{option}, but no packaged file there "
                                f"holds the host prefix (or build/ignore_prefix_files excludes it)")
    return tuple(sorted(entries, key=lambda e: e.path)), tuple(problems)


def _detect_binary(build: Build) -> bool:
    """conda-build's default: detect binaries unless the recipe lists them itself."""
    if build.detect_binary_files_with_prefix is not None:
        return build.detect_binary_files_with_prefix
    return not build.binary_has_prefix_files
