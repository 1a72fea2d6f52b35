"""Stage 'download': every source of a recipe into the content-addressed cache.

Signature: only the origin fields of ``source:`` (URLs, hashes, fn, VCS refs; a ``path:``
source's content digest), never its patches or folders, nor anything outside ``source:``.
Stamp outputs: each source's content identity (archive sha256, commit id, tree digest).
"""
from __future__ import annotations

from typing import Any

from ..fetch import FetchContext, cached_path, download, download_inputs
from ..fetch.cache import DownloadCache, Expected
from ..fsutil import remove_tree
from ..model import Recipe
from ..stagelog import stage_log
from .base import Context, Stage


class DownloadStage(Stage):
    name = "download"
    doc = "fetch sources into the content-addressed download cache"
    version = 1

    def inputs(self, recipe: Recipe, ctx: Context) -> Any:
        return {"sources": [download_inputs(s) for s in recipe.sources]}

    def run(self, recipe: Recipe, ctx: Context) -> dict[str, Any]:
        with stage_log(ctx.layout, recipe.name, self.name) as log:
            fctx = FetchContext(ctx.layout, ctx.settings, log, recipe.name, recipe.extra, recipe.version)
            return {"sources": [download(source, fctx) for source in recipe.sources]}

    def outputs_present(self, recipe: Recipe, ctx: Context, outputs: dict[str, Any]) -> bool:
        fetched = outputs.get("sources", [])
        if len(fetched) != len(recipe.sources):
            return False
        for source, record in zip(recipe.sources, fetched):
            path = cached_path(source, record, ctx.layout)
            if path is not None and not path.exists():
                return False
        return True

    def clean(self, recipe: Recipe, ctx: Context) -> None:
        cache = DownloadCache(ctx.layout)
        for source in recipe.sources:
            if source.kind == "url":
                cache.remove(Expected.of(source), source.urls)
            elif source.kind in ("git", "hg", "svn"):
                remove_tree(cached_path(source, {}, ctx.layout))
