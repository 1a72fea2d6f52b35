"""What a stage signature may hold: content, never where things are or what machine runs.

The same recipe in another checkout, another cache or on another machine of the same
build platform gets the same signatures (a cache shared across machines relies on it):

- Locations of this run (the recipe's directory, the recipes root, the project root, the
  cache) are written as ``$RECIPE_DIR``, ``$RECIPES``, ``$ROOT`` and ``$CACHE``: a
  ``path:`` source beside the recipe, a test script, ``{{ RECIPE_DIR }}`` rendered into
  meta.yaml. What lies at those paths enters signatures by its digest, never its place.
- Machine facts that cannot change a correct build's result (CPU count, MAKEFLAGS) still
  reach build.sh's environment, but are not inputs.
- Variant values enter only the signatures of recipes that use them: the keys the rendered
  recipe read (``Recipe.variant``), and python/numpy when the build environment hands
  them to a recipe that needs them (:func:`environment_variant`).
"""
from __future__ import annotations

import os
import re
from functools import lru_cache
from pathlib import Path
from typing import Any, Iterable

from .buildenv import uses_python
from .model import Recipe
from .settings import Settings

# Variant keys that tasks/buildenv.py exports to every build script from the settings,
# with the variables that carry them.
ENVIRONMENT_VARIANT: dict[str, tuple[str, ...]] = {
    "python": ("PY_VER", "CONDA_PY", "PY3K", "STDLIB_DIR", "SP_DIR"),
    "numpy": ("NPY_VER",),
}
# A character that continues a path component: "/x/recipes" is not a prefix of "/x/recipes-2".
_PATH_CHARS = "_.+~@-"        # with letters and digits


def locations(recipe: Recipe | None, settings: Settings) -> tuple[tuple[str, str], ...]:
    """(absolute path, symbolic name) of the places of this run, most specific first."""
    pairs = [(settings.cache_dir, "$CACHE"), (settings.recipes_dir, "$RECIPES"), (settings.root, "$ROOT")]
    if recipe is not None:
        pairs.insert(0, (recipe.recipe_dir, "$RECIPE_DIR"))
    return _locations(tuple((str(p), name) for p, name in pairs))


@lru_cache(maxsize=1024)
def _locations(pairs: tuple[tuple[str, str], ...]) -> tuple[tuple[str, str], ...]:
    found: dict[str, str] = {}
    for path, name in pairs:
        for spelling in (path, os.path.realpath(path)):
            spelling = spelling.rstrip("/")
            if len(spelling) > 1 and spelling not in found:   # never "/" itself
                found[spelling] = name
    return tuple(sorted(found.items(), key=lambda item: -len(item[0])))


def _is_path_char(char: str) -> bool:
    return char.isalnum() or char in _PATH_CHARS


def _replace_places(value: str, places: tuple[tuple[str, str], ...]) -> str:
    """``value`` with each place (longest first) that is not the start of a longer name
    replaced by its symbolic name. A search instead of a regular expression: every recipe has
    its own places, and compiling a pattern per recipe dominated a no-op run of a big stack."""
    if not any(place in value for place, _ in places):
        return value
    out: list[str] = []
    i = 0
    while True:
        found = min(((at, rank) for rank, (place, _) in enumerate(places)
                     if (at := _place_at(value, place, i)) >= 0), default=None)
        if found is None:
            break
        at, rank = found            # the first place in the text; at a tie, the longest
        place, name = places[rank]
        out.append(value[i:at])
        out.append(name)
        i = at + len(place)
    out.append(value[i:])
    return "".join(out)


def _place_at(value: str, place: str, start: int) -> int:
    """Where ``place`` next stands in ``value`` from ``start`` as a whole name (not followed
    by a character that would continue it), or -1."""
    at = value.find(place, start)
    while at >= 0:
        end = at + len(place)
        if end == len(value) or not _is_path_char(value[end]):
            return at
        at = value.find(place, at + 1)
    return at


def portable(data: Any, places: tuple[tuple[str, str], ...]) -> Any:
    """``data`` (plain data) with every place of ``places`` written as its symbolic name."""
    if not places:
        return data

    def text(value: str) -> str:
        return _replace_places(value, places) if "/" in value else value

    def walk(value: Any) -> Any:
        kind = type(value)      # exact types first: every no-op run walks every job's inputs
        if kind is str:
            return _replace_places(value, places) if "/" in value else value
        if kind is dict:
            return {(k if type(k) is str and "/" not in k else text(str(k))): walk(v) for k, v in value.items()}
        if kind is list or kind is tuple:
            return [walk(v) for v in value]
        if kind is int or kind is bool or value is None or kind is float:
            return value
        if isinstance(value, str):
            return text(value)
        if isinstance(value, Path):
            return text(str(value))
        if isinstance(value, dict):
            return {text(str(k)): walk(v) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return [walk(v) for v in value]
        return value

    return walk(data)


def environment_variant(recipe: Recipe, settings: Settings, scripts: Iterable[str]) -> dict[str, str]:
    """Settings-level variant values (python, numpy) the build environment shows a recipe
    that uses them: python when it is a build/host requirement, and any of them whose
    variables (``$PY_VER``, ``$NPY_VER``...) one of the recipe's ``scripts`` reads.
    A recipe that needs neither is not rebuilt by ``doit python=3.12``."""
    text = "\n".join(scripts)
    out: dict[str, str] = {}
    for key, names in ENVIRONMENT_VARIANT.items():
        reads = re.search(r"\$\{?(?:" + "|".join(names) + r")\b", text) is not None
        if reads or (key == "python" and uses_python(recipe)):
            out[key] = str(getattr(settings, key))
    return out


def recipe_scripts(recipe: Recipe, build_script: str) -> list[str]:
    """The texts of the scripts a build runs: build.sh (or build/script) and outputs' scripts."""
    texts = [build_script]
    for output in recipe.outputs:
        if output.script:
            try:
                texts.append((recipe.recipe_dir / output.script).read_text(errors="replace"))
            except OSError:
                continue
    return texts
