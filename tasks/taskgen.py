"""doit's side of an Engine: the config, and one task generator per stage plus render and build.

dodo.py makes the engine from doit's command line (``engine_from_doit``) and yields
``all_tasks(engine)`` from its one task generator. The generators run on every
``doit`` call (even ``doit list``), so they only render and wire: no stage work, no hashing
of large trees. A task's actions get the job's ``Context`` (plain data: picklable for
``-P process``), never the engine.
"""
from __future__ import annotations

import gc
import inspect
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterator

from doit import get_var
from doit.exceptions import TaskFailed

from .errors import CondoitError, RecipeProblem
from .locking import READ_ONLY_COMMANDS, doit_command, only_looks, run_targets, unusable_cache
from .recovery import recover_doit_db, report
from .schedule import by_priority, doit_processes
from .settings import VARIABLES, load_settings, unknown_variables
from .model import Recipe
from .paths import STACK_DIRNAME
from .progress import RUN_LOG_META, STAGE_LOG_META, ProgressReporter
from .stages.base import STACK, Context, Ref, Stage, clean, execute, is_current

if TYPE_CHECKING:
    from .engine import Engine

DOIT_CONFIG_BASE: dict[str, Any] = {
    "default_tasks": ["build"],
    "backend": "json",
    "verbosity": 1,
    "action_string_formatting": "new",
    "sort": "definition",  # `doit list` in pipeline order
}

PROBLEMS_TASK = "problems"


# doit asks ``inspect.signature`` of a task's uptodate callable on every check (7000 a no-op
# run of 1000 recipes): it is a fact of the code, found once here.
is_current.__signature__ = inspect.signature(is_current)  # type: ignore[attr-defined]


def engine_from_doit(argv: list[str]) -> "Engine":
    """The engine of this doit call: settings from doit's variables (``doit target=linux-64 ...``);
    the lock is for commands that write (not list, info, help, or a run of status and explain)."""
    from .engine import Engine
    overrides = {k: v for k in VARIABLES if (v := get_var(k, None)) is not None}
    try:
        unknown = unknown_variables(argv, also=("verbose_skips", "dry_run"))
        if unknown:
            raise CondoitError(unknown)
        settings = load_settings(overrides)
    except CondoitError as exc:
        print(f"condoit: {exc}", file=sys.stderr)
        raise SystemExit(2)
    command = doit_command(argv)
    return Engine(settings, writes=command not in READ_ONLY_COMMANDS and not only_looks(argv),
                  verbose_skips=command == "list" or bool(get_var("verbose_skips", None)))


def doit_config(engine: "Engine", argv: list[str]) -> dict[str, Any]:
    """doit's settings; a damaged doit database is moved aside first (doit would crash on it).
    A run that only looks (status, explain) keeps doit's records of itself in a file of its
    own, removed at exit: doit rewrites its whole database at the end of a run, and that
    would put back what a build running beside it had replaced."""
    if only_looks(argv):
        return dict(DOIT_CONFIG_BASE, dep_file=private_doit_db(), reporter=ProgressReporter)
    db = engine.layout.doit_db
    if db.parent.exists() and not db.parent.is_dir():
        print(unusable_cache(db.parent, "it is not a directory"), file=sys.stderr)
        raise SystemExit(2)
    report(recover_doit_db(db))
    return dict(DOIT_CONFIG_BASE, dep_file=str(db), reporter=ProgressReporter)


def private_doit_db() -> str:
    """A path for a doit database nobody else reads (in the temporary directory, not the
    cache), deleted when this process ends."""
    import atexit
    import os
    import shutil
    import tempfile
    directory = tempfile.mkdtemp(prefix="condoit-look-")
    atexit.register(shutil.rmtree, directory, ignore_errors=True)
    return os.path.join(directory, "doit.json")


