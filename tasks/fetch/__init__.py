"""Sources: one module per kind, each a ``SourceKind`` registered in ``SOURCE_KINDS``.

A kind owns its meta.yaml keys (the schema check and the rendered recipe take them from
this table), what its download depends on (``download_inputs``), ``fetch`` (into the
cache), ``cached_path``, ``place`` (from the cache into a work tree, offline) and
``clean``. Adding a kind is one module and one line below.

``fetch`` returns the source's content identity (archive sha256, commit id, tree digest)
as plain data for the download stamp; ``place`` and ``cached_path`` get that record back.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping

from ..model import Source
from ..paths import Layout
from .apt import DebianFallback
from .base import VCS_DIRS, FetchContext, FetchError, NoSource, SourceKind
from .git import GitKind
from .hg import HgKind
from .path import PathKind
from .pip_sdist import PipSdistFallback
from .svn import SvnKind
from .url import UrlKind

__all__ = ["VCS_DIRS", "FetchContext", "FetchError", "SourceKind", "SOURCE_KINDS", "COMMON_KEYS",
           "kind_of", "select_kind", "download_inputs", "download", "place", "cached_path", "clean"]

# Every kind, in the order an entry is matched against their ``selected_by`` key (conda-build's:
# url first); "none" (no origin key at all) comes last.
SOURCE_KINDS: dict[str, SourceKind] = {
    "url": UrlKind(fallbacks=(DebianFallback(), PipSdistFallback())),
    "git": GitKind(),
    "hg": HgKind(),
    "svn": SvnKind(),
    "path": PathKind(),
    "none": NoSource(),
}

# An entry with these and no origin key is an archive without a URL of its own (an sdist
# that only the package index serves): the url kind's mirrors and fallbacks fetch it, and
# without them the download fails rather than building with no source.
ARCHIVE_ONLY_KEYS = ("sha256", "sha1", "md5", "fn")

# Keys of a source entry that belong to no kind: where it goes and how it is patched.
COMMON_KEYS = ("folder", "no_hoist", "patches")


def select_kind(entry: Mapping[str, Any]) -> SourceKind:
    """The kind of a meta.yaml source entry: the first whose ``selected_by`` key has a value."""
    for kind in SOURCE_KINDS.values():
        value = entry.get(kind.selected_by) if kind.selected_by else None
        if value is not None and value != []:
            return kind
    if any(entry.get(key) for key in ARCHIVE_ONLY_KEYS):
        return SOURCE_KINDS["url"]      # an archive known by its hash: mirrors and fallbacks (pip_sdist) find it
    return SOURCE_KINDS["none"]


def kind_of(source: Source) -> SourceKind:
    try:
        return SOURCE_KINDS[source.kind]
    except KeyError:
        raise FetchError(f"unknown source kind '{source.kind}' (meta.yaml line {source.line})") from None


def download_inputs(source: Source) -> dict[str, Any]:
    """The part of a source the download depends on (content identity; no folder or patches)."""
    return kind_of(source).download_inputs(source)


def download(source: Source, fctx: FetchContext) -> dict:
    """Bring the source into the cache; returns its content identity (JSON data)."""
    return kind_of(source).fetch(source, fctx)


def place(source: Source, fetched: dict, into: Path, fctx: FetchContext) -> None:
    """Create ``into`` (a new directory) holding the source, from the cache only."""
    kind_of(source).place(source, fetched, into, fctx)


def cached_path(source: Source, fetched: dict, layout: Layout) -> Path | None:
    """The cache entry a finished download left (None for kinds that keep nothing)."""
    return kind_of(source).cached_path(source, fetched, layout)


def clean(source: Source, layout: Layout) -> None:
    """Forget the source's cache entry."""
    kind_of(source).clean(source, layout)
