"""Symlinks that survive the move: an absolute link into the host prefix becomes relative; one
leaving the prefix is an error (it would dangle, or reach into the user's machine), as in
conda-build's ``check_symlinks``."""
from __future__ import annotations

import os
import posixpath
from pathlib import Path
from typing import Iterable, Sequence


def fix_symlinks(prefix: Path, files: Iterable[str],
                 placeholders: Sequence[str]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Returns (log lines of links rewritten, problems). ``placeholders``: the prefix's names."""
    log: list[str] = []
    problems: list[str] = []
    roots = [posixpath.normpath(p) for p in placeholders] + [posixpath.normpath(str(prefix))]
    for rel in files:
        full = os.path.join(str(prefix), rel.rstrip("/"))
        if not os.path.islink(full):
            continue
        target = os.readlink(full)
        if target.startswith("/"):
            norm = posixpath.normpath(target)
            root = next((r for r in roots if norm == r or norm.startswith(r + "/")), None)
            if root is None:
                problems.append(f"{rel}: symlink to {target}, outside the prefix")
                continue
            new = posixpath.relpath(posixpath.join("/", posixpath.relpath(norm, root)),
                                    posixpath.join("/", posixpath.dirname(rel)))
            os.unlink(full)
            os.symlink(new, full)
            log.append(f"{rel}: symlink {target} -> {new}")
        else:
            resolved = posixpath.normpath(posixpath.join(posixpath.dirname(rel), target))
            if resolved == ".." or resolved.startswith("../"):
                problems.append(f"{rel}: symlink to {target}, which leaves the prefix")
    return tuple(log), tuple(problems)
