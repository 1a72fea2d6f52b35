"""What every fetcher shares: its context, its error type and the VCS bookkeeping names."""
from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator, Mapping

from ..errors import CondoitError
from ..paths import Layout
from ..settings import Settings
from ..stagelog import StageLog

# Metadata directories of version control checkouts: kept in trees, left out of digests
# (their bytes change on every `git status` without the source changing).
VCS_DIRS: tuple[str, ...] = (".git", ".hg", ".svn")


class FetchError(CondoitError):
    """A source could not be obtained; the message says which URL/repository and why."""


@dataclass(frozen=True)
class FetchContext:
    """What a fetcher may use: where the cache is, the run's settings, the stage's log."""

    layout: Layout
    settings: Settings
    log: StageLog
    recipe: str
    extra: Mapping[str, Any] | None = None   # the recipe's ``extra:`` (Debian fallback key)
    version: str = ""           # the recipe's version (Debian fallback lookup)


def cache_key(location: str) -> str:
    """Readable, collision-free directory name for a repository URL."""
    tail = re.sub(r"[^A-Za-z0-9._-]+", "_", location.rstrip("/").rsplit("/", 1)[-1])[:40] or "repo"
    return f"{tail}-{hashlib.sha256(location.encode()).hexdigest()[:16]}"


@contextlib.contextmanager
def locked(path: Path) -> Iterator[None]:
    """Exclusive lock beside ``path`` (parallel doit workers may share one clone)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path.with_name(path.name + ".lock"), os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)
