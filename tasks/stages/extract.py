"""Stage 'extract': the pristine source tree, every source unpacked or checked out in place.

Signature: the download result (content identities) and each source's ``folder:``.
Result: the digest of the pristine tree (and where it is).
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..fetch import FetchContext, place
from ..fsutil import remove_tree
from ..model import Recipe
from ..stagelog import stage_log
from ..worktree import make_tree, remove_work
from .base import SOURCE, Context, Inputs, Result, Stage, location
from .download import Fetched


@dataclass(frozen=True)
class Tree(Result):
    """A source tree (pristine or patched): its digest, and where it is."""

    tree: str
    path: Path = location()


class ExtractStage(Stage):
    name = "extract"
    doc = "unpack sources into a pristine tree"
    scope = SOURCE
    result = Tree
    version = 1

    def upstream(self, recipe: Recipe, ctx: Context):
        return [ctx.ref("download", recipe.name)]

    def inputs(self, recipe: Recipe, ctx: Context) -> Any:
        return {"folders": [s.folder for s in recipe.sources]}

    def run(self, recipe: Recipe, ctx: Context, inputs: Inputs) -> Tree:
        from ..unpack import merge_into, subdir   # tarfile, zipfile: only when a tree is made
        fetched: Fetched = inputs.get("download")
        scratch = ctx.layout.scratch(recipe.name, self.name)
        with stage_log(ctx.layout, recipe.name, self.name) as log:
            fctx = FetchContext(ctx.layout, ctx.settings, log, recipe.name, recipe.extra, recipe.version)

            def fill(tree: Path) -> None:
                for number, (source, record) in enumerate(zip(recipe.sources, fetched.sources), 1):
                    into = scratch / f"source-{number}"
                    place(source, record, into, fctx)
                    merge_into(into, subdir(tree, source.folder), tree, f"source #{number}")

            remove_tree(scratch)
            scratch.mkdir(parents=True)
            try:
                digest = make_tree(ctx.layout, recipe.name, self.name, log, fill)
            finally:
                remove_tree(scratch)
        return Tree(digest, ctx.layout.work(recipe.name, self.name))

    def output_paths(self, recipe: Recipe, ctx: Context, result: Tree) -> list[Path]:
        return [result.path]

    def clean(self, recipe: Recipe, ctx: Context) -> None:
        remove_work(ctx.layout, recipe.name, self.name)
