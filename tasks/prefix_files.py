"""Listing and copying the files of a prefix (what a build added); their digest is
``fsutil.tree_digest(prefix, files=files, relocatable=True)``."""
from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Iterable


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


def copy_files(src_root: Path, dst_root: Path, files: Iterable[str]) -> None:
    """Copy the listed files (symlinks as symlinks) from one prefix to the same places in another."""
    for rel in files:
        src, dst = Path(src_root) / rel, Path(dst_root) / rel
        dst.parent.mkdir(parents=True, exist_ok=True)
        if src.is_symlink():
            os.symlink(os.readlink(src), dst)
        else:
            shutil.copy2(src, dst)
