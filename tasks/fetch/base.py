"""What every source kind shares: the ``SourceKind`` interface, the fetch context, the error
type and the VCS bookkeeping names."""
from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, ClassVar, Iterator, Mapping

from ..errors import CondoitError
from ..fsutil import remove_tree
from ..model import Source, to_data
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


# A problem a kind finds in its keys: ``problem(key, message, hint)``, placed at that key's line.
Problem = Callable[..., None]


class SourceKind:
    """One kind of ``source:`` entry, all of it in one module (like a Spack fetch strategy).

    A kind declares its meta.yaml keys (``keys``: name -> "str" | "int" | "bool" | "list");
    the schema check accepts them, reads them by type into ``Source.options`` and the
    rendered recipe writes them back. ``selected_by`` is the key that makes an entry this
    kind (kinds are tried in the order of ``SOURCE_KINDS``). The hooks below say what the
    download depends on, how to fetch into the cache, what the cache holds afterwards, how
    to place the source into a work tree (offline) and how to forget the cache entry.
    """

    name: ClassVar[str] = ""
    selected_by: ClassVar[str | None] = None
    keys: ClassVar[Mapping[str, str]] = {}
    accepted: ClassVar[tuple[str, ...]] = ()     # keys conda-build knows for this kind; read, unused

    def prepare(self, options: dict[str, Any], recipe_dir: Path, problem: Problem) -> dict[str, Any]:
        """Check and normalise the options read from meta.yaml (render time, no network)."""
        return options

    def check_extra(self, extra: Mapping[str, Any], problem: Problem) -> None:
        """Check the recipe's ``extra:`` keys this kind reads (render time)."""

    def download_inputs(self, source: Source) -> dict[str, Any]:
        """What the download depends on (its signature): content identity, never machine facts."""
        return {"kind": self.name, **to_data(source.options)}

    def fetch(self, source: Source, fctx: FetchContext) -> dict[str, Any]:
        """Bring the source into the cache; returns its content identity (JSON data)."""
        raise NotImplementedError

    def cached_path(self, source: Source, fetched: Mapping[str, Any], layout: Layout) -> Path | None:
        """The cache entry a finished fetch left (None when the kind keeps nothing)."""
        return None

    def place(self, source: Source, fetched: Mapping[str, Any], into: Path, fctx: FetchContext) -> None:
        """Create ``into`` (a new directory) holding the source, from the cache only."""
        raise NotImplementedError

    def clean(self, source: Source, layout: Layout) -> None:
        """Forget the cache entry (``doit clean download:<recipe>``)."""

    def rendered(self, source: Source) -> dict[str, Any]:
        """The options as meta.yaml keys (a one-item list as its item, like conda-build)."""
        out: dict[str, Any] = {}
        for key in self.keys:
            value = to_data(source.get(key))
            if value in (None, [], False):
                continue
            out[key] = value[0] if isinstance(value, list) and len(value) == 1 else value
        return out


class VcsKind(SourceKind):
    """A kind whose cache entry is a clone or checkout that depends on the source only."""

    def cached_path(self, source: Source, fetched: Mapping[str, Any], layout: Layout) -> Path:
        raise NotImplementedError

    def clean(self, source: Source, layout: Layout) -> None:
        remove_tree(self.cached_path(source, {}, layout))


class NoSource(SourceKind):
    """An entry with no origin (only ``folder:`` or ``patches:``): an empty directory."""

    name = "none"

    def fetch(self, source: Source, fctx: FetchContext) -> dict[str, Any]:
        return {"kind": "none"}

    def place(self, source: Source, fetched: Mapping[str, Any], into: Path, fctx: FetchContext) -> None:
        into.mkdir(parents=True)
