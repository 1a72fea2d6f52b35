"""Placing unpacked sources: conda-build's top-directory hoist, and merging several sources."""
from __future__ import annotations

import os
from pathlib import Path, PurePosixPath

from ..errors import CondoitError


class SourceCollision(CondoitError):
    """Two sources put different things at one path."""


def hoisted(extracted: Path) -> Path:
    """The directory whose contents are the source: the one top-level directory, if alone."""
    entries = list(extracted.iterdir())
    if len(entries) == 1 and entries[0].is_dir() and not entries[0].is_symlink():
        return entries[0]
    return extracted


def subdir(root: Path, folder: str | None) -> Path:
    """``root/folder`` for a source's ``folder:``, which must stay inside the work tree."""
    if not folder:
        return root
    rel = PurePosixPath(folder)
    if rel.is_absolute() or ".." in rel.parts:
        raise CondoitError(f"source folder '{folder}' must be a relative path inside the work tree")
    return root.joinpath(*rel.parts)


def merge_into(src: Path, dest: Path, root: Path, label: str) -> None:
    """Move ``src``'s contents into ``dest``: directories merge, a file met twice is an error."""
    if not dest.exists() and not dest.is_symlink():
        dest.parent.mkdir(parents=True, exist_ok=True)
        os.rename(src, dest)
        return
    for entry in sorted(src.iterdir()):
        target = dest / entry.name
        if not target.exists() and not target.is_symlink():
            os.rename(entry, target)
        elif _real_dir(entry) and _real_dir(target):
            merge_into(entry, target, root, label)
        else:
            raise SourceCollision(f"{label} would overwrite '{target.relative_to(root)}' placed by an "
                                  "earlier source; give one of them a `folder:`")


def _real_dir(path: Path) -> bool:
    return path.is_dir() and not path.is_symlink()
