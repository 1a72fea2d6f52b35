"""Ctrl-C (or SIGTERM) ends a doit run with a line per unfinished stage, not a traceback,
and takes the build scripts it started with it.

A stage counts as done only once its stamp is written (last, atomically) and a package only
once it is renamed into the channel, so a run stopped anywhere leaves nothing a later run
takes for a result: the handler only has to stop the children, say what stopped and leave.
It raises SystemExit, which doit does not catch, so doit's runner still closes its database
and reporter, a stage's half-made tree is kept beside its last good one
(``fsutil.staged_dir``), and the cache lock goes with the process. doit's worker processes
inherit the handler and leave quietly. A second signal while that runs ends the process at once.

Build and test scripts run in a process group of their own (``run_own_group``), so the
whole tree under them (make, compilers, qemu) is stopped, not only the shell: nothing keeps
writing into a work tree that the next run will use.
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
from typing import Any, Sequence

RUNNING: dict[str, str] = {}        # stage task running now -> its log (kept by tasks/progress.py)
GRACE_SECONDS = 5.0                 # SIGTERM, then SIGKILL for what is still there
_MAIN = os.getpid()                 # the doit process (a forked worker keeps this value)
_GROUPS: set[int] = set()           # process groups of the scripts this process is running


def exit_on_interrupt() -> None:
    """From now on SIGINT and SIGTERM end this process as described above (only the main
    thread may set handlers: dodo.py loaded in another thread leaves Python's own)."""
    import threading
    if threading.current_thread() is not threading.main_thread():
        return
    signal.signal(signal.SIGINT, _interrupted)
    signal.signal(signal.SIGTERM, _interrupted)


def run_own_group(argv: Sequence[str], **popen: Any) -> subprocess.CompletedProcess:
    """``subprocess.run(argv, **popen)`` in a new process group, all of which is stopped if
    this process leaves while it runs."""
    proc = subprocess.Popen(list(argv), process_group=0, **popen)
    _GROUPS.add(proc.pid)
    try:
        proc.wait()
    except BaseException:
        _stop_group(proc.pid)
        try:
            proc.wait(GRACE_SECONDS)
        except subprocess.TimeoutExpired:
            pass
        _stop_group(proc.pid, signal.SIGKILL)
        proc.wait()
        raise
    finally:
        _GROUPS.discard(proc.pid)
    return subprocess.CompletedProcess(list(argv), proc.returncode)


def _stop_group(pgid: int, how: signal.Signals = signal.SIGTERM) -> None:
    try:
        os.killpg(pgid, how)
    except (ProcessLookupError, PermissionError):
        pass


def _interrupted(signum: int, frame: Any) -> None:
    signal.signal(signal.SIGINT, _at_once)
    signal.signal(signal.SIGTERM, _at_once)
    for pgid in list(_GROUPS):      # threads' scripts too: only the main thread gets signals
        _stop_group(pgid)
    if os.getpid() == _MAIN:
        what = "interrupted" if signum == signal.SIGINT else "terminated"
        lines = [f"condoit: {what}: {task} did not finish and is not marked done "
                 f"(log: {log}); the next build runs it again" for task, log in sorted(RUNNING.items())]
        print("\n".join(lines) or f"condoit: {what}", file=sys.stderr, flush=True)
    raise SystemExit(128 + signum)


def _at_once(signum: int, frame: Any) -> None:
    for pgid in list(_GROUPS):
        _stop_group(pgid, signal.SIGKILL)
    os._exit(128 + signum)
