"""Run requirements of a package: the recipe's own, run_exports of what it built against,
and what the post-build checks found (the glibc floor)."""
from __future__ import annotations

from typing import Any, Iterable, Sequence

from .model import Recipe, spec_name


def _merge(specs: Iterable[str]) -> list[str]:
    """One spec per package name; a spec with a version beats a bare name."""
    chosen: dict[str, str] = {}
    for spec in specs:
        spec = " ".join(spec.split())
        name = spec_name(spec)
        if not name:
            continue
        if name not in chosen or (len(spec.split()) > 1 and len(chosen[name].split()) == 1):
            chosen[name] = spec
    return sorted(chosen.values())


def exported(recipe: Recipe, host_records: Sequence[Any]) -> tuple[list[str], list[str]]:
    """(depends, constrains) that host dependencies export into this package.

    As conda-build: only the packages the recipe names in ``requirements/host`` export
    (not what they pulled in: setuptools in host must not make a package depend on
    openssl), and a noarch package takes only their ``noarch`` exports (python's
    ``python``), never the arch-specific ones (``python_abi 3.11.* *_cp311``)."""
    ignored = {spec_name(s) for s in recipe.build.ignore_run_exports}
    ignored_from = {spec_name(s) for s in recipe.build.ignore_run_exports_from}
    direct = {spec_name(s) for s in recipe.requirements.host}
    keys = (("noarch",), ()) if recipe.build.noarch else (("weak", "strong"), ("weak_constrains", "strong_constrains"))
    depends: list[str] = []
    constrains: list[str] = []
    for record in host_records:
        if record.name in ignored_from or record.name not in direct:
            continue
        exports = record.run_exports or {}
        for key in keys[0]:
            depends += [s for s in exports.get(key, []) if spec_name(s) not in ignored]
        for key in keys[1]:
            constrains += [s for s in exports.get(key, []) if spec_name(s) not in ignored]
    return depends, constrains


def package_requirements(recipe: Recipe, host_records: Sequence[Any],
                         extra: Iterable[str] = ()) -> tuple[list[str], list[str]]:
    """The final (depends, constrains) of the package built from ``recipe``."""
    dep_exports, con_exports = exported(recipe, host_records)
    depends = _merge(list(recipe.requirements.run) + dep_exports + list(extra))
    depends = [d for d in depends if spec_name(d) != recipe.name]
    constrains = _merge(list(recipe.requirements.run_constrained) + con_exports)
    return depends, constrains


def run_exports_json(recipe: Recipe) -> dict[str, list[str]]:
    ex = recipe.build.run_exports
    return {k: list(v) for k, v in (("weak", ex.weak), ("strong", ex.strong), ("noarch", ex.noarch),
                                    ("weak_constrains", ex.weak_constrains),
                                    ("strong_constrains", ex.strong_constrains)) if v}
