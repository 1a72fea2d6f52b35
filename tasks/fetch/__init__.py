"""Sources: one fetcher per kind, each able to ``download`` (into the cache) and ``place``
(from the cache into a work tree, without network).

``download`` returns the source's content identity (archive sha256, commit id, tree digest)
as plain data for the download stamp; ``place`` and ``cached_path`` get that record back.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from ..model import Source
from ..paths import Layout
from . import git, hg, local, svn
from .base import VCS_DIRS, FetchContext, FetchError
from .url import download_url_source

__all__ = ["VCS_DIRS", "FetchContext", "FetchError", "download_inputs", "download", "place",
           "cached_path"]

# Fields of a source that say where its content comes from (not where it goes or how it is patched).
_NOT_ORIGIN = frozenset({"folder", "patches", "line"})


def download_inputs(source: Source) -> dict[str, Any]:
    """The part of a source the download depends on; a path source adds its content digest."""
    data = {f.name: getattr(source, f.name) for f in dataclasses.fields(source)
            if f.name not in _NOT_ORIGIN and getattr(source, f.name) not in (None, (), False)}
    data["urls"] = list(source.urls)
    if source.kind == "path" and source.path:
        data["path_digest"] = local.path_digest(source.path)
    return data


@dataclass(frozen=True)
class _Kind:
    download: Callable[[Source, FetchContext], dict]
    place: Callable[[Source, dict, Path, FetchContext], None]
    cached: Callable[[Source, dict, Layout], Path | None]   # what the download left in the cache


def _place_url(source: Source, fetched: dict, into: Path, fctx: FetchContext) -> None:
    from ..unpack import unpack
    scratch = into.with_name(into.name + ".unpack")
    scratch.mkdir()
    unpack(fctx.layout.download(fetched["sha256"]), fetched["name"], into, scratch)


def _place_none(source: Source, fetched: dict, into: Path, fctx: FetchContext) -> None:
    into.mkdir(parents=True)


_KINDS: dict[str, _Kind] = {
    "url": _Kind(download_url_source, _place_url,
                 lambda s, r, layout: layout.download(r["sha256"])),
    "git": _Kind(git.download_git, git.place_git,
                 lambda s, r, layout: git.repo_dir(layout, str(s.git_url))),
    "hg": _Kind(hg.download_hg, hg.place_hg,
                lambda s, r, layout: hg.repo_dir(layout, str(s.hg_url))),
    "svn": _Kind(svn.download_svn, svn.place_svn,
                 lambda s, r, layout: svn.checkout_dir(layout, s)),
    "path": _Kind(lambda s, f: local.download_path(str(s.path)),
                  lambda s, r, into, f: local.place_path(str(s.path), into),
                  lambda s, r, layout: None),
    "none": _Kind(lambda s, f: {"kind": "none"}, _place_none, lambda s, r, layout: None),
}


def _kind(source: Source) -> _Kind:
    try:
        return _KINDS[source.kind]
    except KeyError:
        raise FetchError(f"unknown source kind '{source.kind}' (meta.yaml line {source.line})") from None


def download(source: Source, fctx: FetchContext) -> dict:
    """Bring the source into the cache; returns its content identity (JSON data)."""
    return _kind(source).download(source, fctx)


def place(source: Source, fetched: dict, into: Path, fctx: FetchContext) -> None:
    """Create ``into`` (a new directory) holding the source, from the cache only."""
    _kind(source).place(source, fetched, into, fctx)


def cached_path(source: Source, fetched: dict, layout: Layout) -> Path | None:
    """The cache entry a finished download left (None for kinds that keep nothing)."""
    return _kind(source).cached(source, fetched, layout)
