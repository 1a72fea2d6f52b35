"""Where the recipes of a stack are: every ``meta.yaml`` below the recipes root.

The layouts of the design, flat ``recipes/<name>/meta.yaml`` and conda-forge's
``recipes/<x>-feedstock/recipe/meta.yaml``, and any deeper one users arrive with
(``recipes/<group>/<name>/meta.yaml``, ``recipes/<x>-feedstock/recipes/<name>/...``): the
first ``meta.yaml`` on each path down is a recipe, and the walk does not enter its
directory (patches, tests and sub-templates live there). Hidden directories are ignored.
"""
from __future__ import annotations

import os
from pathlib import Path

from .inputs import note_path

META = "meta.yaml"
MAX_DEPTH = 6                   # levels below the root searched (a guard against huge trees)
_IGNORED = frozenset({"__pycache__", "node_modules"})


def find_recipes(root: Path, max_depth: int = MAX_DEPTH) -> list[Path]:
    """meta.yaml paths under ``root``, sorted by their directory path (a stable order)."""
    found: list[Path] = []
    _walk(Path(root), 1, max_depth, found)
    return found


def _walk(directory: Path, depth: int, max_depth: int, found: list[Path]) -> None:
    note_path(directory)
    try:
        entries = sorted((e for e in os.scandir(directory)
                          if not e.name.startswith(".") and e.name not in _IGNORED and e.is_dir()),
                         key=lambda e: e.name)
    except OSError:
        return
    for entry in entries:
        meta = Path(entry.path) / META
        note_path(meta)
        if meta.is_file():
            found.append(meta)
        elif depth < max_depth:
            _walk(Path(entry.path), depth + 1, max_depth, found)
