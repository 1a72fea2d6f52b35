"""Stage 'index': put a new package into the local channel's repodata.

Its result carries only the package's *content* digest, so a dependent recompiles when
what it builds against changed, not when a package was merely re-made (early cutoff).
"""
from __future__ import annotations

import fcntl
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

from ..errors import StageError
from ..fsutil import file_version, write_json_atomic
from ..model import Recipe, to_data
from ..paths import Layout
from .base import Context, Inputs, Result, Stage
from .package import PackageRecord, PackageResult


def index_channel(ctx: Context, subdir: str, packages: Sequence[PackageRecord]) -> None:
    """Bring one subdir's repodata up to date; one indexer at a time (parallel builds).

    The package stage's records are written directly (tasks/repodata.py) when they say all
    that changed; otherwise py-rattler indexes: incrementally (it reads only packages
    repodata does not list, and drops entries whose files are gone), so the cost does not
    grow with the channel. A re-made package keeps its file name, so its old entry is
    dropped first.
    """
    from .. import repodata
    from ..envs import ensure_channel
    layout = ctx.layout
    layout.channel_lock.parent.mkdir(parents=True, exist_ok=True)
    with open(layout.channel_lock, "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        records = {p.archive: to_data(p.record) for p in packages}
        if not (all(records.values()) and repodata.update(layout.channel_subdir(subdir), subdir, records)
                and _noarch_listed(layout.channel_subdir("noarch"))):
            _index_fs(layout, subdir, list(records))
        ensure_channel(layout, [subdir, "noarch"])


def _noarch_listed(folder: Path) -> bool:
    """py-rattler, indexing a subdir, gives a channel without noarch an empty noarch repodata."""
    if not (folder / "repodata.json").exists():
        from .. import repodata
        return repodata.update(folder, "noarch", {})
    return True


def _index_fs(layout: Layout, subdir: str, refreshed: Sequence[str]) -> None:
    """py-rattler's index of one subdir (and an empty noarch), all of it when repodata is unreadable."""
    import asyncio  # loaded by the runs py-rattler indexes, not by `doit list`

    from rattler import Subdir
    from rattler.index import index_fs
    force = not _forget_entries(layout.channel_subdir(subdir) / "repodata.json", refreshed)
    asyncio.run(index_fs(layout.channel, target_platform=Subdir(subdir), write_zst=False, write_shards=False,
                         force=force))


def repodata_entries(repodata: Path, memo: dict | None = None) -> dict[str, dict[str, Any]]:
    """file name -> record of every package a repodata.json lists ({} when unreadable).

    ``memo`` (a run's ``Context.memo``) keeps each version of the file parsed once: every
    recipe's up-to-date check reads it.
    """
    version = file_version(repodata)    # rewritten by a rename: a new inode and ctime too
    if version is None:
        return {}
    key = ("repodata", str(repodata))
    if memo is not None and key in memo and memo[key][0] == version:
        return memo[key][1]
    try:
        data = json.loads(repodata.read_text())
    except (OSError, ValueError):
        return {}
    entries = {**data.get("packages", {}), **data.get("packages.conda", {})}
    if memo is not None:
        memo[key] = (version, entries)
    return entries


def _forget_entries(repodata: Path, file_names: Sequence[str]) -> bool:
    """Remove entries from repodata.json; False when it is missing or unreadable (index all)."""
    try:
        data = json.loads(repodata.read_text())
    except (OSError, ValueError):
        return False
    for key in ("packages", "packages.conda"):
        for name in file_names:
            data.get(key, {}).pop(name, None)
    write_json_atomic(repodata, data)
    return True


@dataclass(frozen=True)
class Indexed(Result):
    """The recipe's packages are in the channel's repodata. Only their *content* is handed on,
    so a dependent rebuilds when what it builds against changed, not when it was re-made."""

    content: str
    subdirs: tuple[str, ...]


class IndexStage(Stage):
    name = "index"
    doc = "add the package to the local channel's repodata"
    result = Indexed
    version = 4

    def upstream(self, recipe: Recipe, ctx: Context):
        return [ctx.ref("package", recipe.name)]

    def damage(self, recipe: Recipe, ctx: Context, result: Indexed, inputs: Inputs) -> str | None:
        """repodata must list each package of the recipe with the sha256 of its archive."""
        made: PackageResult = inputs.get("package")
        for p in made.packages:
            repodata = ctx.layout.channel_subdir(p.subdir) / "repodata.json"
            entry = repodata_entries(repodata, ctx.memo).get(p.archive)
            if entry is None:
                return f"{repodata} does not list {p.archive}"
            if entry.get("sha256") != p.sha256:
                return f"{repodata} lists {p.archive} with another sha256 than the package's"
        return None

    def run(self, recipe: Recipe, ctx: Context, inputs: Inputs) -> Indexed:
        made: PackageResult = inputs.get("package")
        # every package of the recipe (its outputs may differ: noarch beside the target's)
        subdirs = tuple(sorted({p.subdir for p in made.packages})) or (ctx.settings.target_platform,)
        try:
            for subdir in subdirs:
                index_channel(ctx, subdir, [p for p in made.packages if p.subdir == subdir])
        except Exception as exc:  # py-rattler's own exception types
            raise StageError(recipe.name, "index", f"indexing {ctx.layout.channel} failed: {exc}") from None
        return Indexed(made.content, subdirs)
