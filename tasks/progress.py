"""What a build is doing while it runs: doit's reporter, with progress.

doit's lines stay as they are (``.  task`` when a task runs, ``-- task`` when it is up to
date: tests and scripts read them). Besides them:

- on a terminal, a live view under them (rich): the stages running now with their elapsed
  time and their last recorded duration (with ``-v 2``, the last lines of each one's log),
  how many stages are done and left, and an estimate of the time left;
- on a pipe, in CI (``CI`` set) or with ``TERM=dumb``: one plain line on stderr per finished
  stage: ``condoit: [12/40] compile:zlib done in 41.2s (~3m10s left)``.

The estimate sums the last recorded duration (tasks/runlog.py) of each stage not yet done
(a guess by stage kind when none is recorded), divided by how many ran at once so far;
stages not yet judged count too, so it falls quickly while up-to-date stages are skipped.
Nothing is imported or read until the first stage runs: a no-op run pays nothing.
"""
from __future__ import annotations

import os
import sys
import time
from typing import Any

from doit.reporter import ConsoleReporter

from .interrupt import RUNNING

# A guess (seconds) for a stage with no recorded duration.
GUESS = {"download": 5.0, "extract": 3.0, "patch": 1.0, "compile": 120.0, "package": 10.0, "index": 2.0,
         "test": 10.0, "channel": 2.0}


def clock(seconds: float) -> str:
    """12s, 3m05s, 1h02m: a duration as the progress lines and `doit status` show it."""
    seconds = int(round(seconds))
    if seconds < 60:
        return f"{seconds}s"
    if seconds < 3600:
        return f"{seconds // 60}m{seconds % 60:02d}s"
    return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"


def interactive(stream: Any) -> bool:
    """A live view only for a person at a terminal."""
    try:
        tty = stream.isatty()
    except (AttributeError, ValueError):
        tty = False
    return tty and not os.environ.get("CI") and os.environ.get("TERM", "") != "dumb"


RUN_LOG_META = "condoit_run_log"        # in the build task's meta: the cache's run log
STAGE_LOG_META = "condoit_log"           # in each stage task's meta: its log (shown with -v 2)
TAIL_LINES = 4


def _is_stage(task: Any) -> bool:
    """A job of a stage (taskgen gives each one its log in ``meta``)."""
    return bool(task.actions) and STAGE_LOG_META in (task.meta or {})


def verbose(argv: list[str]) -> bool:
    """doit's ``-v 2`` / ``--verbosity=2`` (the reporter is not told the verbosity)."""
    for i, arg in enumerate(argv):
        value = arg[2:] if arg.startswith("-v") and len(arg) > 2 else \
            arg.split("=", 1)[1] if arg.startswith("--verbosity=") else \
            argv[i + 1] if arg in ("-v", "--verbosity") and i + 1 < len(argv) else None
        if value is not None and value.strip() == "2":
            return True
    return False


def log_tail(path: str, lines: int = TAIL_LINES) -> list[str]:
    """The last lines of a stage's log (its last 8 KiB read)."""
    try:
        with open(path, "rb") as fh:
            fh.seek(0, os.SEEK_END)
            fh.seek(max(0, fh.tell() - 8192))
            text = fh.read().decode(errors="replace")
    except OSError:
        return []
    return [line[:160] for line in text.splitlines()[-lines:]]


