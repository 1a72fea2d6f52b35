"""Stage 'download': every source of a recipe into the content-addressed cache.

Signature: what each source's kind says its download depends on (URLs, hashes, fn, VCS refs;
a ``path:`` source's content digest, not its location), never its patches or folders, nor
anything outside ``source:``. Every kind-specific step is the kind's (``tasks.fetch``).
Stamp outputs: each source's content identity (archive sha256, commit id, tree digest).
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

from .. import fetch
from ..fetch import FetchContext, cached_path, download, download_inputs
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

    def output_paths(self, recipe: Recipe, ctx: Context, outputs: dict[str, Any]) -> list[Path]:
        fetched = outputs.get("sources", [])
        return [p for s, r in zip(recipe.sources, fetched) if (p := cached_path(s, r, ctx.layout)) is not None]

    def damage(self, recipe: Recipe, ctx: Context, outputs: dict[str, Any]) -> str | None:
        if len(outputs.get("sources", [])) != len(recipe.sources):
            return "the stamp does not describe every source"
        return None

    def clean(self, recipe: Recipe, ctx: Context) -> None:
        for source in recipe.sources:
            fetch.clean(source, ctx.layout)
