"""Stage 'index': put a new package into the local channel's repodata (py-rattler).

Its stamp carries only the package's *content* digest, so a dependent recompiles when
what it builds against changed, not when a package was merely re-made (early cutoff).
"""
from __future__ import annotations

import asyncio
import functools
import fcntl
import json
from pathlib import Path
from typing import Any, Sequence

from ..envs import ensure_channel
from ..errors import StageError
from ..fsutil import write_json_atomic
from ..model import Recipe
from ..stamps import stamp_outputs
from .base import Context, Stage


def index_channel(ctx: Context, subdir: str, refreshed: Sequence[str]) -> None:
    """Bring one subdir's repodata up to date; one indexer at a time (parallel builds).

    Indexing is incremental (py-rattler reads only packages repodata does not list, and
    drops entries whose files are gone), so the cost does not grow with the channel. A
    re-made package keeps its file name, so its old entry is dropped first.
    """
    from rattler import Subdir
    from rattler.index import index_fs
    layout = ctx.layout
    layout.channel_lock.parent.mkdir(parents=True, exist_ok=True)
    with open(layout.channel_lock, "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        force = not _forget_entries(layout.channel_subdir(subdir) / "repodata.json", refreshed)
        asyncio.run(index_fs(layout.channel, target_platform=Subdir(subdir), write_zst=False, write_shards=False,
                             force=force))
        ensure_channel(layout, [subdir, "noarch"])


def repodata_entries(repodata: Path) -> dict[str, dict[str, Any]]:
    """file name -> record of every package a repodata.json lists ({} when unreadable)."""
    try:
        st = repodata.stat()
    except OSError:
        return {}
    return _read_entries(str(repodata), st.st_mtime_ns, st.st_size)


@functools.lru_cache(maxsize=8)
def _read_entries(path: str, _mtime_ns: int, _size: int) -> dict[str, dict[str, Any]]:
    """Parsed once per version of the file: every recipe's up-to-date check reads it."""
    try:
        data = json.loads(Path(path).read_text())
    except (OSError, ValueError):
        return {}
    return {**data.get("packages", {}), **data.get("packages.conda", {})}


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


class IndexStage(Stage):
    name = "index"
    doc = "add the package to the local channel's repodata"
    version = 3

    def upstream(self, recipe: Recipe, ctx: Context) -> list[tuple[str, str]]:
        return [("package", recipe.name)]

    def damage(self, recipe: Recipe, ctx: Context, outputs: dict[str, Any]) -> str | None:
        """repodata must list each package of the recipe with the sha256 of its archive."""
        package = stamp_outputs(ctx.layout.stamp(recipe.name, "package")) or {}
        for p in package.get("packages", []):
            repodata = ctx.layout.channel_subdir(p["subdir"]) / "repodata.json"
            entry = repodata_entries(repodata).get(p["archive"])
            if entry is None:
                return f"{repodata} does not list {p['archive']}"
            if entry.get("sha256") != p["sha256"]:
                return f"{repodata} lists {p['archive']} with another sha256 than the package's"
        return None

    def run(self, recipe: Recipe, ctx: Context) -> dict[str, Any]:
        package = stamp_outputs(ctx.layout.stamp(recipe.name, "package")) or {}
        # every package of the recipe (its outputs may differ: noarch beside the target's)
        subdirs = sorted({p["subdir"] for p in package.get("packages", [])}) or [ctx.settings.target_platform]
        try:
            for subdir in subdirs:
                index_channel(ctx, subdir, [p["archive"] for p in package.get("packages", [])
                                            if p["subdir"] == subdir])
        except Exception as exc:  # py-rattler's own exception types
            raise StageError(recipe.name, "index", f"indexing {ctx.layout.channel} failed: {exc}") from None
        return {"content": package.get("content"), "subdirs": subdirs}
