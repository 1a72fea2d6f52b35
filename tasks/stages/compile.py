"""Stage 'compile': run build.sh in a fresh copy of the patched tree into the host prefix.

The host prefix is long and padded (relocatable binaries) and holds the recipe's `host`
requirements, solved and installed with py-rattler from the local channel, before the
script runs. The files the script adds are the stage's result; for a recipe with
``outputs:``, each output's script then runs and files.json says which files each
package owns (tasks/outputs.py).
"""
from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

from ..buildenv import build_environment, reentry_script
from ..envs import create_env, package_run_exports
from ..fsutil import remove_tree, sha256_file, write_json_atomic, write_text_atomic
from ..model import PKG_HASH_MARKER, Output, Recipe
from ..outputs import compile_inputs, host_specs, output_recipe, owned_files, package_host_records
from ..prefix_files import list_prefix, new_files_digest
from ..stagelog import StageLog, stage_log
from ..stamps import signature
from ..toolchain import resolve_build_requirements, toolchain_identity
from ..warmup import POST_BUILD_MODULES, prefetching
from .base import Context, Stage

# Files of a recipe directory that never influence the build itself.
NOT_BUILD_INPUTS = ("meta.yaml", "run_test.sh", "run_test.py", "run_test.pl", "run_test.bat",
                    "pre-link.sh", "post-link.sh", "pre-unlink.sh", "conda_build_config.yaml")


def build_script(recipe: Recipe) -> str:
    """The script text: build/script from meta.yaml, else the recipe's build.sh."""
    if recipe.build.script:
        return recipe.build.script
    if recipe.build_script_path and Path(recipe.build_script_path).is_file():
        return Path(recipe.build_script_path).read_text()
    return ""


def has_build_script(recipe: Recipe) -> bool:
    """Whether conda-build would run a script: build/script is given or build.sh exists."""
    return bool(recipe.build.script) or recipe.build_script_path is not None


def no_build_script_message(recipe: Recipe) -> str:
    """A recipe with a source but nothing to build it (conda-build would package no file)."""
    line = 1
    try:
        lines = recipe.meta_path.read_text(encoding="utf-8-sig").splitlines()
        line = next((i for i, text in enumerate(lines, 1) if text.startswith("build:")), 1)
    except (OSError, UnicodeDecodeError):
        pass
    return (f"no build script: the recipe directory {recipe.recipe_dir} has no build.sh and "
            f"{recipe.meta_path}:{line} has no `build: script:`, so nothing would build its source\n"
            f"    hint: add {recipe.recipe_dir / 'build.sh'} (run with bash, it installs into $PREFIX) or "
            "`build: script: ...` to meta.yaml; a recipe that only gathers requirements "
            "(a metapackage) has no `source:`")


def recipe_file_digests(recipe: Recipe) -> dict[str, str]:
    """Digests of recipe-directory files build.sh may read (patches are the patch stage's)."""
    patches = {os.path.realpath(p) for s in recipe.sources for p in s.patches}
    digests: dict[str, str] = {}
    for root, dirs, files in os.walk(recipe.recipe_dir):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in sorted(files):
            full = os.path.join(root, name)
            rel = os.path.relpath(full, recipe.recipe_dir)
            if rel in NOT_BUILD_INPUTS or os.path.realpath(full) in patches or name.startswith("."):
                continue
            digests[rel] = sha256_file(Path(full))
    return digests


def newest_mtime(tree: Path, floor: int = 315532800) -> int:
    """SOURCE_DATE_EPOCH: the newest file time of the pristine source (stable across rebuilds)."""
    newest = floor
    for root, _dirs, files in os.walk(tree):
        for name in files:
            try:
                newest = max(newest, int(os.lstat(os.path.join(root, name)).st_mtime))
            except OSError:
                continue
    return newest


