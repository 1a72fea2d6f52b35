"""Stage 'download': every source of a recipe into the content-addressed cache.

Signature: what each source's kind says its download depends on (URLs, hashes, fn, VCS refs;
a ``path:`` source's content digest, not its location), never its patches or folders, nor
anything outside ``source:``. Every kind-specific step is the kind's (``tasks.fetch``).
Result: each source's content identity (archive sha256, commit id, tree digest).
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .. import fetch
from ..fetch import FetchContext, cached_path, download, download_inputs
from ..model import Frozen, Recipe
from ..stagelog import stage_log
from .base import SOURCE, Context, Inputs, Result, Stage


@dataclass(frozen=True)
class Fetched(Result):
    """Per source, in recipe order, the record its kind's ``fetch`` returned."""

    sources: tuple[Frozen, ...] = ()


class DownloadStage(Stage):
    name = "download"
    doc = "fetch sources into the content-addressed download cache"
    scope = SOURCE
    result = Fetched
    version = 1

    def inputs(self, recipe: Recipe, ctx: Context) -> Any:
        return {"sources": [download_inputs(s) for s in recipe.sources]}

    def run(self, recipe: Recipe, ctx: Context, inputs: Inputs) -> Fetched:
        with stage_log(ctx.layout, recipe.name, self.name) as log:
            fctx = FetchContext(ctx.layout, ctx.settings, log, recipe.name, recipe.extra, recipe.version)
            return Fetched(tuple(Frozen(download(source, fctx)) for source in recipe.sources))

    def output_paths(self, recipe: Recipe, ctx: Context, result: Fetched) -> list[Path]:
        return [p for s, r in zip(recipe.sources, result.sources)
                if (p := cached_path(s, r, ctx.layout)) is not None]

    def damage(self, recipe: Recipe, ctx: Context, result: Fetched, inputs: Inputs) -> str | None:
        if len(result.sources) != len(recipe.sources):
            return "the stamp does not describe every source"
        return None

    def clean(self, recipe: Recipe, ctx: Context) -> None:
        for source in recipe.sources:
            fetch.clean(source, ctx.layout)