def all_tasks(engine: "Engine", argv: list[str] | None = None) -> Iterator[dict[str, Any]]:
    """Every task, in `doit list` order: render, one group per stage of the registry, build.

    One generator yields them all (each dict names its ``basename``): doit orders the
    generators of a dodo file by their line, and this keeps the registry's order. A target
    in ``argv`` that names no task gets a hint before doit's own refusal."""
    wanted: dict[str, set[str]] = {}           # group -> names asked for, not seen yet
    for target in run_targets(argv or []):
        group, _, name = target.partition(":")
        if name:
            wanted.setdefault(group, set()).add(name)
    for task in _all_tasks(engine):
        if wanted and (names := wanted.get(task["basename"])):
            names.discard(task.get("name"))
        yield task
    for target in sorted(f"{group}:{name}" for group, names in wanted.items() for name in names):
        if not Path(target).exists():       # doit also takes a file a task makes
            print(f"condoit: {unknown_target_hint(engine, target)}", file=sys.stderr)
    gc.freeze()     # what was made so far lives as long as the run: no collection scans it again


def unknown_target_hint(engine: "Engine", target: str) -> str:
    """Why ``group:name`` is no task: a recipe skipped for this target, or a near name."""
    group, name = target.split(":", 1)
    recipe = name.split("@", 1)[0]
    for skipped in engine.stack.skipped:
        if skipped.name == recipe:
            return f"{target}: {recipe} is skipped for {engine.target} ({skipped.reason}): {skipped.meta_path}"
    if any(problem.path.parent.name == recipe for problem in engine.stack.problems):
        return f"{target}: the recipe {recipe} has problems (above), so it has no tasks"
    import difflib
    known = sorted({node[0] for node in engine.plan.nodes})
    near = difflib.get_close_matches(recipe, known, n=3)
    if near:
        return f"{target}: no recipe {recipe!r}; did you mean {' or '.join(f'{group}:{n}' for n in near)}?"
    return f"{target}: no recipe {recipe!r} under {engine.settings.recipes_dir} (`doit list` names them)"


def _all_tasks(engine: "Engine") -> Iterator[dict[str, Any]]:
    engine.open()
    yield from _named("render", render_tasks(engine))
    for name in engine.stages:
        yield from _named(name, stage_tasks(engine, name))
    yield from _named("build", build_tasks(engine))
    jobs = engine_jobs(engine)
    yield from _named("explain", explain_tasks(engine, jobs))
    yield from look_tasks(engine, jobs)
    yield purge_task(engine, jobs)


