"""Permissions every installed file needs, whatever umask or install(1) flags the build used
(conda-build's ``fix_permissions``): readable by all, writable by the owner, and executable
by all when executable by the owner."""
from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Iterable

DIR_BITS = stat.S_IRWXU | stat.S_IRGRP | stat.S_IXGRP | stat.S_IROTH | stat.S_IXOTH
FILE_BITS = stat.S_IRUSR | stat.S_IWUSR | stat.S_IRGRP | stat.S_IROTH
EXEC_BITS = stat.S_IXGRP | stat.S_IXOTH


def wanted_mode(mode: int) -> int:
    new = mode | FILE_BITS
    return new | EXEC_BITS if mode & stat.S_IXUSR else new


def fix_permissions(prefix: Path, files: Iterable[str]) -> tuple[str, ...]:
    """Fix files (not symlinks) and their directories; returns the files changed."""
    changed: list[str] = []
    dirs: set[Path] = set()
    for rel in files:
        full = prefix / rel.rstrip("/")
        for parent in full.relative_to(prefix).parents:
            dirs.add(prefix / parent)
        if rel.endswith("/") or full.is_symlink() or not full.exists():
            continue
        mode = stat.S_IMODE(full.stat().st_mode)
        if wanted_mode(mode) != mode:
            os.chmod(full, wanted_mode(mode))
            changed.append(rel)
    for directory in dirs:
        if directory != prefix and directory.is_dir() and not directory.is_symlink():
            mode = stat.S_IMODE(directory.stat().st_mode)
            if mode | DIR_BITS != mode:
                os.chmod(directory, mode | DIR_BITS)
    return tuple(changed)
