"""``svn_url`` sources: a cached working copy per URL, revision and externals choice.

Subversion keeps no local history, so the cache is a checkout; keying it by revision keeps
recipes that pin different revisions of one URL from overwriting each other's checkout.
"""
from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any, Mapping

from ..fsutil import remove_tree, tree_digest
from ..model import Source
from ..paths import Layout
from ..stagelog import CommandFailed, StageLog, require_program
from .base import VCS_DIRS, FetchContext, FetchError, VcsKind, cache_key, locked

ENV = {"LC_ALL": "C"}


def _svn(log: StageLog, *args: str | Path) -> str:
    return log.run(["svn", "--non-interactive", *args], env=ENV).stdout.strip()


class SvnKind(VcsKind):
    name = "svn"
    selected_by = "svn_url"
    keys = {"svn_url": "str", "svn_rev": "str", "svn_ignore_externals": "bool"}
    accepted = ("svn_username", "svn_password")

    def fetch(self, source: Source, fctx: FetchContext) -> dict:
        return download_svn(source, fctx)

    def cached_path(self, source: Source, fetched: Mapping[str, Any], layout: Layout) -> Path:
        return checkout_dir(layout, source)

    def place(self, source: Source, fetched: Mapping[str, Any], into: Path, fctx: FetchContext) -> None:
        place_svn(source, fetched, into, fctx)


def _rev(source: Source) -> str:
    return str(source.get("svn_rev") or "HEAD")


def _options(source: Source) -> list[str]:
    return ["-r", _rev(source)] + (["--ignore-externals"] if source.get("svn_ignore_externals") else [])


def checkout_dir(layout: Layout, source: Source) -> Path:
    key = f"{source.get('svn_url')}@{_rev(source)}{'#no-externals' if source.get('svn_ignore_externals') else ''}"
    return layout.vcs("svn", cache_key(key))


def download_svn(source: Source, fctx: FetchContext) -> dict:
    """Check out (or update) the cached working copy; its revision and digest are the identity."""
    require_program("svn", "an svn_url source", "subversion")
    url, log = str(source.get("svn_url")), fctx.log
    wc = checkout_dir(fctx.layout, source)
    with locked(wc):
        try:
            if (wc / ".svn").is_dir():
                _svn(log, "update", "-q", *_options(source), wc)
            else:
                fresh = wc.with_name(wc.name + ".init")
                remove_tree(fresh)
                _svn(log, "checkout", "-q", *_options(source), url, fresh)
                os.replace(fresh, wc)
        except CommandFailed as exc:
            raise FetchError(f"svn: cannot check out {url} at {_rev(source)}\n{exc}") from None
        revision = _svn(log, "info", "--show-item", "revision", wc)
        tree = tree_digest(wc, ignore=VCS_DIRS)
    return {"kind": "svn", "revision": revision, "tree": tree}


def place_svn(source: Source, fetched: Mapping[str, Any], into: Path, fctx: FetchContext) -> None:
    """A copy of the cached working copy (with its .svn, like conda-build)."""
    wc = checkout_dir(fctx.layout, source)
    if not (wc / ".svn").is_dir():
        raise FetchError(f"svn cache {wc} is missing; run the download stage again")
    shutil.copytree(wc, into, symlinks=True)
