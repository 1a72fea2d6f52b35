"""``file://`` URLs (recipe URLs and local mirrors): files already on this machine."""
from __future__ import annotations

import shutil
from pathlib import Path
from urllib.parse import unquote, urlsplit

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
