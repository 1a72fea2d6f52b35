"""The packages one recipe makes: itself, or its ``outputs:`` (conda-build 3 semantics).

Every stage after compile works on a *package view*: a Recipe whose name, version, build,
requirements, test and about are those of one output, so the single-package code paths
(requirements, info/, tests) serve multi-output recipes unchanged.

Which files an output owns (conda-build's ``build.py``: ``build()`` and ``bundle_conda()``):
an output with ``script:`` owns what its script adds to the prefix; one with ``files:`` owns
the matching files among those the top-level build added; one named like the top-level
package with neither gets *all* files the top-level build added (conda-build sets its
``files`` to every new prefix file; overlaps with siblings are only warned about there);
any other output with neither is a metapackage (no files).
"""
from __future__ import annotations

import dataclasses
from typing import Any, Iterable, Protocol, Sequence, TypeVar

from .model import Frozen, Output, Recipe, spec_name


class _Named(Protocol):
    name: str


R = TypeVar("R", bound=_Named)


def output_recipe(recipe: Recipe, output: Output) -> Recipe:
    """The package view of one output: its own metadata, ``about`` merged over the top-level."""
    return dataclasses.replace(
        recipe, name=output.name, version=output.version, build=output.build,
        requirements=output.requirements, test=output.test, about=Frozen({**recipe.about, **output.about}),
        outputs=(), link_scripts=recipe.link_scripts if output.name == recipe.name else Frozen())


def package_recipes(recipe: Recipe) -> tuple[Recipe, ...]:
    """One view per package the recipe makes; without outputs, the recipe itself."""
    if not recipe.outputs:
        return (recipe,)
    return tuple(output_recipe(recipe, o) for o in recipe.outputs)


def host_specs(recipe: Recipe) -> list[str]:
    """What the host prefix holds: the top-level host requirements and every output's own."""
    specs = list(recipe.requirements.host)
    for output in recipe.outputs:
        specs += [s for s in output.requirements.host if s not in specs]
    return specs


def package_host_records(package: Recipe, top: Recipe, records: Sequence[R]) -> tuple[R, ...]:
    """Host records a package was built against (its run_exports source and hash input).

    An output with its own host requirements gets the records they name; otherwise
    (and the package named like the recipe) everything in the host prefix.
    """
    if package.name == top.name or not package.requirements.host:
        return tuple(records)
    names = {spec_name(s) for s in package.requirements.host}
    return tuple(r for r in records if r.name in names)


def owned_files(recipe: Recipe, output: Output, top_files: Sequence[str]) -> list[str]:
    """Files of ``top_files`` an output without a script owns (see the module docstring)."""
    if output.files:
        from .relocate.globs import select  # the relocate package loads lief: not at doit's load time
        return list(select(top_files, output.files))
    if output.name == recipe.name:
        return list(top_files)
    return []


def compile_inputs(outputs: Iterable[Output]) -> list[dict[str, Any]]:
    """The parts of each output the compile stage uses (not about/test: those only re-package).

    Script contents are covered by the recipe directory's digests."""
    return [{"name": o.name, "version": o.version, "number": o.build.number, "string": o.build.string,
             "files": list(o.files), "host": list(o.requirements.host), "script": o.script,
             "interpreter": o.script_interpreter} for o in outputs]
