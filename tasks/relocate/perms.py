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
    """Fix files (not symlinks) and the directories holding them; returns the files changed."""
    root = str(prefix)
    changed: list[str] = []
    dirs: set[str] = set()
    for rel in files:
        rel = rel.rstrip("/")
        parent = os.path.dirname(rel)
        while parent and parent not in dirs:
            dirs.add(parent)
            parent = os.path.dirname(parent)
        full = os.path.join(root, rel)
        try:
            st = os.lstat(full)
        except FileNotFoundError:
            continue
        if not stat.S_ISREG(st.st_mode):
            continue
        mode = stat.S_IMODE(st.st_mode)
        if wanted_mode(mode) != mode:
            os.chmod(full, wanted_mode(mode))
            changed.append(rel)
    for rel in dirs:
        full = os.path.join(root, rel)
        st = os.lstat(full)
        if stat.S_ISDIR(st.st_mode) and stat.S_IMODE(st.st_mode) | DIR_BITS != stat.S_IMODE(st.st_mode):
            os.chmod(full, stat.S_IMODE(st.st_mode) | DIR_BITS)
    return tuple(changed)
