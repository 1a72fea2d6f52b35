"""Stage 'patch': a fresh copy of the pristine tree with the recipe's patches applied.

Signature: the extract stamp's tree digest and the contents (sha256) of the patch files,
with the folder each applies in. Editing a patch re-runs this stage, never download or
extract. Stamp output: the digest of the patched tree.
"""
from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from ..fsutil import sha256_file
from ..model import Recipe
from ..patching import apply_patches
from ..stagelog import stage_log
from ..unpack import subdir
from ..worktree import make_tree, remove_work
from .base import Context, Stage


def _content(patch: str) -> str:
    path = Path(patch)
    return sha256_file(path) if path.is_file() else f"missing: {patch}"


class PatchStage(Stage):
    name = "patch"
    doc = "copy the pristine tree and apply the recipe's patches"
    version = 1

    def upstream(self, recipe: Recipe, ctx: Context) -> list[tuple[str, str]]:
        return [("extract", recipe.name)]

    def inputs(self, recipe: Recipe, ctx: Context) -> Any:
        return {"patches": [{"folder": s.folder, "contents": [_content(p) for p in s.patches]}
                            for s in recipe.sources if s.patches]}

    def run(self, recipe: Recipe, ctx: Context) -> dict[str, Any]:
        pristine = ctx.layout.work(recipe.name, "extract")
        with stage_log(ctx.layout, recipe.name, self.name) as log:

            def fill(tree: Path) -> None:
                shutil.copytree(pristine, tree, symlinks=True, dirs_exist_ok=True)
                for source in recipe.sources:
                    apply_patches(subdir(tree, source.folder), source.patches, log)

            digest = make_tree(ctx.layout, recipe.name, self.name, log, fill)
        return {"tree": digest}

    def output_paths(self, recipe: Recipe, ctx: Context, outputs: dict[str, Any]) -> list[Path]:
        return [ctx.layout.work(recipe.name, self.name)]

    def clean(self, recipe: Recipe, ctx: Context) -> None:
        remove_work(ctx.layout, recipe.name, self.name)
