"""Refuse archive members that would land outside the tree they are extracted into.

Checked before a member is written: absolute names, ``..`` escapes, symlinks and
hardlinks whose targets leave the tree, device files and fifos, and (at write time)
paths that would pass through a symlink out of the tree.
"""
from __future__ import annotations

import os
import posixpath
from pathlib import Path

from ..errors import CondoitError


class UnsafeArchive(CondoitError):
    """An archive member that would escape the extraction tree (named in the message)."""

    def __init__(self, archive: str, member: str, reason: str):
        self.archive, self.member, self.reason = archive, member, reason
        super().__init__(f"{archive}: refusing member '{member}': {reason}")


def _escapes(relative: str) -> bool:
    norm = posixpath.normpath(relative)
    return norm == ".." or norm.startswith("../")


def check_name(archive: str, name: str) -> None:
    if name.startswith("/") or (len(name) > 1 and name[1] == ":") or name.startswith("\\"):
        raise UnsafeArchive(archive, name, "absolute path")
    if _escapes(name.replace("\\", "/")):
        raise UnsafeArchive(archive, name, "path leaves the extraction tree ('..')")


def check_symlink(archive: str, name: str, target: str) -> None:
    """A symlink's target, taken relative to the link's directory, must stay in the tree."""
    if target.startswith("/"):
        raise UnsafeArchive(archive, name, f"symlink to the absolute path '{target}'")
    if _escapes(posixpath.join(posixpath.dirname(name), target)):
        raise UnsafeArchive(archive, name, f"symlink '{target}' points outside the extraction tree")


def check_hardlink(archive: str, name: str, target: str) -> None:
    """A hardlink's target is named from the archive root and must stay in the tree."""
    if target.startswith("/") or _escapes(target):
        raise UnsafeArchive(archive, name, f"hardlink to '{target}' outside the extraction tree")


def check_special(archive: str, name: str, what: str) -> None:
    raise UnsafeArchive(archive, name, f"{what} (source archives hold files, directories and links)")


def check_destination(archive: str, name: str, root: Path, path: Path) -> None:
    """The real place a member would be written (after symlinks on the way) is in the tree."""
    real_root = os.path.realpath(root)
    real_parent = os.path.realpath(path.parent)
    if os.path.commonpath([real_root, real_parent]) != real_root:
        raise UnsafeArchive(archive, name, "path goes through a symlink that leaves the extraction tree")
