"""Where the recipes of a stack are: ``<root>/<dir>/meta.yaml`` and feedstocks.

Both layouts of the design are accepted: flat ``recipes/<name>/meta.yaml`` and
conda-forge's ``recipes/<x>-feedstock/recipe/meta.yaml``. Hidden directories are ignored.
"""
from __future__ import annotations

import os
from pathlib import Path

META = "meta.yaml"


def find_recipes(root: Path) -> list[Path]:
    """meta.yaml paths under ``root``, sorted by directory name (a stable order)."""
    found: list[Path] = []
    try:
        entries = sorted(os.scandir(root), key=lambda e: e.name)
    except OSError:
        return found
    for entry in entries:
        if entry.name.startswith(".") or not entry.is_dir():
            continue
        base = Path(entry.path)
        flat = base / META
        if flat.is_file():
            found.append(flat)
            continue
        feedstock = base / "recipe" / META
        if feedstock.is_file():
            found.append(feedstock)
    return found
