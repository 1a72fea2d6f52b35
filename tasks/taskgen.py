"""doit task generators: the whole stack, one subtask per recipe per stage.

This runs on every ``doit`` call (even ``doit list``), so it only renders and wires;
no stage work and no hashing of large trees happen here.
"""
from __future__ import annotations

import sys
from functools import lru_cache
from typing import Any, Iterator

from doit import get_var

from doit.exceptions import TaskFailed

from .errors import CondoitError, RecipeProblem
from .paths import Layout
from .recovery import recover_doit_db, report, sweep_partial_packages
from .render.stack_loader import load_stack
from .settings import load_settings
from .stages import STAGES
from .stages.base import Context, task_dict

DOIT_CONFIG_BASE: dict[str, Any] = {
    "default_tasks": ["build"],
    "backend": "json",
    "verbosity": 1,
    "action_string_formatting": "new",
    "sort": "definition",  # `doit list` in pipeline order
}

_VARS = ("recipes", "cache", "target", "build", "python", "numpy", "format", "max_glibc", "mirrors",
         "strict", "variants")


def doit_config() -> dict[str, Any]:
    """doit's settings; a damaged doit database is moved aside first (doit would crash on it)."""
    db = Layout.of(context().settings).doit_db
    report(recover_doit_db(db))
    return dict(DOIT_CONFIG_BASE, dep_file=str(db))


@lru_cache(maxsize=1)
def context() -> Context:
    """Settings and the rendered stack, loaded once per doit call."""
    overrides = {k: v for k in _VARS if (v := get_var(k, None)) is not None}
    try:
        settings = load_settings(overrides)
    except CondoitError as exc:
        print(f"condoit: {exc}", file=sys.stderr)
        raise SystemExit(2)
    stack = load_stack(settings)
    if stack.warnings:                      # leniencies, built anyway (strict=1 makes them problems)
        print(f"condoit: {len(stack.warnings)} warning(s) in the recipes under {settings.recipes_dir}:",
              file=sys.stderr)
        for warning in stack.warnings:
            print(str(warning), file=sys.stderr)
    if stack.problems:
        print(f"condoit: {len(stack.problems)} problem(s) in the recipes under {settings.recipes_dir}:",
              file=sys.stderr)
        for problem in stack.problems:
            print(str(problem), file=sys.stderr)
    from .locking import doit_command
    if doit_command(sys.argv) == "list" or get_var("verbose_skips", None):
        for skipped in stack.skipped:
            print(f"condoit: {skipped.name} is skipped for {settings.target_platform} "
                  f"({skipped.reason}): {skipped.meta_path}", file=sys.stderr)
    return Context(settings, stack)


def stage_tasks(stage_name: str) -> Iterator[dict[str, Any]]:
    ctx = context()
    stage = STAGES[stage_name]
    yield {"name": None, "doc": stage.doc}
    for recipe in ctx.stack.in_build_order():
        if stage.is_enabled(recipe, ctx):
            yield task_dict(stage, recipe, ctx)


def render_tasks() -> Iterator[dict[str, Any]]:
    from .render.output import write_rendered
    ctx = context()
    yield {"name": None, "doc": "write the rendered recipe (like `conda render`) and print its path"}
    for recipe in ctx.stack.in_build_order():
        target = ctx.layout.rendered(recipe.name)
        yield {
            "name": recipe.name,
            "doc": f"rendered meta.yaml of {recipe.name} {recipe.version}",
            "actions": [(write_rendered, [recipe, str(target)])],
            "targets": [str(target)],
            "uptodate": [False],
            "verbosity": 2,
        }


PROBLEMS_TASK = "problems"


def stack_problems(problems: tuple[RecipeProblem, ...]) -> TaskFailed:
    """doit action: the stack's recipe problems, as the failure that ends `doit build`."""
    return TaskFailed(f"{len(problems)} problem(s) in the stack's recipes; the recipes they name were not "
                      "built:\n" + "\n".join(str(p) for p in problems))


def build_tasks() -> Iterator[dict[str, Any]]:
    """`build:<recipe>` per recipe; `build` is all of them, then the stack's problems, if any.

    A broken recipe must fail the run, but only after everything that does not need it
    was built: the `problems` task needs every `build:<recipe>` (doit would otherwise
    start it first) and fails with every problem, which doit repeats in its summary.
    """
    ctx = context()
    recipes = ctx.stack.in_build_order()
    group: dict[str, Any] = {"name": None, "doc": "build a recipe and everything it needs into the indexed local channel"}
    if ctx.stack.problems:
        group["task_dep"] = [PROBLEMS_TASK]
        yield {"basename": PROBLEMS_TASK, "doc": "the stack's broken recipes (fails `doit build`)",
               "actions": [(stack_problems, [ctx.stack.problems])], "verbosity": 1,
               "task_dep": [f"build:{r.name}" for r in recipes]}
    yield group
    last = "test" if "test" in STAGES else "index"
    for recipe in recipes:
        yield {
            "name": recipe.name,
            "doc": f"{recipe.name} {recipe.version} and its dependencies, packaged and indexed",
            "actions": None,
            "task_dep": [f"{last}:{name}" for name in ctx.stack.closure(recipe.name)],
        }


def hold_lock_for_writes() -> None:
    """Take the cache lock unless this doit command only reads (list, info, help...)."""
    from .errors import LockBusy
    from .locking import READ_ONLY_COMMANDS, doit_command, hold_cache_lock
    if doit_command(sys.argv) in READ_ONLY_COMMANDS:
        return
    try:
        hold_cache_lock(context().layout.lock)
    except LockBusy as exc:
        print(f"condoit: {exc}", file=sys.stderr)
        raise SystemExit(3)
    sweep_partial_packages(context().layout)
