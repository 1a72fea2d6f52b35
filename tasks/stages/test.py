"""Stage 'test': install each package of the recipe into a fresh prefix with py-rattler and run its tests.

The tests are the files the package ships in ``info/test/`` (tasks/testfiles.py), written
into a work directory with the test/source_files of the patched tree. Commands run under
the target's emulation (binfmt + qemu-user) when cross-compiling, with no LD_LIBRARY_PATH:
a package that only works from the build prefix fails here.
"""
from __future__ import annotations

import hashlib
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..buildenv import SYSTEM_PATH
from ..errors import CondoitError
from ..fsutil import remove_tree, write_bytes_atomic
from ..interrupt import run_own_group
from ..model import Recipe, spec_name
from ..outputs import package_recipes
from ..stagelog import StageLog, stage_log
from ..testfiles import test_commands, test_files
from ..plan import run_closure
from .base import Context, Inputs, Result, Stage
from .extract import Tree
from .package import PackageRecord, PackageResult


@dataclass(frozen=True)
class Tested(Result):
    """The sha256 of each package that passed its tests."""

    packages: tuple[str, ...]


class TestStage(Stage):
    name = "test"
    doc = "install the package into a fresh prefix and run the recipe's tests"
    result = Tested
    version = 3

    def upstream(self, recipe: Recipe, ctx: Context):
        deps = [ctx.ref("index", recipe.name), ctx.ref("package", recipe.name)]
        deps += [ctx.ref("index", *node) for node in _requires_nodes(recipe, ctx)]   # test/requires: pip ...
        # the test prefix installs the package with its run requirements (certifi for requests)
        deps += [ref for dep in run_closure(ctx.stack, ctx.stack.recipe_deps(recipe.name, ("run",)))
                 if dep != recipe.name and (ref := ctx.ref("index", dep)) not in deps]
        if any(p.test.source_files for p in package_recipes(recipe)):
            deps.append(ctx.ref("patch", recipe.name))  # test/source_files are copied from the patched tree
        return deps

    def inputs(self, recipe: Recipe, ctx: Context) -> Any:
        return [_test_inputs(p) for p in package_recipes(recipe)]

    def clean(self, recipe: Recipe, ctx: Context) -> None:
        remove_tree(ctx.layout.test_dir(recipe.name))

    def run(self, recipe: Recipe, ctx: Context, inputs: Inputs) -> Tested:
        made: PackageResult = inputs.get("package")
        patched: Tree | None = inputs.get("patch") if any(p.test.source_files for p in package_recipes(recipe)) \
            else None
        with stage_log(ctx.layout, recipe.name, self.name) as log:
            views = {p.name: p for p in package_recipes(recipe)}
            remove_tree(ctx.layout.test_dir(recipe.name))
            return Tested(tuple(_test_package(views[m.name], recipe, m, patched, ctx, log) for m in made.packages))


def _requires_nodes(recipe: Recipe, ctx: Context) -> list[tuple[str, str]]:
    """The plan's nodes of the stack recipes that ``test/requires`` names (their packages must
    be in the channel before the test prefix is solved)."""
    nodes = ctx.plan.node_set
    found: dict[tuple[str, str], None] = {}
    for package in package_recipes(recipe):
        for spec in package.test.requires:
            dep = ctx.stack.provider(spec_name(spec))
            if dep is None or dep == recipe.name:
                continue
            node = (dep, ctx.platform) if (dep, ctx.platform) in nodes else \
                next((n for n in ctx.plan.nodes if n[0] == dep), None)
            if node is not None:
                found.setdefault(node, None)
    return list(found)


def _test_inputs(package: Recipe) -> dict[str, Any]:
    """A package's test section and the digests of the test files it runs."""
    return {"name": package.name, "test": package.section("test"),
            "files": {rel: hashlib.sha256(data).hexdigest() for rel, data in test_files(package).items()}}


def _test_package(package: Recipe, recipe: Recipe, made: PackageRecord, patched: Tree | None, ctx: Context,
                  log: StageLog) -> str:
    """Install one package (the recipe's or an output's) into a fresh prefix and run its tests."""
    settings = ctx.settings
    work = ctx.layout.test_dir(recipe.name) / package.name
    prefix, tmp = work / "prefix", work / "work"
    tmp.mkdir(parents=True)
    specs = [made.spec] + list(package.test.requires)
    log.note(f"# installing {', '.join(specs)} into {prefix}")
    from ..envs import create_env     # py-rattler's side: only when a test runs
    try:
        create_env(specs, prefix, settings, what=f"test prefix of {package.name}")
    except CondoitError as exc:
        raise log.error(f"the package {package.name} does not install: {exc}", kept=work) from None
    files = test_files(package)
    for rel, data in files.items():
        write_bytes_atomic(tmp / rel, data)
    if patched is not None:
        _copy_matches(patched.path, package.test.source_files, tmp)
    env = {"PATH": f"{prefix}/bin:{SYSTEM_PATH}", "PREFIX": str(prefix), "HOME": str(tmp),
           "LANG": "C.UTF-8", "PKG_NAME": package.name, "PKG_VERSION": made.version,
           "PKG_BUILDNUM": str(made.build_number), "SRC_DIR": str(tmp), "RECIPE_DIR": str(package.recipe_dir),
           "CONDA_PREFIX": str(prefix), "target_platform": settings.target_platform,
           "PYTHON": f"{prefix}/bin/python"}   # conda-build's: the test prefix's (the target's, emulated)
    if settings.cross:
        env["QEMU_LD_PREFIX"] = f"/usr/{settings.target_triplet}"
    for command in test_commands(files, prefix):
        log.note(f"# running {' '.join(command)} in {tmp}")
        proc = run_own_group(command, cwd=tmp, env=env, stdout=log.stream,
                             stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        if proc.returncode != 0:
            raise log.error(f"tests of {package.name} failed ({command[-1]}: exit status {proc.returncode})",
                            kept=work, show_tail=True)
    remove_tree(prefix)
    return made.sha256


def _copy_matches(root: Path, patterns: tuple[str, ...], dest_root: Path) -> None:
    """Copy what each glob matches under ``root`` to the same place under ``dest_root``."""
    for pattern in patterns:
        for match in root.glob(pattern):
            dest = dest_root / match.relative_to(root)
            dest.parent.mkdir(parents=True, exist_ok=True)
            if match.is_dir():
                shutil.copytree(match, dest, symlinks=True, dirs_exist_ok=True)
            else:
                shutil.copy2(match, dest)