class ProgressReporter(ConsoleReporter):
    """doit's console reporter plus progress (see the module's doc)."""

    desc = "console output, with live progress on a terminal (plain lines on a pipe)"

    def __init__(self, outstream: Any, options: dict[str, Any]):
        super().__init__(outstream, options)
        self.live_view = interactive(outstream)
        self.total = 0
        self.done: set[str] = set()
        self.running: dict[str, float] = {}
        self.parallel = 1
        self.started = time.time()
        self._durations: dict[str, float] | None = None
        self._live: Any = None
        self.run_log = ""       # the cache's run log: the `meta` of the build task (taskgen)
        self.logs: dict[str, str] = {}      # running task -> its log, shown with `-v 2`
        self.tails = verbose(sys.argv)

    # -- what doit tells -------------------------------------------------------------------
    def write(self, text: str) -> None:
        """doit's lines: above the live view while it is shown."""
        if self._live is not None:
            self._live.console.print(text.rstrip("\n"), markup=False, highlight=False, soft_wrap=True)
        else:
            super().write(text)

    def initialize(self, tasks: dict[str, Any], selected_tasks: list[str]) -> None:
        """Count the stages the selection reaches (tasks with actions, through task_dep)."""
        seen: set[str] = set()
        stack = list(selected_tasks or [])
        while stack:
            name = stack.pop()
            if name in seen or name not in tasks:
                continue
            seen.add(name)
            stack.extend(tasks[name].task_dep)
        self.total = sum(1 for n in seen if _is_stage(tasks[n]))
        self.started = time.time()
        build = tasks.get("build")
        self.run_log = str((getattr(build, "meta", None) or {}).get(RUN_LOG_META, ""))

    def skip_uptodate(self, task: Any) -> None:
        super().skip_uptodate(task)
        if _is_stage(task):
            self.done.add(task.name)

    def execute_task(self, task: Any) -> None:
        super().execute_task(task)
        if not _is_stage(task):      # explain, report, status, render: no progress to show
            return
        self.running[task.name] = time.time()
        RUNNING[task.name] = task.meta[STAGE_LOG_META]
        if self.tails:
            self.logs[task.name] = task.meta[STAGE_LOG_META]
        self.parallel = max(self.parallel, len(self.running))
        if self.live_view and self._live is None:
            self._start_live()
        self._refresh()

    def add_success(self, task: Any) -> None:
        super().add_success(task)
        self._finished(task, "done")

    def add_failure(self, task: Any, fail: Any) -> None:
        self._finished(task, "FAILED")
        super().add_failure(task, fail)

    def complete_run(self) -> None:
        self._stop_live()
        super().complete_run()

    # -- progress --------------------------------------------------------------------------
    def _finished(self, task: Any, how: str) -> None:
        began = self.running.pop(task.name, None)
        RUNNING.pop(task.name, None)
        if began is None:
            return
        self.done.add(task.name)
        if self.live_view:
            self._refresh()
        else:
            sys.stderr.write(f"condoit: [{len(self.done)}/{self.total}] {task.name} {how} in "
                             f"{clock(time.time() - began)} (~{clock(self.left())} left)\n")
            sys.stderr.flush()

    def durations(self) -> dict[str, float]:
        if self._durations is None:
            from pathlib import Path
            from .runlog import durations, read_runs
            self._durations = durations(read_runs(Path(self.run_log))) if self.run_log else {}
        return self._durations

    def expected(self, task: str) -> float:
        known = self.durations().get(task)
        return known if known is not None else GUESS.get(task.partition(":")[0], 10.0)

    def left(self) -> float:
        """Seconds left: recorded durations of what is not done (the running ones' rest)."""
        now = time.time()
        pending = self.total - len(self.done) - len(self.running)
        running = sum(max(0.0, self.expected(t) - (now - s)) for t, s in self.running.items())
        # the stages not yet seen: their average recorded duration, or the guesses' mean
        known = list(self.durations().values())
        mean = sum(known) / len(known) if known else 10.0
        return (running + max(0, pending) * mean) / max(1, self.parallel)

    # -- the live view ---------------------------------------------------------------------
    def _render(self) -> Any:
        from rich.table import Table
        from rich.text import Text
        now = time.time()
        table = Table.grid(padding=(0, 2))
        table.add_column(style="bold cyan")
        table.add_column(justify="right")
        table.add_column(style="dim")
        for name, began in sorted(self.running.items(), key=lambda kv: kv[1]):
            known = self.durations().get(name)
            table.add_row(name, clock(now - began), f"(last {clock(known)})" if known is not None else "(first run)")
            for line in log_tail(self.logs[name]) if name in self.logs else ():
                table.add_row(Text("  " + line, style="dim"), "", "")
        table.add_row(f"{len(self.done)}/{self.total} stages done, {len(self.running)} running",
                      clock(now - self.started), f"~{clock(self.left())} left")
        return table

    def _start_live(self) -> None:
        from rich.console import Console
        from rich.live import Live
        console = Console(file=self.outstream)
        self._live = Live(get_renderable=self._render, console=console, refresh_per_second=2,
                          transient=True, redirect_stdout=True, redirect_stderr=True)
        self._live.start()

    def _refresh(self) -> None:
        if self._live is not None:
            self._live.refresh()

    def _stop_live(self) -> None:
        if self._live is not None:
            self._live.stop()
            self._live = None
