"""Stage 'installer' (one for the whole stack, not part of `doit build`): ``doit installer``.

Reads ``installer/construct.yaml`` beside the recipes directory (constructor's format, the
keys a shell installer uses), solves its specs for the target against the local channel
with py-rattler, and writes ``cache/installer/<name>-<version>-Linux-<arch>.sh`` and its
``.sha256`` (tasks/installer/). Its signature holds the construct file's content and the
package content of every recipe the specs (and the install-time helper) can reach: a
rebuild of the stack that leaves those packages unchanged, or a change to a package the
installer cannot hold, leaves the installer up to date.
"""
from __future__ import annotations

import hashlib
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import CondoitError
from ..installer import CONSTRUCT_FILENAME
from ..model import spec_name
from ..outputs import package_recipes
from ..paths import STACK_DIRNAME
from ..stack import Stack
from ..stagelog import stage_log
from .base import STACK, Context, Inputs, Result, Stage, location

INSTALLER_DIRNAME = "installer"


def construct_path(ctx: Context) -> Path:
    """``installer/construct.yaml`` beside the recipes directory (the repository's for the shipped stack)."""
    return ctx.settings.recipes_dir.parent / INSTALLER_DIRNAME / CONSTRUCT_FILENAME


def reachable(stack: Stack, packages: list[str]) -> set[str]:
    """Recipes whose packages an install of ``packages`` can hold: their run requirements,
    and host requirements that export run requirements (``run_exports``), transitively.
    Build tools and host-only libraries are left out: their change cannot change the installer."""
    def exports(recipe_name: str) -> bool:
        return any(not p.build.run_exports.is_empty() for p in package_recipes(stack.recipe(recipe_name)))

    todo = [r for r in map(stack.provider, packages) if r is not None]
    seen: set[str] = set()
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        todo += stack.recipe_deps(name, ("run",))
        todo += [dep for dep in stack.recipe_deps(name, ("host",)) if exports(dep)]
    return seen


@dataclass(frozen=True)
class InstallerResult(Result):
    file: str                       # the installer's file name in cache/installer/
    sha256: str                     # of the whole installer
    size: int
    packages: tuple[str, ...]       # name-version-build of what it installs
    helper: tuple[str, ...]         # the install-time helper and its libraries' packages
    max_prefix: int                 # the longest install prefix it accepts
    path: str = location(default="")


class InstallerStage(Stage):
    name = "installer"
    doc = "a self-extracting installer of the stack (installer/construct.yaml), like Miniconda"
    scope = STACK
    result = InstallerResult
    version = 1
    in_build = False                # `doit installer` only: `doit build` does not make it

    def upstream(self, recipe: None, ctx: Context):
        """The index of every recipe the specs and the helper can reach (``reachable``; none if
        the construct file cannot be read: the run reports why)."""
        # tasks.installer's modules are imported where used: every `doit` call asks this, and
        # most stacks have no construct file (only `doit installer` needs them)
        if not construct_path(ctx).is_file():
            return []
        from ..installer.construct import load_construct
        from ..installer.solve import HELPER
        try:
            construct = load_construct(construct_path(ctx))
        except CondoitError:
            return []
        reached = reachable(ctx.stack, [*map(spec_name, construct.specs), HELPER])
        target = ctx.settings.target_platform
        return [ctx.ref("index", name, platform) for name, platform in ctx.plan.nodes
                if platform == target and name in reached]

    def inputs(self, recipe: None, ctx: Context) -> Any:
        from ..installer.construct import load_construct
        from ..installer.shell import TEMPLATE
        try:
            construct = load_construct(construct_path(ctx)).signature_data()
        except CondoitError:
            construct = None            # the run says what is wrong, at file:line
        return {"construct": construct, "header": hashlib.sha256(TEMPLATE.read_bytes()).hexdigest()}

    def output_paths(self, recipe: None, ctx: Context, result: InstallerResult) -> list[Path]:
        folder = ctx.layout.installers
        return [folder / result.file, folder / f"{result.file}.sha256"]

    def clean(self, recipe: None, ctx: Context) -> None:
        from ..installer.construct import load_construct
        try:
            name = load_construct(construct_path(ctx)).installer_name(ctx.settings.target_platform)
        except CondoitError:
            return
        for path in (ctx.layout.installers / name, ctx.layout.installers / f"{name}.sha256"):
            path.unlink(missing_ok=True)

    def run(self, recipe: None, ctx: Context, inputs: Inputs) -> InstallerResult:
        from ..installer.build import build_installer
        from ..installer.construct import load_construct
        with stage_log(ctx.layout, STACK_DIRNAME, self.name) as log:
            construct = load_construct(construct_path(ctx))
            log.note(f"# {construct_path(ctx)}: {construct.name} {construct.version}")
            built = build_installer(construct, ctx.layout, ctx.settings,
                                    ctx.layout.scratch(STACK_DIRNAME, self.name), log)
            log.note(f"# wrote {built.path} ({built.size} bytes), sha256 {built.sha256}")
            print(f"condoit: installer {built.path} ({built.size / 1e6:.1f} MB, {len(built.packages)} packages)",
                  file=sys.stderr)      # doit shows a task's stderr
        return InstallerResult(built.path.name, built.sha256, built.size, tuple(p.dist for p in built.packages),
                               tuple(p.dist for p in built.helper), built.max_prefix, str(built.path))
