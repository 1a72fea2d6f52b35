"""The cores a build script may use: the machine's, less those other running builds hold.

With ``doit -n 2`` two compile stages often run at once; each build script gets
``CPU_COUNT``/``MAKEFLAGS -j`` for the cores that are free when it starts, instead of all
of them each (4 compilers on 2 cores), and one that starts alone gets every core. A claim
is a file named by the worker's pid holding its count, taken under a lock and removed when
the script ends; the claim of a process that died is ignored.
"""
from __future__ import annotations

import fcntl
import os
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from .locking import process_alive



def _claimed(directory: Path) -> int:
    total = 0
    for claim in directory.glob("[0-9]*"):
        try:
            pid, count = int(claim.name), int(claim.read_text() or 0)
        except (OSError, ValueError):
            continue
        if pid != os.getpid() and process_alive(pid):
            total += count
    return total


@contextmanager
def claimed_cores(directory: Path, total: int) -> Iterator[int]:
    """The number of cores this build may use now (at least 1); held until the block ends."""
    directory.mkdir(parents=True, exist_ok=True)
    mine = directory / str(os.getpid())
    with open(directory / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        count = max(1, total - _claimed(directory))
        mine.write_text(str(count))
    try:
        yield count
    finally:
        mine.unlink(missing_ok=True)
