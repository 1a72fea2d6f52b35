"""Work trees of the source stages: built in a staging directory, swapped in whole.

A failure keeps the half-made tree (for debugging) and leaves the previous tree as it was;
the error names the kept tree.
"""
from __future__ import annotations

from pathlib import Path
from typing import Callable

from .errors import CondoitError
from .fetch.base import VCS_DIRS
from .fsutil import remove_tree, staged_dir, tree_digest
from .paths import Layout
from .stagelog import StageLog


def make_tree(layout: Layout, recipe: str, stage: str, log: StageLog,
              fill: Callable[[Path], None]) -> str:
    """Fill ``Layout.work(recipe, stage)`` via ``fill(staging)``; return the tree's digest."""
    try:
        with staged_dir(layout.work(recipe, stage)) as tree:
            fill(tree)
            return tree_digest(tree, ignore=VCS_DIRS)
    except (CondoitError, OSError) as exc:
        raise log.error(str(exc), kept=layout.failed_work(recipe, stage)) from None


def remove_work(layout: Layout, recipe: str, stage: str) -> None:
    """``doit clean``: the tree, a kept failed tree and the stage's scratch room."""
    for path in (layout.work(recipe, stage), layout.failed_work(recipe, stage), layout.scratch(recipe, stage)):
        remove_tree(path)