def _named(basename: str, tasks: Iterator[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    for task in tasks:
        yield {"basename": basename, **task}


def task_dict(stage: Stage, ref: Ref, ctx: Context, recipe: Recipe | None) -> dict[str, Any]:
    """The doit task of one job (plain data; picklable actions)."""
    target = ctx.plan.target
    where = f" for {ref.platform}" if ref.platform and ref.platform != target else ""
    if recipe is not None and recipe.build.noarch and ref.platform:   # one package, channel/noarch/
        where = f", noarch: {recipe.build.noarch}: built once, for every platform"
    task: dict[str, Any] = {
        "doc": f"{stage.doc} ({recipe.name} {recipe.version}{where})" if recipe else stage.doc,
        "actions": [(execute, [stage, ref, ctx])],
        "uptodate": [(is_current, [stage, ref, ctx])],
        "task_dep": [up.task(target) for up in stage.upstream(recipe, ctx)],
        "targets": [str(ctx.stamp_path(ref))],
        "clean": [(clean, [stage, ref, ctx])],
        "meta": {STAGE_LOG_META: str(ctx.layout.log(ref.recipe or STACK_DIRNAME, ref.stage))},   # for `-v 2`
    }
    if ref.recipe:
        task["name"] = ref.task(target).split(":", 1)[1]
    return task


def stage_tasks(engine: "Engine", stage_name: str) -> Iterator[dict[str, Any]]:
    """A stage's jobs: subtasks ``stage:recipe[@platform]``, or one task for a stack stage."""
    stage = engine.stages[stage_name]
    if stage.scope != STACK:
        yield {"name": None, "doc": stage.doc}
    for ref, ctx, recipe in engine.jobs(stage_name):
        yield task_dict(stage, ref, ctx, recipe)


RENDER_DOC = "write the rendered recipe (like `conda render`) and print its path"


def render_tasks(engine: "Engine") -> Iterator[dict[str, Any]]:
    from .render.output import write_rendered
    yield {"name": None, "doc": RENDER_DOC}
    for recipe in engine.stack.in_build_order():
        target = engine.layout.rendered(recipe.name)
        yield {
            "name": recipe.name,
            "doc": f"rendered meta.yaml of {recipe.name} {recipe.version}",
            "actions": [(write_rendered, [recipe, str(target)])],
            "targets": [str(target)],
            "uptodate": [False],
            "verbosity": 2,
        }


def stack_problems(problems: tuple[RecipeProblem, ...]) -> TaskFailed:
    """doit action: the stack's recipe problems, as the failure that ends `doit build`."""
    return TaskFailed(f"{len(problems)} problem(s) in the stack's recipes; the recipes they name were not "
                      "built:\n" + "\n".join(str(p) for p in problems))


BUILD_DOC = "build a recipe and everything it needs into the indexed local channel"


def build_tasks(engine: "Engine") -> Iterator[dict[str, Any]]:
    """``build:<recipe>`` per recipe (and ``build:<recipe>@<platform>`` for what a cross build
    needs from the build machine): every stage of it, and ``build:`` of what it needs.
    ``build`` is all of them, the stack stages, then the stack's problems, if any.

    A broken recipe must fail the run, but only after everything that does not need it
    was built: the `problems` task needs every `build:<recipe>` (doit would otherwise
    start it first) and fails with every problem, which doit repeats in its summary.
    """
    target, plan = engine.target, engine.plan
    own: dict[tuple[str, str], list[str]] = {}
    stack_stages: list[str] = []
    platforms: dict[str, list[str]] = {}
    for n, p in plan.nodes:
        platforms.setdefault(n, []).append(p)
    for name, stage in engine.stages.items():
        for ref, _ctx, _recipe in engine.jobs(name):
            if stage.scope == STACK:
                if getattr(stage, "in_build", True):    # the installer is made by `doit installer` only
                    stack_stages.append(ref.task(target))
            elif ref.platform:
                own.setdefault((ref.recipe, ref.platform), []).append(ref.task(target))
            else:   # a source stage serves every platform the recipe is built for
                for platform in platforms.get(ref.recipe, ()):
                    own.setdefault((ref.recipe, platform), []).append(ref.task(target))

    def group(node: tuple[str, str]) -> str:
        return f"build:{node[0]}" if node[1] == target else f"build:{node[0]}@{node[1]}"

    problems = engine.stack.problems
    head: dict[str, Any] = {"name": None, "doc": BUILD_DOC, "task_dep": stack_stages,
                            "meta": {RUN_LOG_META: str(engine.layout.run_log)}}
    if problems:
        head["task_dep"] = [*stack_stages, PROBLEMS_TASK]
        yield {"basename": PROBLEMS_TASK, "doc": "the stack's broken recipes (fails `doit build`)",
               "actions": [(stack_problems, [problems])], "verbosity": 1,
               "task_dep": [group((n, p)) for n, p in plan.nodes if p == target]}
    yield head
    # doit dispatches a group's subtasks in the order they are defined: a parallel run gets
    # the longest recorded chains first
    for node in scheduled(engine, own) or plan.nodes:
        recipe = engine.context(node[1]).stack.recipe(node[0])
        where = "" if node[1] == target else f" for {node[1]}"
        yield {
            "name": group(node).split(":", 1)[1],
            "doc": f"{recipe.name} {recipe.version}{where} and its dependencies, packaged and indexed",
            "actions": None,
            "task_dep": own.get(node, []) + [group(dep) for dep in plan.needs.get(node, ())],
        }


def scheduled(engine: "Engine", own: dict[tuple[str, str], list[str]]) -> list[tuple[str, str]]:
    """The plan's nodes by the longest recorded chain after them, for ``doit -n N`` (N > 1);
    none for a sequential run, whose order does not change how long it takes."""
    if doit_processes(sys.argv) < 2:
        return []
    from .report import upstream_tasks
    return by_priority(list(engine.plan.nodes), own, upstream_tasks(engine_jobs(engine)), engine.layout.run_log)


EXPLAIN_DOC = "say why each stage a build of the recipe would run runs (what changed since its last run)"


def engine_jobs(engine: "Engine") -> list[tuple[Stage, Ref, Context]]:
    """(stage, ref, context) of every job: plain data, for actions that look at many jobs
    (explain, report, status). Listed once per doit call; the actions pick theirs."""
    return [(stage, ref, ctx) for name, stage in engine.stages.items() for ref, ctx, _recipe in engine.jobs(name)]


def explain_tasks(engine: "Engine", jobs: list[tuple[Stage, Ref, Context]]) -> Iterator[dict[str, Any]]:
    """``explain:<recipe>``: the stages ``build:<recipe>`` would run, and why."""
    yield {"name": None, "doc": EXPLAIN_DOC}
    for node in engine.plan.nodes:
        if node[1] == engine.target:
            yield {"name": node[0], "doc": f"why stages of {node[0]} and its dependencies would run",
                   # the closure when it runs: computing it for every node here costs O(nodes^2)
                   "actions": [(explain_jobs, [jobs, engine.plan, node])], "uptodate": [False],
                   "verbosity": 2}


def look_tasks(engine: "Engine", jobs: list[tuple[Stage, Ref, Context]]) -> Iterator[dict[str, Any]]:
    """``report`` (timeline, trace, slowest stages, graph picture) and ``status`` (one row per recipe)."""
    yield {"basename": "report", "doc": "timeline (PNG, Chrome trace) of the last build, slowest stages, "
                                        "and the recipe graph as SVG/PNG coloured by state (cache/report/)",
           "actions": [(write_report, [jobs, engine.plan, engine.layout])], "uptodate": [False], "verbosity": 2}
    yield {"basename": "status", "doc": "one row per recipe: version, build, stages up to date, last build, "
                                        "package size, glibc floor, test result",
           "actions": [(print_status, [jobs, engine.plan, engine.layout])], "uptodate": [False], "verbosity": 2}


PURGE_DOC = ("take out of the cache what the stack no longer uses (removed recipes, unused downloads, "
             "old unpacked packages, render memos); keep what its builds reuse")


def purge_task(engine: "Engine", jobs: list[tuple[Stage, Ref, Context]]) -> dict[str, Any]:
    """``purge``: not part of a build; it runs under the cache lock like one. ``dry_run=1``
    says what it would remove and removes nothing."""
    dry_run = str(get_var("dry_run", "0")).lower() not in ("0", "", "no", "false")
    return {"basename": "purge", "doc": PURGE_DOC, "uptodate": [False], "verbosity": 2,
            "actions": [(purge_cache, [jobs, engine.stack, engine.rendered_settings(), dry_run])]}


# The actions of explain, report, status and purge, which load their modules only when they run
# (every doit call wires these tasks; few run them).
def explain_jobs(*args: Any) -> None:
    from .judge import explain_jobs as run
    return run(*args)


def write_report(*args: Any) -> TaskFailed | None:
    from .report import write_report as run
    return run(*args)


def print_status(*args: Any) -> None:
    from .status import print_status as run
    return run(*args)


def purge_cache(*args: Any) -> TaskFailed | None:
    from .purge import purge_cache as run
    return run(*args)
