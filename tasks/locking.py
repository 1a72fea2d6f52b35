"""One condoit run per cache at a time: two runs would overwrite each other's trees."""
from __future__ import annotations

import fcntl
import os
from pathlib import Path

from .errors import LockBusy

# doit commands that only read state; they do not take the cache lock.
READ_ONLY_COMMANDS = frozenset({"list", "info", "help", "dumpdb", "tabcompletion", "graph",
                                "ignore", "reset-dep"})


# doit options that take a value as the next argument
_VALUE_OPTIONS = frozenset({"-f", "--file", "-d", "--dir", "-n", "--process", "-P", "--parallel-type",
                            "-v", "--verbosity", "-r", "--reporter", "-o", "--output-file",
                            "--db-file", "--dep-file", "--backend", "--check_file_uptodate",
                            "--codec-cls", "--pdb"})
_COMMANDS = frozenset({"run", "list", "info", "help", "dumpdb", "tabcompletion", "clean", "forget",
                       "strace", "auto", "ignore", "reset-dep", "graph"})


# Tasks that only read the cache (stamps, the run log): a run of nothing else takes no lock,
# so `doit status` or `doit explain:X` answers in a second terminal while a build runs.
LOOKING_TASKS = frozenset({"explain", "status"})


def _words(argv: list[str]) -> list[str]:
    """argv's positional words: no options, their values, or doit variables (``k=v``)."""
    words, args = [], iter(argv[1:])
    for arg in args:
        if arg in _VALUE_OPTIONS:
            next(args, None)
        elif not (arg.startswith("-") or "=" in arg):
            words.append(arg)
    return words


def doit_command(argv: list[str]) -> str:
    """The doit sub-command in argv (``run`` when none is named)."""
    words = _words(argv)
    return words[0] if words and words[0] in _COMMANDS else "run"


def run_targets(argv: list[str]) -> list[str]:
    """The tasks (or files) a `doit run` call names; none for other commands."""
    words = _words(argv)
    if words and words[0] in _COMMANDS:
        return words[1:] if words[0] == "run" else []
    return words


def only_looks(argv: list[str]) -> bool:
    """A `doit run` whose targets are all looking tasks (``status``, ``explain:openssl``)."""
    targets = run_targets(argv)
    return bool(targets) and all(target.split(":", 1)[0] in LOOKING_TASKS for target in targets)


def unusable_cache(cache: Path, why: str) -> str:
    """The message for a cache directory that cannot be made or written."""
    return (f"condoit: cannot use the cache at {cache}: {why}; set a writable directory with "
            f"`doit cache=DIR ...` or CONDOIT_CACHE")


def hold_cache_lock(lock_path: Path) -> int:
    """Take the cache's lock, or explain who holds it; returns the descriptor that holds it
    (the lock lasts while it is open: the caller keeps it for the run)."""
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        holder = os.pread(fd, 64, 0).decode(errors="replace").strip() or "unknown"
        os.close(fd)
        raise LockBusy(f"another condoit run (pid {holder}) is using the cache at "
                       f"{lock_path.parent}; wait for it to finish, or stop it (`doit status` shows "
                       f"what it is running)") from None
    os.ftruncate(fd, 0)
    os.pwrite(fd, str(os.getpid()).encode(), 0)
    return fd


def process_alive(pid: int) -> bool:
    """Whether a process of this machine with ``pid`` still runs (its claims and partial
    files are still its own)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
