"""Packages that do not depend on where or when they were built.

The host prefix (``Layout.host_prefix``) and the tree build.sh ran in
(``Layout.build_source``) lie inside the cache, so their paths end up in binaries (an
RPATH, a compiled-in prefix, OpenSSL's record of its compiler flags), scripts and
metadata, and two caches would give different packages. Before relocation the package
stage replaces each, in every packaged file and symlink target, by a canonical string of
the same length (``paths.canonical_prefix``): binaries keep their layout byte for byte.
The canonical host prefix is what the package records as its placeholder (the installer
replaces it by the install prefix); the canonical build tree is inert text.

Static archives get the headers ``ar D`` (deterministic mode) writes: some build systems
(ncurses: ``ar -curvU``) store each member's file time, owner and mode.
"""
from __future__ import annotations

import os
import shutil
import stat
from pathlib import Path
from typing import Iterable, Sequence

from ..fsutil import atomic_file

AR_MAGIC = b"!<arch>\n"
_AR_HEADER = 60
_AR_SPECIAL = (b"/", b"//", b"/SYM64/")  # symbol tables and the long-name table


def canonicalize(root: Path, files: Iterable[str], replacements: Sequence[tuple[str, str]]) -> tuple[str, ...]:
    """Apply ``(real, canonical)`` path replacements to the files under ``root``, and make
    static archives deterministic; returns the files changed.

    A path is replaced in binary files only by a string of the same length (a different
    length would move every offset after it); in text files (no NUL byte) and symlink
    targets in any case. A real path's resolved form, when it differs (a symlinked cache),
    is replaced too.
    """
    pairs: list[tuple[str, str]] = []
    for real, canonical in replacements:
        pairs.append((real, canonical))
        if os.path.realpath(real) != real:
            pairs.append((os.path.realpath(real), canonical))
    needles = [(r.encode(), c.encode()) for r, c in pairs]
    changed: list[str] = []
    for rel in sorted(set(files)):
        full = Path(root) / rel.rstrip("/")
        st = os.lstat(full)
        if stat.S_ISLNK(st.st_mode):
            target = os.readlink(full)
            new_target = _replace_head(target, pairs)
            if new_target != target:
                full.unlink()
                os.symlink(new_target, full)
                changed.append(rel)
        elif stat.S_ISREG(st.st_mode):
            data = full.read_bytes()
            new = _replace_bytes(data, needles)
            if new.startswith(AR_MAGIC):
                new = deterministic_ar(new)
            if new != data:
                _rewrite(full, new)
                changed.append(rel)
    return tuple(changed)


def _replace_head(target: str, pairs: list[tuple[str, str]]) -> str:
    for real, canonical in pairs:
        if target == real or target.startswith(real.rstrip("/") + "/"):
            return canonical + target[len(real):]
    return target


def _replace_bytes(data: bytes, needles: list[tuple[bytes, bytes]]) -> bytes:
    text = b"\0" not in data
    for old, new in needles:
        if old in data and (text or len(old) == len(new)):
            data = data.replace(old, new)
    return data


def deterministic_ar(data: bytes) -> bytes:
    """The archive with every member's time, owner and group 0 and mode 644, and the symbol
    table's time 0 (as ``ar D`` writes them).

    Anything that does not parse as a plain ``!<arch>`` archive is returned unchanged.
    """
    out = bytearray(data)
    pos = len(AR_MAGIC)
    while pos + _AR_HEADER <= len(data):
        header = data[pos:pos + _AR_HEADER]
        if header[58:60] != b"`\n":
            return data
        try:
            size = int(header[48:58].decode("ascii").strip() or "0")
        except (UnicodeDecodeError, ValueError):
            return data
        if header[0:16].rstrip(b" ") not in _AR_SPECIAL:
            out[pos + 16:pos + 48] = b"0".ljust(12) + b"0".ljust(6) + b"0".ljust(6) + b"644".ljust(8)
        else:  # a symbol table written with `ar U` has the archive's time: 0 where not blank
            for start, end in ((16, 28), (28, 34), (34, 40), (40, 48)):
                if header[start:end].strip():
                    out[pos + start:pos + end] = b"0".ljust(end - start)
        pos += _AR_HEADER + size + (size & 1)
    return bytes(out) if pos == len(data) else data


def _rewrite(path: Path, data: bytes) -> None:
    """New content for ``path``, same mode (written beside it and renamed: a read-only file too)."""
    with atomic_file(path) as tmp:
        tmp.write_bytes(data)
        shutil.copymode(path, tmp)
