"""Settings -> Stack: discover, render every recipe, order them, collect every problem.

This runs on every ``doit`` call, so it never raises for recipe problems: broken recipes
are left out of ``Stack.recipes`` and their problems are all reported in ``Stack.problems``.
``pin_compatible`` against a package of the stack needs that package's version, known
only after the first pass: such recipes are rendered a second time.
"""
from __future__ import annotations

from pathlib import Path

from ..errors import RecipeProblem
from ..graph import build_order, cycle_problems, dependencies, requirement_on
from ..model import Recipe
from ..settings import Settings
from ..stack import Skipped, Stack
from .discovery import find_recipes
from .recipe import Result, render_recipe
from .variants import VariantFile, find_variant_files, merge, read_variant_file


def load_stack(settings: Settings) -> Stack:
    """Render every recipe under ``settings.recipes_dir`` for the settings' target."""
    root = Path(settings.recipes_dir)
    problems: list[RecipeProblem] = []
    if not root.is_dir():
        problems.append(RecipeProblem(root, 1, 1, "recipes directory not found",
                                      "set it with `doit recipes=/path ...` or CONDOIT_RECIPES"))
        return Stack(problems=tuple(problems))
    variant_files: dict[Path, VariantFile] = {}
    results: list[Result] = []
    variants: dict[Path, dict] = {}
    for meta in find_recipes(root):
        files = []
        current = merge(settings, [])
        for path in find_variant_files(root, meta.parent):
            if path not in variant_files:
                variant_files[path] = read_variant_file(path, settings, current)
                problems.extend(variant_files[path].problems)
            files.append(variant_files[path])
            current = merge(settings, files)
        variants[meta] = current
        results.append(render_recipe(meta, settings, current))

    versions = _versions(r.recipe for r in results if r.recipe is not None)
    for i, result in enumerate(results):
        if result.recipe is not None and result.pins.unresolved_compatible & set(versions):
            results[i] = render_recipe(result.meta_path, settings, variants[result.meta_path],
                                       versions, text=result.text)

    recipes: list[Recipe] = []
    skipped: list[Skipped] = []
    seen: dict[str, Result] = {}
    written: dict[str, list] = {}           # recipe name -> where its requirements are written
    for result in results:
        problems.extend(result.problems)
        if result.skipped is not None:
            skipped.append(result.skipped)
        recipe = result.recipe
        if recipe is None:
            continue
        clash = next((seen[p] for p in recipe.provides if p in seen), None)
        if clash is not None:
            package = next(p for p in recipe.provides if p in clash.recipe.provides)
            line, col = result.name_pos.get(package, (1, 1))
            first_line, first_col = clash.name_pos.get(package, (1, 1))
            problems.append(RecipeProblem(
                recipe.meta_path, line, col,
                f"duplicate package name '{package}': also produced by "
                f"{clash.meta_path}:{first_line}:{first_col}",
                "package names must be unique in a stack; remove or rename one of the recipes"))
            continue
        for package in recipe.provides:
            seen[package] = result
        written[recipe.name] = result.requirement_pos
        recipes.append(recipe)

    graph = dependencies(recipes)
    order, cycles = build_order(graph)
    if cycles:
        by_name = {r.name: r for r in recipes}
        problems.extend(cycle_problems(cycles, by_name, written))
        on_cycle = {n for c in cycles for n in c}
        for r in recipes:
            if r.name not in order and r.name not in on_cycle:
                blockers = sorted(d for d in graph[r.name] if d not in order)
                found = requirement_on(r, by_name[blockers[0]], written.get(r.name, ()))
                line, col = found[2] if found else (1, 1)
                problems.append(RecipeProblem(
                    r.meta_path, line, col, f"recipe '{r.name}' needs {', '.join(blockers)}, "
                    "which cannot be built because of a dependency cycle", "break the cycle reported above"))
        kept = set(order)
        recipes = [r for r in recipes if r.name in kept]
    return Stack(recipes=tuple(recipes), skipped=tuple(skipped), problems=tuple(problems), order=order)


def _versions(recipes) -> dict[str, str]:
    """package -> version for every package the stack produces (for pin_compatible)."""
    out: dict[str, str] = {}
    for recipe in recipes:
        out.setdefault(recipe.name, recipe.version)
        for o in recipe.outputs:
            out.setdefault(o.name, o.version)
    return out
