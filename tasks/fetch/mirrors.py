"""Where to look for an archive, in order: configured mirrors first, then the recipe's URLs.

A mirror (``Settings.mirrors``) is a local directory or a URL prefix holding files named by
their sha256 or by their file name. Whatever answers is accepted only if its hash matches.
"""
from __future__ import annotations

from pathlib import Path
from urllib.parse import quote, unquote, urlsplit


def file_name(urls: tuple[str, ...], fn: str | None) -> str:
    """The archive's file name: ``fn:`` if given, else the last part of the first URL."""
    if fn:
        return fn
    for url in urls:
        name = unquote(urlsplit(url).path.rstrip("/").rsplit("/", 1)[-1])
        if name:
            return name
    return "source"


def mirror_prefix(mirror: str) -> str:
    """A mirror as a URL prefix without the trailing slash (local directories become file://)."""
    if "://" in mirror:
        return mirror.rstrip("/")
    return Path(mirror).expanduser().resolve().as_uri()


def candidates(urls: tuple[str, ...], name: str, sha256: str | None,
               mirrors: tuple[str, ...]) -> list[str]:
    """Every URL to try, mirrors (by sha256, then by name) before the recipe's own."""
    found: list[str] = []
    for mirror in mirrors:
        prefix = mirror_prefix(mirror)
        if sha256:
            found.append(f"{prefix}/{sha256}")
        found.append(f"{prefix}/{quote(name)}")
    found += list(urls)
    return list(dict.fromkeys(found))
