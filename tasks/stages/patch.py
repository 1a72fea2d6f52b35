"""Stage 'patch': the pristine tree with the recipe's patches applied.

The new tree's files are hard links to the pristine tree's (``fsutil.link_tree``): GNU patch
writes every file it changes anew and renames it into place, so the pristine tree is never
touched, and an unpatched tree costs no copy of the source (the compile stage copies it for
build.sh, which may write in place).

Signature: the extract result (tree digest) and the contents (sha256) of the patch files,
with the folder each applies in. Editing a patch re-runs this stage, never download or
extract. Result: the digest of the patched tree (and where it is).
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

from ..fsutil import link_tree, sha256_file, unshare_tree
from ..model import Recipe
from ..stagelog import stage_log
from ..worktree import make_tree, remove_work
from .base import SOURCE, Context, Inputs, Stage
from .extract import Tree


def _content(patch: str) -> str:
    path = Path(patch)
    return sha256_file(path) if path.is_file() else f"missing: {patch}"


class PatchStage(Stage):
    name = "patch"
    doc = "link the pristine tree and apply the recipe's patches"
    scope = SOURCE
    result = Tree
    version = 1

    def upstream(self, recipe: Recipe, ctx: Context):
        return [ctx.ref("extract", recipe.name)]

    def inputs(self, recipe: Recipe, ctx: Context) -> Any:
        return {"patches": [{"folder": s.folder, "contents": [_content(p) for p in s.patches]}
                            for s in recipe.sources if s.patches]}

    def run(self, recipe: Recipe, ctx: Context, inputs: Inputs) -> Tree:
        # local: patching and unpack (tarfile, zipfile) are needed only when a tree is made,
        # not by the checks every `doit` call makes
        from ..patching import apply_patches
        from ..unpack import subdir
        pristine: Tree = inputs.get("extract")
        with stage_log(ctx.layout, recipe.name, self.name) as log:

            def fill(tree: Path) -> None:
                link_tree(pristine.path, tree)
                try:
                    for source in recipe.sources:
                        apply_patches(subdir(tree, source.folder), source.patches, log)
                except BaseException:
                    unshare_tree(tree)      # kept for debugging: an edit there must not reach the pristine tree
                    raise

            digest = make_tree(ctx.layout, recipe.name, self.name, log, fill)
        return Tree(digest, ctx.layout.work(recipe.name, self.name))

    def output_paths(self, recipe: Recipe, ctx: Context, result: Tree) -> list[Path]:
        return [result.path]

    def clean(self, recipe: Recipe, ctx: Context) -> None:
        remove_work(ctx.layout, recipe.name, self.name)
