"""Unpack a downloaded archive safely: tar (gz, bz2, xz, zst), zip, or a plain file as is.

Members that would escape the tree are refused by name (see ``safety``), and the single
top-level directory is hoisted like conda-build does.
"""
from __future__ import annotations

import os
import posixpath
import shutil
import stat
import tarfile
import zipfile
from pathlib import Path

from . import safety
from .formats import archive_kind, open_tar
from .safety import UnsafeArchive
from .tree import SourceCollision, hoisted, merge_into, subdir

__all__ = ["unpack", "UnsafeArchive", "SourceCollision", "merge_into", "subdir"]


def unpack(archive: Path, name: str, into: Path, scratch: Path) -> None:
    """Make ``into`` (which must not exist) hold the source in ``archive``.

    ``name`` is the archive's file name (for plain files, and for messages); ``scratch``
    is an empty directory on the same filesystem used for the raw extraction.
    """
    kind = archive_kind(archive, name)
    if kind is None:
        into.mkdir(parents=True)
        shutil.copyfile(archive, into / name)
        return
    raw = scratch / "raw"
    raw.mkdir(parents=True)
    (_extract_tar if kind == "tar" else _extract_zip)(archive, name, raw)
    os.rename(hoisted(raw), into)


def _extract_tar(archive: Path, name: str, dest: Path) -> None:
    links: set[str] = set()     # the symlinks extracted so far (normalised names)

    def member_filter(member: tarfile.TarInfo, path: str) -> tarfile.TarInfo:
        safety.check_name(name, member.name)
        if member.issym():
            safety.check_symlink(name, member.name, member.linkname)
        elif member.islnk():
            safety.check_hardlink(name, member.name, member.linkname)
        elif member.ischr() or member.isblk():
            safety.check_special(name, member.name, "device file")
        elif member.isfifo():
            safety.check_special(name, member.name, "fifo")
        where = posixpath.normpath(member.name)
        if not (member.isreg() or member.isdir()) or _through_link(where, links):
            # tarfile's data filter resolves the real place (two realpath calls): for links, and
            # for paths through a link; the tree is new, so any other path is what its name says
            try:
                member = tarfile.data_filter(member, path)  # realpath checks, no setuid, no chown
            except tarfile.FilterError as exc:
                raise UnsafeArchive(name, member.name, str(exc)) from None
            if member.issym():
                links.add(where)
        else:
            member = member.replace(mode=_data_mode(member), uid=None, gid=None, uname=None, gname=None,
                                    deep=False)
        if member.mode is not None and not member.issym():
            # Owner may always read and write (and enter directories): later stages copy and patch.
            member = member.replace(mode=member.mode | (0o700 if member.isdir() else 0o600), deep=False)
        return member

    with open_tar(archive) as tar:
        tar.extractall(dest, filter=member_filter)


def _through_link(where: str, links: set[str]) -> bool:
    """Whether ``where`` is, or lies below, one of the extracted symlinks."""
    if not links:
        return False
    parts = where.split("/")
    return any("/".join(parts[:i]) in links for i in range(1, len(parts) + 1))


def _data_mode(member: tarfile.TarInfo) -> int | None:
    """The permission bits of a file or directory from a source archive (PEP 706's "data"
    rules): directories get the default mode; files lose set-id and sticky bits and group or
    other write, keep execute only where the owner may execute, and the owner may read and write."""
    if member.isdir() or member.mode is None:
        return None
    mode = member.mode & 0o755
    return (mode if mode & 0o100 else mode & ~0o111) | 0o600


def _extract_zip(archive: Path, name: str, dest: Path) -> None:
    with zipfile.ZipFile(archive) as zf:
        for info in zf.infolist():
            member = info.filename
            safety.check_name(name, member)
            path = dest.joinpath(*[p for p in member.split("/") if p and p != "."])
            mode = info.external_attr >> 16
            if stat.S_ISLNK(mode):
                target = zf.read(info).decode("utf-8")
                safety.check_symlink(name, member.rstrip("/"), target)
                safety.check_destination(name, member, dest, path)
                path.parent.mkdir(parents=True, exist_ok=True)
                os.symlink(target, path)
                continue
            safety.check_destination(name, member, dest, path)
            if info.is_dir():
                path.mkdir(parents=True, exist_ok=True)
                continue
            path.parent.mkdir(parents=True, exist_ok=True)
            with zf.open(info) as src, open(path, "wb") as out:
                shutil.copyfileobj(src, out, 1 << 20)
            os.chmod(path, (mode & 0o777 | 0o600) if mode & 0o777 else 0o644)
