"""Which stages a build running now has started and not finished, read from files only (the
cache lock's holder, the stage logs, the run log), so `doit status` and `doit explain:X`
can say it from a second terminal without the lock."""
from __future__ import annotations

import os
import re
import time
from pathlib import Path
from typing import Any, Sequence

from .locking import process_alive
from .paths import STACK_DIRNAME, Layout
from .runlog import Run, read_runs

_STARTED = re.compile(r"started (\d{4}-\d\d-\d\d \d\d:\d\d:\d\d)")   # a stage log's first line


def running_since(layout: Layout, logs: dict[str, Path], runs: dict[str, Run]) -> dict[str, float]:
    """Stages that a live run holding the cache lock has started and not finished (task ->
    start): their log was begun after that run took the lock, and the run log has no end for
    them since. Read from files only, so it answers while the build runs."""
    try:
        taken = layout.lock.stat().st_mtime          # the holder rewrites its pid when it takes it
        holder = int(layout.lock.read_text().strip() or 0)
    except (OSError, ValueError):
        return {}
    if not holder or holder == os.getpid() or not process_alive(holder):
        return {}
    since: dict[str, float] = {}
    for task, log in logs.items():
        run = runs.get(task)
        if run is not None and run.end >= taken:
            continue
        try:
            if log.stat().st_mtime < taken:
                continue
            with open(log, encoding="utf-8", errors="replace") as fh:
                first = fh.readline()
        except OSError:
            continue
        started = _STARTED.search(first)
        since[task] = time.mktime(time.strptime(started.group(1), "%Y-%m-%d %H:%M:%S")) if started else taken
    return since


def running_jobs(jobs: Sequence[tuple[Any, Any, Any]], tasks: set[str], layout: Layout,
                 runs: dict[str, Run] | None = None) -> dict[str, float]:
    """Of the ``jobs`` (stage, ref, context) whose task is in ``tasks``, those a live build
    is running now (task -> when it started)."""
    logs = {task: ctx.layout.log(ref.recipe or STACK_DIRNAME, ref.stage)
            for _stage, ref, ctx in jobs if (task := ref.task(ctx.plan.target)) in tasks}
    if not logs:
        return {}
    if runs is None:
        runs = {r.task: r for r in read_runs(layout.run_log)}
    return running_since(layout, logs, runs)
