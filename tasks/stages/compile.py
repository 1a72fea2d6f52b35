"""Stage 'compile': run build.sh in a fresh copy of the patched tree into the host prefix.

The host prefix is long and padded (relocatable binaries) and holds the recipe's `host`
requirements, solved and installed with py-rattler from the local channel, before the
script runs. The files the script adds are the stage's result; for a recipe with
``outputs:``, each output's script then runs and the result says which files each
package owns (tasks/outputs.py).
"""
from __future__ import annotations

import dataclasses
import os
import stat
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..buildenv import build_environment, reentry_script
from ..crosspython import build_python_specs, cross_python
from ..crosspython import prepare as prepare_cross_python
from ..fsutil import copy_tree, remove_tree, sha256_file, tree_digest, write_text_atomic
from ..interrupt import run_own_group
from ..model import PKG_HASH_MARKER, Frozen, Output, Recipe
from ..outputs import compile_inputs, host_specs, output_recipe, owned_files, package_host_records
from ..prefix_files import list_prefix
from ..stagelog import StageLog, stage_log
from ..stamps import signature
from ..toolchain import resolve_build_requirements, toolchain_identity
from .base import Context, Inputs, Ref, Result, Stage, location
from .extract import Tree

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


def recipe_file_digests(recipe: Recipe, memo: dict | None = None) -> dict[str, str]:
    """Digests of recipe-directory files build.sh may read (patches are the patch stage's).
    ``memo`` (a run's ``Context.memo``): compile and package of a recipe both ask, once each."""
    key = ("recipe_files", str(recipe.recipe_dir))
    if memo is not None and key in memo:
        return memo[key]
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
    if memo is not None:
        memo[key] = digests
    return digests


def host_bytecode(rel: str, before: set[str] | frozenset[str]) -> bool:
    """A ``__pycache__/*.pyc`` the build's python wrote for a module a host package installed
    (importing pip or setuptools from the host prefix): not the recipe's file."""
    head, sep, name = rel.rpartition("/__pycache__/")
    return bool(sep) and name.endswith(".pyc") and f"{head}/{name.split('.', 1)[0]}.py" in before


def newest_mtime(tree: Path, floor: int = 315532800) -> int:
    """SOURCE_DATE_EPOCH: the newest file time of the pristine source (stable across rebuilds)."""
    newest = floor
    for root, _dirs, files in os.walk(tree):
        for name in files:
            try:
                st = os.lstat(os.path.join(root, name))
            except OSError:
                continue
            if not stat.S_ISLNK(st.st_mode):    # extraction gives a symlink the time it was made
                newest = max(newest, int(st.st_mtime))
    return newest


@dataclass(frozen=True)
class HostRecord:
    """A package of the host prefix: what the build was made against."""

    name: str
    version: str
    build: str
    file_name: str
    sha256: str
    depends: tuple[str, ...] = ()
    run_exports: Frozen = Frozen()

    @property
    def pin(self) -> str:
        return f"{self.name} {self.version} {self.build}"


@dataclass(frozen=True)
class BuiltPackage:
    """The files one package of the recipe owns (the recipe itself, or one output)."""

    name: str
    files: tuple[str, ...]
    build_string: str


@dataclass(frozen=True)
class CompileResult(Result):
    """What build.sh (and the outputs' scripts) made, and what it was made against."""

    files_digest: str                   # content of every file installed (portable: $PREFIX)
    packages: tuple[BuiltPackage, ...]
    host: tuple[HostRecord, ...]
    pkg_hash: str
    build_string: str
    overrides: Frozen                   # version / build_number from __conda_version__.txt ...
    source_date_epoch: int              # the newest file time of the pristine source
    tools: tuple[str, ...] = ()         # build-machine commands the build requirements named
    prefix: Path = location(default=Path())       # the padded host prefix the files are in
    src_dir: Path = location(default=Path())      # the padded tree build.sh ran in

    @property
    def files(self) -> tuple[str, ...]:
        return tuple(sorted({f for p in self.packages for f in p.files}))

    def fingerprint(self) -> Any:
        """Content only: a new file time in the source (SOURCE_DATE_EPOCH) alone does not make
        the package again when the files came out the same (early cutoff)."""
        data = super().fingerprint()
        del data["source_date_epoch"]
        return data


def unsupported(recipe: Recipe) -> list[str]:
    """What a recipe asks for that condoit does not do: refused, never silently ignored."""
    found = []
    if recipe.build.merge_build_host:
        found.append("build/merge_build_host: true (one prefix for build and host requirements) is not "
                     "supported: condoit cross compiles, so build tools and target libraries live in "
                     "separate prefixes; remove the key and list target libraries under requirements/host")
    for output in recipe.outputs:
        if output.type != "conda":
            found.append(f"output {output.name}: type: {output.type} is not supported: condoit makes "
                         "conda packages only; remove `type:` or make it `type: conda`")
    return found


