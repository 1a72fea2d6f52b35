"""A stack: every rendered recipe under the recipes root, and who provides which package."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from .errors import RecipeProblem
from .model import Recipe, spec_name


@dataclass(frozen=True)
class Skipped:
    """A recipe left out for this target (``build: skip: true``), with the reason."""

    meta_path: Path
    name: str
    reason: str


@dataclass(frozen=True)
class Stack:
    recipes: tuple[Recipe, ...] = ()
    skipped: tuple[Skipped, ...] = ()
    problems: tuple[RecipeProblem, ...] = ()     # every error of every broken recipe
    order: tuple[str, ...] = ()                  # recipe names, dependencies first

    def by_name(self) -> dict[str, Recipe]:
        return {r.name: r for r in self.recipes}

    def recipe(self, name: str) -> Recipe:
        for r in self.recipes:
            if r.name == name:
                return r
        raise KeyError(name)

    def provider(self, package: str) -> str | None:
        """Name of the recipe that builds ``package`` (itself or one of its outputs)."""
        for r in self.recipes:
            if package in r.provides:
                return r.name
        return None

    def recipe_deps(self, name: str, sections: tuple[str, ...] = ("build", "host")) -> tuple[str, ...]:
        """Recipes of this stack that ``name`` needs built first (direct only, sorted)."""
        recipe = self.recipe(name)
        specs: list[str] = []
        for section in sections:
            specs += getattr(recipe.requirements, section)
            for out in recipe.outputs:
                specs += getattr(out.requirements, section)
        deps = {self.provider(spec_name(s)) for s in specs}
        deps.discard(None)
        deps.discard(name)
        return tuple(sorted(deps))  # type: ignore[arg-type]

    def closure(self, name: str) -> tuple[str, ...]:
        """``name`` and all recipes it needs, transitively, dependencies first."""
        seen: list[str] = []

        def visit(n: str, trail: tuple[str, ...]) -> None:
            if n in seen or n in trail:
                return
            for d in self.recipe_deps(n):
                visit(d, trail + (n,))
            seen.append(n)

        visit(name, ())
        return tuple(seen)
