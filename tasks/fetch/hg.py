"""``hg_url`` sources: one cached clone per URL; ``hg_tag`` (default tip) resolved to a node id."""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Mapping

from ..fsutil import remove_tree
from ..model import Source
from ..paths import Layout
from ..stagelog import CommandFailed, StageLog, require_program
from .base import FetchContext, FetchError, VcsKind, cache_key, locked

ENV = {"HGPLAIN": "1", "LC_ALL": "C"}


def _hg(log: StageLog, *args: str | Path, check: bool = True) -> str:
    return log.run(["hg", "--noninteractive", *args], env=ENV, check=check).stdout.strip()


def repo_dir(layout: Layout, url: str) -> Path:
    return layout.vcs("hg", cache_key(url))


class HgKind(VcsKind):
    name = "hg"
    selected_by = "hg_url"
    keys = {"hg_url": "str", "hg_tag": "str"}

    def fetch(self, source: Source, fctx: FetchContext) -> dict:
        return download_hg(source, fctx)

    def cached_path(self, source: Source, fetched: Mapping[str, Any], layout: Layout) -> Path:
        return repo_dir(layout, str(source.get("hg_url")))

    def place(self, source: Source, fetched: Mapping[str, Any], into: Path, fctx: FetchContext) -> None:
        place_hg(source, fetched, into, fctx)


def download_hg(source: Source, fctx: FetchContext) -> dict:
    """Clone or pull into the cache and return the node id of the wanted tag."""
    require_program("hg", "an hg_url source", "mercurial")
    url, log, tag = str(source.get("hg_url")), fctx.log, str(source.get("hg_tag") or "tip")
    repo = repo_dir(fctx.layout, url)
    with locked(repo):
        try:
            if (repo / ".hg").is_dir():
                _hg(log, "pull", "-q", "-R", repo, url)
            else:
                fresh = repo.with_name(repo.name + ".init")
                remove_tree(fresh)
                _hg(log, "clone", "-q", "--noupdate", url, fresh)
                os.replace(fresh, repo)
        except CommandFailed as exc:
            if not (repo / ".hg").is_dir():
                raise FetchError(f"hg: cannot clone {url}\n{exc}") from None
            log.note("pull failed; trying the cached clone")
        node = _hg(log, "log", "-R", repo, "-r", tag, "--template", "{node}", check=False)
    if not node:
        raise FetchError(f"hg: '{tag}' is not a revision of {url}")
    return {"kind": "hg", "node": node}


def place_hg(source: Source, fetched: Mapping[str, Any], into: Path, fctx: FetchContext) -> None:
    """A checkout of the node at ``into``, cloned from the cache; its default path is the URL."""
    require_program("hg", "an hg_url source", "mercurial")
    repo = repo_dir(fctx.layout, str(source.get("hg_url")))
    if not (repo / ".hg").is_dir():
        raise FetchError(f"hg cache {repo} is missing; run the download stage again")
    _hg(fctx.log, "clone", "-q", "-u", fetched["node"], repo, into)
    (into / ".hg" / "hgrc").write_text(f"[paths]\ndefault = {source.get('hg_url')}\n")
