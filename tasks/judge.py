"""What a build would do with each job, and why: the judgement behind `doit explain`,
`doit report`'s graph colours and `doit status` (tasks/explain.py words the reasons)."""
from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any, Iterable, Sequence

from .explain import render_explanations
from .stages.base import why_stale


@dataclass(frozen=True)
class JobState:
    """What a build would do with one job: ``current``, ``runs`` (its inputs changed or its
    result is damaged), ``new`` (never built) or ``may run`` (an upstream job runs first: it
    is skipped if that result comes out the same)."""

    task: str
    recipe: str
    platform: str
    state: str
    reasons: tuple[str, ...]

    @property
    def stale(self) -> bool:
        return self.state != "current"


def job_states(jobs: Sequence[tuple[Any, Any, Any]]) -> list[JobState]:
    """The state of each (stage, ref, ctx) job, in the order given; an upstream job of the
    list is judged first (a job after one that runs "may run")."""
    by_ref = {ref: (stage, ctx) for stage, ref, ctx in jobs}
    states: dict[Any, JobState] = {}

    def judge(ref: Any) -> JobState:
        if ref in states:
            return states[ref]
        stage, ctx = by_ref[ref]
        target = ctx.plan.target   # the run's target: tasks off it are named stage:recipe@platform
        recipe = ctx.stack.recipe(ref.recipe) if ref.recipe else None
        ups = [up for up in stage.upstream(recipe, ctx) if up in by_ref]
        running = [up.task(target) for up in ups if judge(up).stale]
        stale = why_stale(stage, ref, ctx)
        if stale is not None:
            state, why = ("runs" if stale[0] else "new"), tuple(stale[1])
        else:
            state = "may run" if running else "current"
            why = tuple(f"after upstream {t} runs (skipped if its result comes out the same)" for t in running)
        states[ref] = JobState(ref.task(target), ref.recipe, ref.platform, state, why)
        return states[ref]

    return [judge(ref) for _stage, ref, _ctx in jobs]


def of_nodes(jobs: Sequence[tuple[Any, Any, Any]], nodes: Iterable[tuple[str, str]]) -> list[tuple[Any, Any, Any]]:
    """The jobs of the (recipe, platform) ``nodes``: their own, and their recipes' source stages."""
    nodes = set(nodes)
    names = {n for n, _ in nodes}
    return [(s, ref, ctx) for s, ref, ctx in jobs
            if (ref.recipe, ref.platform) in nodes or (ref.recipe and not ref.platform and ref.recipe in names)]


def explain_jobs(jobs: Sequence[tuple[Any, Any, Any]], plan: Any, node: tuple[str, str]) -> None:
    """doit action of ``explain:<recipe>``: why each job of ``node`` and what it needs
    (``plan.closure``) that would run runs."""
    from .progress import clock
    from .running import running_jobs
    mine = of_nodes(jobs, plan.closure(node))
    states = job_states(mine)
    running = running_jobs(mine, {s.task for s in states if s.stale}, mine[0][2].layout) if mine else {}

    def reasons(state: JobState) -> list[str]:
        if state.task not in running:
            return list(state.reasons)
        since = clock(time.time() - running[state.task])
        return [*state.reasons, f"running now, for {since}, in the build that holds the cache"]

    print(render_explanations((s.task, s.state, reasons(s)) for s in states))
