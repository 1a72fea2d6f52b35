"""Stage 'index': put a new package into the local channel's repodata (py-rattler).

Its stamp carries only the package's *content* digest, so a dependent recompiles when
what it builds against changed, not when a package was merely re-made (early cutoff).
"""
from __future__ import annotations

import asyncio
import fcntl
from typing import Any

from ..envs import ensure_channel
from ..errors import StageError
from ..model import Recipe
from ..stamps import stamp_outputs
from .base import Context, Stage


def index_channel(ctx: Context, subdir: str) -> None:
    """Re-index one subdir of the channel; one indexer at a time (parallel builds)."""
    from rattler import Subdir
    from rattler.index import index_fs
    layout = ctx.layout
    layout.channel_lock.parent.mkdir(parents=True, exist_ok=True)
    with open(layout.channel_lock, "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        asyncio.run(index_fs(layout.channel, target_platform=Subdir(subdir), write_zst=False, write_shards=False,
                             force=True))
        ensure_channel(layout, [subdir, "noarch"])


class IndexStage(Stage):
    name = "index"
    doc = "add the package to the local channel's repodata"
    version = 2

    def upstream(self, recipe: Recipe, ctx: Context) -> list[tuple[str, str]]:
        return [("package", recipe.name)]

    def outputs_present(self, recipe: Recipe, ctx: Context, outputs: dict[str, Any]) -> bool:
        subdirs = outputs.get("subdirs") or []
        return bool(subdirs) and all((ctx.layout.channel_subdir(s) / "repodata.json").is_file() for s in subdirs)

    def run(self, recipe: Recipe, ctx: Context) -> dict[str, Any]:
        package = stamp_outputs(ctx.layout.stamp(recipe.name, "package")) or {}
        # every package of the recipe (its outputs may differ: noarch beside the target's)
        subdirs = sorted({p["subdir"] for p in package.get("packages", [])}) or [ctx.settings.target_platform]
        try:
            for subdir in subdirs:
                index_channel(ctx, subdir)
        except Exception as exc:  # py-rattler's own exception types
            raise StageError(recipe.name, "index", f"indexing {ctx.layout.channel} failed: {exc}") from None
        return {"content": package.get("content"), "subdirs": subdirs}
