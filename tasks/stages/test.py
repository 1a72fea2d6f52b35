"""Stage 'test': install each package of the recipe into a fresh prefix with py-rattler and run its tests.

Commands run under the target's emulation (binfmt + qemu-user) when cross-compiling, with
no LD_LIBRARY_PATH: a package that only works from the build prefix fails here.
"""
from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

from ..buildenv import SYSTEM_PATH
from ..envs import create_env
from ..errors import CondoitError
from ..fsutil import remove_tree, sha256_file, write_text_atomic
from ..model import Recipe
from ..outputs import package_recipes
from ..stagelog import StageLog, stage_log
from ..stamps import stamp_outputs
from .base import Context, Stage

RUNNERS = {".sh": ["bash", "-x", "-e"], ".py": ["{prefix}/bin/python"], ".pl": ["{prefix}/bin/perl"]}


def test_script(recipe: Recipe) -> str:
    """One bash script: the test commands, then the imports, then run_test.* scripts."""
    lines = ["set -ex"]
    lines += list(recipe.test.commands)
    lines += [f'"$PREFIX/bin/python" -c "import {mod}"' for mod in recipe.test.imports]
    for script in recipe.test.scripts:
        suffix = Path(script).suffix
        if suffix in RUNNERS:
            runner = " ".join(RUNNERS[suffix]).replace("{prefix}", "$PREFIX")
            lines.append(f'{runner} "{Path(script).name}"')
    return "\n".join(lines) + "\n"


class TestStage(Stage):
    name = "test"
    doc = "install the package into a fresh prefix and run the recipe's tests"
    version = 2

    def upstream(self, recipe: Recipe, ctx: Context) -> list[tuple[str, str]]:
        deps = [("index", recipe.name), ("package", recipe.name)]
        if any(p.test.source_files for p in package_recipes(recipe)):
            deps.append(("patch", recipe.name))  # test/source_files are copied from the patched tree
        return deps

    def inputs(self, recipe: Recipe, ctx: Context) -> Any:
        return [_test_inputs(p) for p in package_recipes(recipe)]

    def clean(self, recipe: Recipe, ctx: Context) -> None:
        remove_tree(ctx.layout.test_dir(recipe.name))

    def run(self, recipe: Recipe, ctx: Context) -> dict[str, Any]:
        with stage_log(ctx.layout, recipe.name, self.name) as log:
            made = (stamp_outputs(ctx.layout.stamp(recipe.name, "package")) or {}).get("packages", [])
            views = {p.name: p for p in package_recipes(recipe)}
            remove_tree(ctx.layout.test_dir(recipe.name))
            return {"packages": [_test_package(views[m["name"]], recipe, m, ctx, log) for m in made]}


def _test_inputs(package: Recipe) -> dict[str, Any]:
    """A package's test section and the digests of the recipe files it uses."""
    files = {}
    for pattern in package.test.files:
        for match in sorted(package.recipe_dir.glob(pattern)):
            if match.is_file():
                files[str(match.relative_to(package.recipe_dir))] = sha256_file(match)
    return {"name": package.name, "test": package.section("test"), "files": files,
            "scripts": {Path(s).name: sha256_file(Path(s)) for s in package.test.scripts}}


def _test_package(package: Recipe, recipe: Recipe, made: dict[str, Any], ctx: Context,
                  log: StageLog) -> str:
    """Install one package (the recipe's or an output's) into a fresh prefix and run its tests."""
    layout, settings = ctx.layout, ctx.settings
    stem = made["archive"].removesuffix(".conda").removesuffix(".tar.bz2")
    version, build = stem[len(package.name) + 1:].rsplit("-", 1)
    work = layout.test_dir(recipe.name) / package.name
    prefix, tmp = work / "prefix", work / "work"
    tmp.mkdir(parents=True)
    specs = [f"{package.name} =={version} {build}"] + list(package.test.requires)
    log.note(f"# installing {', '.join(specs)} into {prefix}")
    try:
        create_env(specs, prefix, settings, what=f"test prefix of {package.name}")
    except CondoitError as exc:
        raise log.error(f"the package {package.name} does not install: {exc}", kept=work) from None
    _copy_matches(package.recipe_dir, package.test.files, tmp)
    _copy_matches(layout.work(recipe.name, "patch"), package.test.source_files, tmp)
    for script in package.test.scripts:
        shutil.copy2(script, tmp / Path(script).name)
    script = work / "run_test.sh"
    write_text_atomic(script, test_script(package))
    env = {"PATH": f"{prefix}/bin:{SYSTEM_PATH}", "PREFIX": str(prefix), "HOME": str(tmp),
           "LANG": "C.UTF-8", "PKG_NAME": package.name, "PKG_VERSION": version,
           "PKG_BUILDNUM": str(package.build.number), "SRC_DIR": str(tmp), "RECIPE_DIR": str(package.recipe_dir),
           "CONDA_PREFIX": str(prefix), "target_platform": settings.target_platform}
    if settings.cross:
        env["QEMU_LD_PREFIX"] = f"/usr/{settings.target_triplet}"
    log.note(f"# running {script}")
    proc = subprocess.run(["bash", str(script)], cwd=tmp, env=env, stdout=log.stream,
                          stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    if proc.returncode != 0:
        raise log.error(f"tests of {package.name} failed (exit status {proc.returncode})", kept=work,
                        show_tail=True)
    remove_tree(prefix)
    return made["sha256"]


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