class CompileStage(Stage):
    name = "compile"
    doc = "run build.sh into the padded host prefix"
    result = CompileResult
    version = 5

    def upstream(self, recipe: Recipe, ctx: Context) -> list[Ref]:
        # the patched tree, the pristine one (its file times: SOURCE_DATE_EPOCH), and the
        # index of every package the host and build prefixes get from the stack (ctx.plan)
        return [ctx.ref("patch", recipe.name), ctx.ref("extract", recipe.name),
                *(ctx.ref("index", name, platform) for name, platform in ctx.plan.needs.get(
                    (recipe.name, ctx.platform), ()))]

    def inputs(self, recipe: Recipe, ctx: Context) -> Any:
        from ..signatures import environment_variant, recipe_scripts
        tools = resolve_build_requirements(recipe, ctx.settings, ctx.stack.packages)
        script = build_script(recipe)
        return {
            "name": recipe.name, "version": recipe.version,
            "number": recipe.build.number,
            "script": script,
            "script_env": list(recipe.build.script_env),
            "build_requirements": list(recipe.requirements.build),
            "host_requirements": host_specs(recipe),
            "outputs": compile_inputs(recipe.outputs),
            # only the variant keys this recipe uses: `doit python=3.12` leaves xz alone
            "variant": recipe.section("variant"),
            "environment_variant": environment_variant(recipe, ctx.settings, recipe_scripts(recipe, script)),
            "recipe_files": recipe_file_digests(recipe, ctx.memo),
            "toolchain": toolchain_identity(tools, ctx.layout.tool_versions),
            # no cpu_count: CPU_COUNT/MAKEFLAGS reach build.sh, but a build must not depend on them
        }

    def output_paths(self, recipe: Recipe, ctx: Context, result: CompileResult) -> list[str]:
        prefix = str(result.prefix)     # strings: thousands of files, checked on every run
        return [f"{prefix}/{f}" for f in result.files]

    def clean(self, recipe: Recipe, ctx: Context) -> None:
        remove_tree(ctx.layout.work(recipe.name, "compile"))
        remove_tree(ctx.layout.prefix_base(recipe.name))

    def run(self, recipe: Recipe, ctx: Context, inputs: Inputs) -> CompileResult:
        with stage_log(ctx.layout, recipe.name, self.name) as log:
            return self._build(recipe, ctx, inputs.get("patch"), inputs.get("extract"), log)

    def _build(self, recipe: Recipe, ctx: Context, patched: Tree, pristine: Tree, log: StageLog) -> CompileResult:
        # local: what only a build needs is not loaded by the checks every `doit` call makes
        from ..cores import claimed_cores
        from ..envs import create_env, package_run_exports
        from ..pyhints import build_failure_hint
        from ..warmup import POST_BUILD_MODULES, prefetching
        layout, settings = ctx.layout, ctx.settings
        work = layout.work(recipe.name, "compile")
        src = layout.build_source(recipe.name)  # padded: the package stage replaces its path
        prefix = layout.host_prefix(recipe.name)
        build_prefix = layout.build_prefix(recipe.name)

        refused = unsupported(recipe) + [f"build requirement {m}" for m in
                                         ctx.plan.missing.get((recipe.name, ctx.platform), ())]
        if refused:
            raise log.error("\n  ".join(["the recipe asks for what condoit cannot do:", *refused]))
        has_script = has_build_script(recipe)
        if not has_script and recipe.sources and not recipe.outputs:
            raise log.error(no_build_script_message(recipe))
        tools = resolve_build_requirements(recipe, settings, ctx.stack.packages)

        remove_tree(work)
        remove_tree(layout.prefix_base(recipe.name))
        work.mkdir(parents=True)
        copy_tree(patched.path, src)

        log.note(f"# host requirements: {', '.join(host_specs(recipe)) or '(none)'}")
        host = create_env(host_specs(recipe), prefix, settings, what=f"host prefix of {recipe.name}")
        if tools.stack:
            log.note(f"# build requirements from the stack, for {settings.build_platform}: {', '.join(tools.stack)}")
        create_env(tools.stack + build_python_specs(recipe, settings, ctx.stack.packages), build_prefix, settings,
                   platform=settings.build_platform, what=f"build prefix of {recipe.name}")
        tools.toolchain.install(build_prefix)   # zig: the compiler wrappers CC, CXX ... name
        cross = cross_python(recipe, settings, prefix, build_prefix)
        if cross is not None:                   # before the prefix is listed: none of it is packaged
            prepare_cross_python(cross)
        before = set(list_prefix(prefix))

        host_records = tuple(HostRecord(r.name, r.version, r.build, r.file_name, r.sha256, tuple(r.depends),
                                        Frozen(package_run_exports(layout, r))) for r in host)
        pkg_hash, build_string = package_hash(recipe, sorted(r.pin for r in host_records), ctx)
        source_date_epoch = newest_mtime(pristine.path)
        env = build_environment(recipe, settings, src_dir=src, prefix=prefix, build_prefix=build_prefix,
                                pkg_hash=pkg_hash, build_string=build_string,
                                source_date_epoch=source_date_epoch)
        script = work / "build_script.sh"
        write_text_atomic(script, build_script(recipe) or "true\n")
        reenter = work / "conda_build.sh"
        write_text_atomic(reenter, reentry_script(env, script, src))
        reenter.chmod(0o755)

        log.note(f"# re-enter this build's environment: bash {reenter}")
        with claimed_cores(layout.core_claims, settings.cpu_count) as cores, prefetching(POST_BUILD_MODULES):
            if cores != settings.cpu_count:     # other builds hold the rest (tasks/cores.py)
                env.update(CPU_COUNT=str(cores), MAKEFLAGS=f"-j{cores}")
                log.note(f"# {cores} of {settings.cpu_count} cores: other builds are running")
            proc = run_own_group(["bash", "-x", "-e", str(script)], cwd=src, env=env,
                                 stdout=log.stream, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        if proc.returncode != 0:
            raise log.error(f"build script exited with status {proc.returncode}; "
                            f"re-enter the build environment with `bash {reenter}`" + build_failure_hint(log.path),
                            kept=work, show_tail=True)

        files = tuple(sorted(f for f in set(list_prefix(prefix)) - before if not host_bytecode(f, before)))
        if not files and not recipe.outputs and has_script:   # no script, no source: a metapackage
            script_name = recipe.build_script_path or f"build/script of {recipe.meta_path}"
            raise log.error(f"the build script ({script_name}) ran but installed nothing into $PREFIX "
                            f"({prefix})", kept=work, show_tail=True)
        overrides = {}
        for key, fname in (("version", "__conda_version__.txt"), ("build_number", "__conda_buildnum__.txt")):
            f = src / fname
            if f.is_file():
                overrides[key] = f.read_text().strip()
        packages = (BuiltPackage(recipe.name, files, build_string),)
        if recipe.outputs:
            packages = tuple(_make_output(recipe, o, files, host_records, env, src, work, ctx, log)
                             for o in recipe.outputs)
        result = CompileResult(files_digest="", packages=packages, host=host_records, pkg_hash=pkg_hash,
                               build_string=build_string, overrides=Frozen(overrides),
                               source_date_epoch=source_date_epoch, tools=tools.system, prefix=prefix,
                               src_dir=src)
        return dataclasses.replace(result, files_digest=tree_digest(prefix, files=result.files, relocatable=True))


def package_hash(package: Recipe, host_pins: list[str], ctx: Context) -> tuple[str, str]:
    """(PKG_HASH, build string) of one package: the hash covers what it was built against."""
    pkg_hash = "h" + signature({"host": host_pins, "variant": package.section("variant"),
                                "target": ctx.settings.target_platform})[:7]
    # conda-forge writes `string: h{{ PKG_HASH }}_...`: the marker stands for the hash digits
    build_string = (package.build.string or f"{pkg_hash}_{package.build.number}").replace(
        PKG_HASH_MARKER, pkg_hash[1:])
    return pkg_hash, build_string


def _make_output(recipe: Recipe, output: Output, top_files: tuple[str, ...], host_records: tuple[HostRecord, ...],
                 top_env: dict[str, str], src: Path, work: Path, ctx: Context, log: StageLog) -> BuiltPackage:
    """Decide (and for a ``script:`` output, make) the files of one output, in recipe order."""
    package = output_recipe(recipe, output)
    pins = sorted(r.pin for r in package_host_records(package, recipe, host_records))
    pkg_hash, build_string = package_hash(package, pins, ctx)
    if not output.script:
        files = owned_files(recipe, output, top_files)
        log.note(f"# output {output.name}: {len(files)} file(s)" + ("" if files else " (a metapackage)"))
        return BuiltPackage(output.name, tuple(files), build_string)
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
    proc = run_own_group(runner + [str(script)], cwd=src, env=env, stdout=log.stream,
                         stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    if proc.returncode != 0:
        raise log.error(f"script {output.script} of output {output.name} exited with status {proc.returncode}",
                        kept=work, show_tail=True)
    return BuiltPackage(output.name, tuple(sorted(set(list_prefix(prefix)) - before)), build_string)
