"""Longest chains first: the order ``doit -n N build`` hands ready jobs to its workers.

doit dispatches tasks depth-first in the order of ``task_dep`` lists. With one worker the
order does not change the makespan (every job runs one after the other); with several, a
long chain started late is what keeps cores idle at the end. So, for a parallel run, the
``build`` groups are listed by their *bottom level*: the recorded seconds of the longest
chain of jobs from each node to the end of the build (its own jobs and, after them, the
longest of its dependents'), the classic critical-path list scheduling. Durations are the
last successful ones of the run log (tasks/runlog.py); a job never run counts as the median
of those known (1 s when none is).

Only a parallel run reads the run log: a no-op `doit build` pays nothing.
"""
from __future__ import annotations

from graphlib import CycleError, TopologicalSorter
from pathlib import Path
from typing import Iterable, Mapping, Sequence

from .runlog import durations, read_runs

Node = tuple[str, str]


def doit_processes(argv: Sequence[str]) -> int:
    """The ``-n``/``--process`` of a doit command line (1 when absent or unreadable)."""
    for i, arg in enumerate(argv):
        value = None
        if arg in ("-n", "--process") and i + 1 < len(argv):
            value = argv[i + 1]
        elif arg.startswith("--process="):
            value = arg.split("=", 1)[1]
        elif arg.startswith("-n") and len(arg) > 2:
            value = arg[2:]
        if value is not None:
            try:
                return max(1, int(value))
            except ValueError:
                return 1
    return 1


def bottom_levels(upstream: Mapping[str, Iterable[str]], seconds: Mapping[str, float]) -> dict[str, float]:
    """task -> its seconds plus the longest chain of tasks that need it (transitively)."""
    import statistics   # (fractions, decimal) only for a parallel run, which schedules
    known = [s for s in seconds.values() if s > 0]
    guess = statistics.median(known) if known else 1.0
    downstream: dict[str, list[str]] = {task: [] for task in upstream}
    for task, ups in upstream.items():
        for up in ups:
            downstream.setdefault(up, []).append(task)
    try:
        order = list(TopologicalSorter({t: list(u) for t, u in upstream.items()}).static_order())
    except CycleError:
        return {}
    level: dict[str, float] = {}
    for task in reversed(order):             # dependents before what they need
        level[task] = seconds.get(task, guess) + max((level[t] for t in downstream.get(task, ())), default=0.0)
    return level


def by_priority(nodes: Sequence[Node], node_tasks: Mapping[Node, Sequence[str]],
                upstream: Mapping[str, Iterable[str]], run_log: Path) -> list[Node]:
    """``nodes`` with the longest remaining chain first (ties keep their order)."""
    level = bottom_levels(upstream, durations(read_runs(run_log)))
    rank = {node: max((level.get(t, 0.0) for t in node_tasks.get(node, ())), default=0.0) for node in nodes}
    return sorted(nodes, key=lambda n: -rank[n])