class CompileStage(Stage):
    name = "compile"
    doc = "run build.sh into the padded host prefix"
    version = 4

    def upstream(self, recipe: Recipe, ctx: Context) -> list[tuple[str, str]]:
        deps = [("patch", recipe.name)]
        deps += [("index", d) for d in ctx.stack.recipe_deps(recipe.name)]
        return deps

    def inputs(self, recipe: Recipe, ctx: Context) -> Any:
        from ..signatures import environment_variant, recipe_scripts
        stack_packages = {p for r in ctx.stack.recipes for p in r.provides}
        tools = resolve_build_requirements(recipe, ctx.settings, stack_packages)
        return {
            "name": recipe.name, "version": recipe.version,
            "number": recipe.build.number,
            "script": build_script(recipe),
            "script_env": list(recipe.build.script_env),
            "build_requirements": list(recipe.requirements.build),
            "host_requirements": host_specs(recipe),
            "outputs": compile_inputs(recipe.outputs),
            # only the variant keys this recipe uses: `doit python=3.12` leaves xz alone
            "variant": recipe.section("variant"),
            "environment_variant": environment_variant(recipe, ctx.settings,
                                                       recipe_scripts(recipe, build_script(recipe))),
            "recipe_files": recipe_file_digests(recipe),
            "toolchain": toolchain_identity(tools),
            # no cpu_count: CPU_COUNT/MAKEFLAGS reach build.sh, but a build must not depend on them
        }

    def output_paths(self, recipe: Recipe, ctx: Context, outputs: dict[str, Any]) -> list[Path]:
        prefix = ctx.layout.host_prefix(recipe.name)
        built = sorted({f for p in outputs.get("packages", []) for f in p["files"]})
        return [ctx.layout.work(recipe.name, "compile") / "files.json", *(prefix / f for f in built)]

    def clean(self, recipe: Recipe, ctx: Context) -> None:
        remove_tree(ctx.layout.work(recipe.name, "compile"))
        remove_tree(ctx.layout.prefix_base(recipe.name))

    def run(self, recipe: Recipe, ctx: Context) -> dict[str, Any]:
        with stage_log(ctx.layout, recipe.name, self.name) as log:
            return self._build(recipe, ctx, log)

    def _build(self, recipe: Recipe, ctx: Context, log: StageLog) -> dict[str, Any]:
        layout, settings = ctx.layout, ctx.settings
        work = layout.work(recipe.name, "compile")
        src = layout.build_source(recipe.name)  # padded: the package stage replaces its path
        prefix = layout.host_prefix(recipe.name)
        build_prefix = layout.build_prefix(recipe.name)

        has_script = has_build_script(recipe)
        if not has_script and recipe.sources and not recipe.outputs:
            raise log.error(no_build_script_message(recipe))
        stack_packages = {p for r in ctx.stack.recipes for p in r.provides}
        tools = resolve_build_requirements(recipe, settings, stack_packages)

        remove_tree(work)
        remove_tree(layout.prefix_base(recipe.name))
        work.mkdir(parents=True)
        shutil.copytree(layout.work(recipe.name, "patch"), src, symlinks=True)

        log.note(f"# host requirements: {', '.join(host_specs(recipe)) or '(none)'}")
        host = create_env(host_specs(recipe), prefix, settings, what=f"host prefix of {recipe.name}")
        create_env(tools.stack, build_prefix, settings, platform=settings.build_platform,
                   what=f"build prefix of {recipe.name}")
        before = set(list_prefix(prefix))

        host_pins = sorted(f"{r.name} {r.version} {r.build}" for r in host)
        pkg_hash, build_string = package_hash(recipe, host_pins, ctx)
        source_date_epoch = newest_mtime(layout.work(recipe.name, "extract"))
        env = build_environment(recipe, settings, src_dir=src, prefix=prefix, build_prefix=build_prefix,
                                pkg_hash=pkg_hash, build_string=build_string,
                                source_date_epoch=source_date_epoch)
        script = work / "build_script.sh"
        write_text_atomic(script, build_script(recipe) or "true\n")
        reenter = work / "conda_build.sh"
        write_text_atomic(reenter, reentry_script(env, script, src))
        reenter.chmod(0o755)

        log.note(f"# re-enter this build's environment: bash {reenter}")
        with prefetching(POST_BUILD_MODULES):  # loads while build.sh runs; the package stage needs them
            proc = subprocess.run(["bash", "-x", "-e", str(script)], cwd=src, env=env,
                                  stdout=log.stream, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        if proc.returncode != 0:
            raise log.error(f"build script exited with status {proc.returncode}; "
                            f"re-enter the build environment with `bash {reenter}`", kept=work, show_tail=True)

        files = sorted(set(list_prefix(prefix)) - before)
        if not files and not recipe.outputs and has_script:   # no script, no source: a metapackage
            script_name = recipe.build_script_path or f"build/script of {recipe.meta_path}"
            raise log.error(f"the build script ({script_name}) ran but installed nothing into $PREFIX "
                            f"({prefix})", kept=work, show_tail=True)
        overrides = {}
        for key, fname in (("version", "__conda_version__.txt"), ("build_number", "__conda_buildnum__.txt")):
            f = src / fname
            if f.is_file():
                overrides[key] = f.read_text().strip()
        host_records = [{"name": r.name, "version": r.version, "build": r.build, "file_name": r.file_name,
                         "sha256": r.sha256, "depends": list(r.depends),
                         "run_exports": package_run_exports(layout, r)} for r in host]
        packages = [{"name": recipe.name, "files": files, "build_string": build_string}]
        if recipe.outputs:
            packages = [_make_output(recipe, o, files, host_records, env, src, work, ctx, log)
                        for o in recipe.outputs]
        files = sorted({f for p in packages for f in p["files"]})
        result = {"files": files, "packages": packages, "host": host_records, "pkg_hash": pkg_hash,
                  "build_string": build_string,
                  "overrides": overrides, "source_date_epoch": source_date_epoch,
                  "prefix": str(prefix), "src_dir": str(src), "tools": list(tools.system)}
        write_json_atomic(work / "files.json", result)
        return {"files": new_files_digest(prefix, files), "host": host_pins, "pkg_hash": pkg_hash,
                "build_string": build_string, "overrides": overrides, "packages": packages}


def package_hash(package: Recipe, host_pins: list[str], ctx: Context) -> tuple[str, str]:
    """(PKG_HASH, build string) of one package: the hash covers what it was built against."""
    pkg_hash = "h" + signature({"host": host_pins, "variant": package.section("variant"),
                                "target": ctx.settings.target_platform})[:7]
    # conda-forge writes `string: h{{ PKG_HASH }}_...`: the marker stands for the hash digits
    build_string = (package.build.string or f"{pkg_hash}_{package.build.number}").replace(
        PKG_HASH_MARKER, pkg_hash[1:])
    return pkg_hash, build_string


def _make_output(recipe: Recipe, output: Output, top_files: list[str], host_records: list[dict[str, Any]],
                 top_env: dict[str, str], src: Path, work: Path, ctx: Context, log: StageLog) -> dict[str, Any]:
    """Decide (and for a ``script:`` output, make) the files of one output, in recipe order."""
    package = output_recipe(recipe, output)
    pins = sorted(f"{r['name']} {r['version']} {r['build']}"
                  for r in package_host_records(package, recipe, host_records))
    pkg_hash, build_string = package_hash(package, pins, ctx)
    if not output.script:
        files = owned_files(recipe, output, top_files)
        log.note(f"# output {output.name}: {len(files)} file(s)" + ("" if files else " (a metapackage)"))
        return {"name": output.name, "files": files, "build_string": build_string}
    script = recipe.recipe_dir / output.script
    if not script.is_file():
        raise log.error(f"output {output.name}: script {output.script} not found in {recipe.recipe_dir}")
    prefix = Path(top_env["PREFIX"])
    env = {**top_env, "PKG_NAME": output.name, "PKG_VERSION": output.version,
           "PKG_BUILDNUM": str(output.build.number), "PKG_BUILD_STRING": build_string, "PKG_HASH": pkg_hash,
           "TOP_PKG_NAME": recipe.name, "TOP_PKG_VERSION": recipe.version}
    before = set(list_prefix(prefix))
    runner = (output.script_interpreter or "bash -x -e").split()
    log.note(f"# output {output.name}: {' '.join(runner)} {script}")
    proc = subprocess.run(runner + [str(script)], cwd=src, env=env, stdout=log.stream,
                          stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    if proc.returncode != 0:
        raise log.error(f"script {output.script} of output {output.name} exited with status {proc.returncode}",
                        kept=work, show_tail=True)
    return {"name": output.name, "files": sorted(set(list_prefix(prefix)) - before),
            "build_string": build_string}
