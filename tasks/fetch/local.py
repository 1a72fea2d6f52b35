"""Sources already on this machine: ``file://`` URLs (and local mirrors) and ``path:`` trees."""
from __future__ import annotations

import shutil
from pathlib import Path
from urllib.parse import unquote, urlsplit

from ..fsutil import sha256_file, tree_digest
from .base import VCS_DIRS, FetchError
from .http import UrlFailed


def file_url_path(url: str) -> Path:
    """The local path of a ``file://`` URL."""
    return Path(unquote(urlsplit(url).path))


def download_file_url(url: str, dest: Path) -> None:
    """Copy the file a ``file://`` URL names; a missing file is a (permanent) URL failure."""
    path = file_url_path(url)
    if not path.is_file():
        raise UrlFailed(url, "no such file", transient=False)
    shutil.copyfile(path, dest)


def path_digest(path: str) -> str:
    """Content digest of a ``path:`` source, so edits in the local tree re-run its stages."""
    local = Path(path)
    if local.is_dir():
        return tree_digest(local, ignore=VCS_DIRS)
    if local.is_file():
        return sha256_file(local)
    return "missing"


def download_path(path: str) -> dict:
    """``path:`` sources need no download: their identity is the digest of what is there."""
    digest = path_digest(path)
    if digest == "missing":
        raise FetchError(f"path source {path} does not exist")
    return {"kind": "path", "tree": digest}


def place_path(path: str, dest: Path) -> None:
    """Copy a local tree (or file) into the work tree, keeping symlinks as they are."""
    local = Path(path)
    dest.mkdir(parents=True, exist_ok=True)
    if local.is_dir():
        shutil.copytree(local, dest, symlinks=True, dirs_exist_ok=True)
    elif local.is_file():
        shutil.copy2(local, dest / local.name)
    else:
        raise FetchError(f"path source {path} does not exist")
