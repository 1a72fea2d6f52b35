"""What each stage run cost: start, end, CPU time, peak memory; kept for `doit report` and the ETA.

Every run of a stage (finished or failed) appends one JSON line to the cache's run log
(``Layout.run_log``); the finished ones also keep theirs in their stamp. Lines are appended
with one ``write`` of an ``O_APPEND`` descriptor, so parallel workers do not interleave.
A no-op run neither reads nor writes it.

A *build* is the lines one doit process wrote (``session``: the pid of the doit process,
the parent of ``-P process`` workers); the last build is the last run of lines with one
session. ``peak_rss_kib`` is the high-water mark of the worker and of its largest child so
far (``getrusage`` keeps no per-stage peak): an upper bound when a worker runs several stages.

Its readers want only each task's last run (``doit status``, the graph's colours), each
task's last successful one (the ETA, the ``-n N`` schedule) and the last build (``doit
report``), so a log grown past ``COMPACT_AT`` is rewritten with just those (``compact``):
reading it costs what the stack's size says, not how long the cache has been in use.
"""
from __future__ import annotations

import json
import os
import resource
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Iterable

from .fsutil import write_bytes_atomic

COMPACT_AT = 4 << 20     # bytes of run log (~27,000 runs, ~0.1 s to read) past which it is compacted


def _cpu() -> float:
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def session() -> int:
    """The doit process this run belongs to (itself, or the parent of a ``-P process`` worker)."""
    import multiprocessing      # not at import: every doit call loads this module
    parent = multiprocessing.parent_process()
    return parent.pid if parent is not None and parent.pid else os.getpid()


@dataclass(frozen=True)
class Run:
    """One run of one job (``task``: doit's name, e.g. ``compile:zlib``)."""

    task: str
    start: float
    end: float
    cpu: float
    peak_rss_kib: int
    ok: bool = True
    session: int = 0

    @property
    def seconds(self) -> float:
        return max(0.0, self.end - self.start)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "Run":
        return cls(str(data["task"]), float(data["start"]), float(data["end"]), float(data.get("cpu", 0.0)),
                   int(data.get("peak_rss_kib", 0)), bool(data.get("ok", True)), int(data.get("session", 0)))


@dataclass(frozen=True)
class RunClock:
    started: float
    cpu: float

    @classmethod
    def start(cls) -> "RunClock":
        return cls(time.time(), _cpu())

    def stop(self, task: str, ok: bool = True) -> Run:
        peak = max(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
                   resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
        return Run(task, self.started, time.time(), round(_cpu() - self.cpu, 3), int(peak), ok, session())


def append_run(path: Path, run: Run) -> None:
    line = (json.dumps(run.to_json(), sort_keys=True) + "\n").encode()
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, line)
    finally:
        os.close(fd)


def read_runs(path: Path) -> list[Run]:
    """Every run of the log, oldest first (unreadable lines are skipped: a killed writer)."""
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return []
    runs = []
    for line in text.splitlines():
        try:
            runs.append(Run.from_json(json.loads(line)))
        except (ValueError, KeyError, TypeError):
            continue
    return runs


def last_build(runs: Iterable[Run]) -> list[Run]:
    """The runs of the last build: the trailing lines of one session."""
    runs = list(runs)
    if not runs:
        return []
    last = runs[-1].session
    start = len(runs)
    while start > 0 and runs[start - 1].session == last:
        start -= 1
    return runs[start:]


def durations(runs: Iterable[Run]) -> dict[str, float]:
    """The last successful duration of each task (for an ETA)."""
    return {r.task: r.seconds for r in runs if r.ok}


def compact(path: Path, at: int = COMPACT_AT) -> bool:
    """Past ``at`` bytes (and twice its size after the last compaction), rewrite the run log
    with only what its readers use: each task's last run and last successful run, and every
    run of the last build, in their order; True when it did. For a run that holds the cache
    lock, before any stage runs (nothing appends meanwhile); atomic, so a reader sees the old
    log or the new one, and best effort: a log that cannot be rewritten is left as it was.
    The first line says the compacted size (readers skip it)."""
    try:
        size = os.stat(path).st_size
        if size <= at:
            return False
        with open(path, "rb") as fh:
            first = fh.readline()
            try:
                if size < 2 * int(json.loads(first)["compacted_bytes"]):
                    return False
            except (ValueError, KeyError, TypeError):
                pass            # no header: never compacted
            lines = [first, *fh.read().splitlines(keepends=True)]
    except OSError:
        return False
    parsed: list[tuple[bytes, Run]] = []
    for line in lines:
        try:
            parsed.append((line if line.endswith(b"\n") else line + b"\n", Run.from_json(json.loads(line))))
        except (ValueError, KeyError, TypeError):
            continue            # the old header, or a line a killed writer left unfinished
    runs = [run for _line, run in parsed]
    wanted = [*last_build(runs), *{r.task: r for r in runs}.values(), *{r.task: r for r in runs if r.ok}.values()]
    keep = {id(run) for run in wanted}
    body = b"".join(line for line, run in parsed if id(run) in keep)
    header = (json.dumps({"compacted_bytes": len(body)}) + "\n").encode()
    try:
        write_bytes_atomic(path, header + body, mode=0o644)
    except OSError:
        return False
    return True
