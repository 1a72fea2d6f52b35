"""Settings -> Stack: discover, render every recipe, order them, collect every problem.

This runs on every ``doit`` call, so it never raises for recipe problems: broken recipes
are left out of ``Stack.recipes`` and their problems are all reported in ``Stack.problems``.
``pin_compatible`` against a package of the stack needs that package's version, known
only after the first pass: such recipes are rendered a second time. A requirement on a
package of the stack whose version constraint excludes the version the stack builds is a
problem of the requiring recipe (not a link to the wrong version). Leniencies (see
lenient.py) are collected in ``Stack.warnings``.
"""
from __future__ import annotations

from pathlib import Path

from ..errors import RecipeProblem
from ..graph import (build_order, cycle_problems, dependencies, direct_deps, install_order, providers,
                     requirement_on)
from ..model import Recipe, spec_name
from ..settings import Settings
from ..stack import Skipped, Stack
from .discovery import find_recipes
from .recipe import Result, render_recipe
from .satisfy import accepts
from .variants import VariantFile, find_variant_files, merge, read_variant_file


def load_stack(settings: Settings) -> Stack:
    """Render every recipe under ``settings.recipes_dir`` for the settings' target."""
    root = Path(settings.recipes_dir)
    problems: list[RecipeProblem] = []
    if not root.is_dir():
        problems.append(RecipeProblem(root, 1, 1, "recipes directory not found",
                                      "set it with `doit recipes=/path ...` or CONDOIT_RECIPES"))
        return Stack(problems=tuple(problems))
    warnings: list[RecipeProblem] = []
    variants = recipe_variants(settings, root, find_recipes(root), problems, warnings)
    results = [render_recipe(meta, settings, variant) for meta, variant in variants.items()]

    versions = package_versions(r.recipe for r in results if r.recipe is not None)
    versioned = set(versions)       # once: a set per recipe made this quadratic in the stack
    for i, result in enumerate(results):
        if result.recipe is not None and result.pins.unresolved_compatible & versioned:
            results[i] = render_recipe(result.meta_path, settings, variants[result.meta_path],
                                       versions, text=result.text)

    recipes: list[Recipe] = []
    skipped: list[Skipped] = []
    seen: dict[str, Result] = {}
    written: dict[str, list] = {}           # recipe name -> where its requirements are written
    for result in results:
        problems.extend(result.problems)
        warnings.extend(result.warnings)
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

    refused = _unsatisfied(recipes, seen, {r.recipe.name: r for r in seen.values() if r.recipe}, problems)
    if refused:
        recipes = [r for r in recipes if r.name not in refused]
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
    made_by = providers(recipes)
    order = install_order(order, graph, {r.name: direct_deps(r, made_by, ("run",)) for r in recipes})
    return Stack(recipes=tuple(recipes), skipped=tuple(skipped), problems=tuple(problems), order=order,
                 warnings=tuple(warnings))


def recipe_variants(settings: Settings, root: Path, metas: list[Path], problems: list[RecipeProblem],
                    warnings: list[RecipeProblem]) -> dict[Path, dict]:
    """meta.yaml -> its variant (each variant file read once, its problems reported once)."""
    variant_files: dict[Path, VariantFile] = {}
    variants: dict[Path, dict] = {}
    for meta in metas:
        files = []
        current = merge(settings, [])
        for path in find_variant_files(root, meta.parent, tuple(settings.variant_files)):
            if path not in variant_files:
                variant_files[path] = read_variant_file(path, settings, current)
                problems.extend(variant_files[path].problems)
                warnings.extend(variant_files[path].warnings)
            files.append(variant_files[path])
            current = merge(settings, files)
        variants[meta] = current
    return variants


def render_with_source(settings: Settings, meta_path: Path, source_dir: Path,
                       stack_versions: dict[str, str] | None = None) -> Result:
    """Render one recipe again with its fetched source (``source_dir``: its work tree), for
    recipes whose ``needs_source`` is not empty: GIT_*/HG_* and source files are real then
    (the build stages call it through tasks/source_render.py)."""
    root = Path(settings.recipes_dir)
    variant = recipe_variants(settings, root, [meta_path], [], [])[meta_path]
    return render_recipe(meta_path, settings, variant, stack_versions, source_dir=source_dir)


_CHECKED = ("build", "host", "run")


def _unsatisfied(recipes: list[Recipe], made_by: dict[str, Result], results: dict[str, Result],
                 problems: list[RecipeProblem]) -> set[str]:
    """Recipes with a build/host/run requirement on a package of the stack whose version
    constraint excludes the version the stack builds; each such requirement a problem.
    A recipe rendered with source placeholders (``needs_source``) has no known version yet:
    requirements on its packages are not checked."""
    refused: set[str] = set()
    for recipe in recipes:
        own = set(recipe.provides)
        for where, reqs in [("", recipe.requirements)] + [(f" of output {o.name}", o.requirements)
                                                          for o in recipe.outputs]:
            for section in _CHECKED:
                for spec in getattr(reqs, section):
                    if " " not in spec:
                        continue
                    package = spec_name(spec)
                    maker = made_by.get(package)
                    if maker is None or package in own or maker.recipe is None:
                        continue
                    if maker.recipe.needs_source:
                        continue            # its version may come from its source (GIT_DESCRIBE_TAG...):
                                            # conda-build knows it only after fetching, so do we
                    version = _version_of(maker.recipe, package)
                    if version is None or accepts(spec, version):
                        continue
                    refused.add(recipe.name)
                    label = f"requirements/{section}{where}"
                    pos = _written(results[recipe.name], label, package)
                    at = maker.name_pos.get(package, (1, 1))
                    problems.append(RecipeProblem(
                        recipe.meta_path, pos[0], pos[1],
                        f"requirement '{spec}' ({label}) is not satisfied by the stack: recipe "
                        f"'{maker.recipe.name}' builds {package} {version} "
                        f"({maker.recipe.meta_path}:{at[0]}:{at[1]})",
                        f"require a version the stack builds, or change the recipe of {package}"))
    return refused


def _version_of(recipe: Recipe, package: str) -> str | None:
    if package == recipe.name:
        return recipe.version
    return next((o.version for o in recipe.outputs if o.name == package), None)


def _written(result: Result, label: str, package: str) -> tuple[int, int]:
    """Where ``package`` is required in ``label`` (the first mention; (1, 1) if unknown)."""
    found = next((pos for lab, name, pos in result.requirements_written if lab == label and name == package), None)
    return found or next((pos for _, name, pos in result.requirements_written if name == package), (1, 1))


def package_versions(recipes) -> dict[str, str]:
    """package -> version for every package the stack produces (for pin_compatible)."""
    out: dict[str, str] = {}
    for recipe in recipes:
        out.setdefault(recipe.name, recipe.version)
        for o in recipe.outputs:
            out.setdefault(o.name, o.version)
    return out
