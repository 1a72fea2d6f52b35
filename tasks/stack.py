"""A stack: every rendered recipe under the recipes root, and who provides which package.

doit asks for dependencies and closures of every recipe while it loads tasks, so the
answers come from indexes built once per stack (and pickled with it), not from scans.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from .errors import RecipeProblem
from .graph import SECTIONS, direct_deps, providers
from .model import Recipe


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
    warnings: tuple[RecipeProblem, ...] = ()     # leniencies: reported, the recipes are built

    @cached_property
    def _by_name(self) -> dict[str, Recipe]:
        return {r.name: r for r in self.recipes}

    @cached_property
    def _provider(self) -> dict[str, str]:
        return providers(self.recipes)

    @cached_property
    def packages(self) -> frozenset[str]:
        """Every package name the stack produces."""
        return frozenset(self._provider)

    @cached_property
    def _deps(self) -> dict[str, tuple[str, ...]]:
        return {r.name: direct_deps(r, self._provider) for r in self.recipes}

    @cached_property
    def _closures(self) -> dict[str, tuple[str, ...]]:
        return {}

    def in_build_order(self) -> tuple[Recipe, ...]:
        """The recipes, dependencies first (``order``), then any the order does not name."""
        ordered = set(self.order)
        named = [self._by_name[n] for n in self.order if n in self._by_name]
        return tuple(named) + tuple(r for r in self.recipes if r.name not in ordered)

    def by_name(self) -> dict[str, Recipe]:
        return dict(self._by_name)

    def recipe(self, name: str) -> Recipe:
        return self._by_name[name]

    def provider(self, package: str) -> str | None:
        """Name of the recipe that builds ``package`` (itself or one of its outputs)."""
        return self._provider.get(package)

    def recipe_deps(self, name: str, sections: tuple[str, ...] = SECTIONS) -> tuple[str, ...]:
        """Recipes of this stack that ``name`` needs built first (direct only, sorted)."""
        if tuple(sections) == SECTIONS:
            return self._deps[name]
        return direct_deps(self.recipe(name), self._provider, tuple(sections))

    def closure(self, name: str) -> tuple[str, ...]:
        """``name`` and every recipe it needs, transitively, dependencies first."""
        done = self._closures.get(name)
        if done is not None:
            return done
        seen: dict[str, None] = {}
        for dep in self._deps[name]:
            for n in self.closure(dep):
                seen.setdefault(n, None)
        seen.setdefault(name, None)
        self._closures[name] = result = tuple(seen)
        return result
