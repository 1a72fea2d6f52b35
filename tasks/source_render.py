"""The recipe a build stage works from, for recipes whose render needs their source.

conda-build renders a recipe that reads ``GIT_DESCRIBE_TAG``, ``HG_LATEST_TAG`` or a file of
the source (``load_file_regex``, ``load_setup_py_data``) once more after fetching it. The
stack is rendered before anything is downloaded (``doit list`` must work then), with
placeholders, and the recipe lists what it read in ``needs_source``. Here, once the
recipe's ``patch`` stage has finished, the stages of the recipe (compile, package, index,
test) get the recipe rendered again with its patched work tree: the real version, build
number and string. The patch tree is a transitive input of each of them, so their
signatures change whenever the source, and with it this render, can change.

One render per recipe and patched tree per run and platform (``Context.memo``).
"""
from __future__ import annotations

from pathlib import Path

from .errors import CondoitError
from .model import Recipe


def with_source(recipe: Recipe, ctx, tree) -> Recipe:
    """``recipe`` itself, or its render with the patched source (``tree``, the patch stage's
    result, None before it finished) once that tree exists."""
    if not recipe.needs_source:
        return recipe
    if tree is None or not Path(tree.path).is_dir():
        return recipe                          # not fetched yet: the placeholders stand
    memo = ctx.memo.setdefault("source_render", {})
    key = (recipe.name, tree.tree)
    if key not in memo:
        memo[key] = _render(recipe, ctx, Path(tree.path))
    return memo[key]


def _render(recipe: Recipe, ctx, tree: Path) -> Recipe:
    from .render.stack_loader import package_versions, render_with_source   # only such recipes pay for it
    result = render_with_source(ctx.settings, recipe.meta_path, tree, package_versions(ctx.stack.recipes))
    if result.problems or result.recipe is None:
        shown = "\n".join(f"  {p}" for p in result.problems) or "  (the recipe is skipped on this platform)"
        raise CondoitError(f"[{recipe.name}] rendering the recipe again with its source "
                           f"({tree}) failed:\n{shown}\n"
                           "    hint: the values taken from the source (GIT_*, HG_*, load_file_regex) "
                           "must make a valid recipe; `doit render:" + recipe.name + "` shows the first render")
    return result.recipe
