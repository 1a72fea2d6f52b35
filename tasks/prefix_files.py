"""Listing and digesting the files of a prefix (what a build added)."""
from __future__ import annotations

import hashlib
import os
import shutil
from pathlib import Path
from typing import Iterable

from .fsutil import sha256_file

# Written by conda clients, never part of a package.
IGNORED_TOP = ("conda-meta",)


def list_prefix(prefix: Path) -> list[str]:
    """Relative paths of files and symlinks under prefix.

    Empty directories are left out, as conda-build does: conda clients cannot link them
    (recipes that need one put a `.keep` file in it).
    """
    out: list[str] = []
    prefix = Path(prefix)
    for root, dirs, files in os.walk(prefix):
        rel_root = os.path.relpath(root, prefix)
        if rel_root == ".":
            dirs[:] = [d for d in dirs if d not in IGNORED_TOP]
        for d in list(dirs):
            full = os.path.join(root, d)
            if os.path.islink(full):
                out.append(os.path.normpath(os.path.join(rel_root, d)))
                dirs.remove(d)
        for name in files:
            out.append(os.path.normpath(os.path.join(rel_root, name)))
    return sorted(out)


def new_files_digest(prefix: Path, files: Iterable[str]) -> str:
    """Digest of the content of the given files (paths, modes, link targets, bytes).

    Portable: ``prefix`` itself, wherever it is written in a file or a link target, counts
    as ``$PREFIX``, so a build into another cache's host prefix has the same digest (the
    package stage replaces the host prefix by a canonical one anyway).
    """
    spellings = {str(prefix).rstrip("/"), os.path.realpath(prefix).rstrip("/")}
    needles = sorted((s.encode() for s in spellings if len(s) > 1), key=len, reverse=True)
    h = hashlib.sha256()
    for rel in sorted(files):
        full = Path(prefix) / rel
        if full.is_symlink():
            target = os.readlink(full).encode()
            h.update(f"L {rel} ".encode() + _without(target, needles) + b"\n")
        else:
            mode = full.stat().st_mode & 0o777
            h.update(f"F {rel} {mode:o} {_canonical_sha256(full, needles)}\n".encode())
    return h.hexdigest()


def _without(data: bytes, needles: list[bytes]) -> bytes:
    for needle in needles:
        data = data.replace(needle, b"$PREFIX")
    return data


def _canonical_sha256(path: Path, needles: list[bytes], chunk: int = 1 << 20) -> str:
    """sha256 of a file's bytes with every needle replaced by ``$PREFIX`` (streamed)."""
    if not needles:
        return sha256_file(path)
    h = hashlib.sha256()
    keep = max(len(n) for n in needles) - 1     # a needle cut by a chunk border waits for the rest
    carry = b""
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(chunk), b""):
            data = _without(carry + block, needles)
            carry = data[len(data) - keep:] if len(data) > keep else data
            h.update(data[:len(data) - len(carry)])
    h.update(carry)
    return h.hexdigest()


def copy_files(src_root: Path, dst_root: Path, files: Iterable[str]) -> None:
    """Copy the listed files (symlinks as symlinks) from one prefix to the same places in another."""
    for rel in files:
        src, dst = Path(src_root) / rel, Path(dst_root) / rel
        dst.parent.mkdir(parents=True, exist_ok=True)
        if src.is_symlink():
            os.symlink(os.readlink(src), dst)
        else:
            shutil.copy2(src, dst)
