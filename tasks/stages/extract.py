"""Stage 'extract': the pristine source tree, every source unpacked or checked out in place.

Signature: the download stamp's outputs (content identities) and each source's ``folder:``.
Stamp output: the digest of the pristine tree.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

from ..fetch import FetchContext, place
from ..fsutil import remove_tree
from ..model import Recipe
from ..stagelog import stage_log
from ..stamps import stamp_outputs
from ..unpack import merge_into, subdir
from ..worktree import make_tree, remove_work
from .base import Context, Stage


class ExtractStage(Stage):
    name = "extract"
    doc = "unpack sources into a pristine tree"
    version = 1

    def upstream(self, recipe: Recipe, ctx: Context) -> list[tuple[str, str]]:
        return [("download", recipe.name)]

    def inputs(self, recipe: Recipe, ctx: Context) -> Any:
        return {"folders": [s.folder for s in recipe.sources]}

    def run(self, recipe: Recipe, ctx: Context) -> dict[str, Any]:
        fetched = (stamp_outputs(ctx.layout.stamp(recipe.name, "download")) or {}).get("sources", [])
        scratch = ctx.layout.scratch(recipe.name, self.name)
        with stage_log(ctx.layout, recipe.name, self.name) as log:
            fctx = FetchContext(ctx.layout, ctx.settings, log, recipe.name, recipe.extra, recipe.version)

            def fill(tree: Path) -> None:
                for number, (source, record) in enumerate(zip(recipe.sources, fetched), 1):
                    into = scratch / f"source-{number}"
                    place(source, record, into, fctx)
                    merge_into(into, subdir(tree, source.folder), tree, f"source #{number}")

            remove_tree(scratch)
            scratch.mkdir(parents=True)
            try:
                digest = make_tree(ctx.layout, recipe.name, self.name, log, fill)
            finally:
                remove_tree(scratch)
        return {"tree": digest}

    def output_paths(self, recipe: Recipe, ctx: Context, outputs: dict[str, Any]) -> list[Path]:
        return [ctx.layout.work(recipe.name, self.name)]

    def clean(self, recipe: Recipe, ctx: Context) -> None:
        remove_work(ctx.layout, recipe.name, self.name)
