"""``path:`` sources: a directory (or file) on this machine, copied into the work tree.

Nothing is cached: the source's identity is a digest of its content (relative names,
modes, symlink targets, bytes), never its absolute path, so one recipe in two checkouts
has one download signature, and an edit in the local tree re-runs the stages after it.
"""
from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any, Mapping

from ..fsutil import sha256_file, tree_digest
from ..model import Source
from .base import VCS_DIRS, FetchContext, FetchError, Problem, SourceKind


class PathKind(SourceKind):
    name = "path"
    selected_by = "path"
    keys = {"path": "str"}
    accepted = ("path_via_symlink",)

    def prepare(self, options: dict[str, Any], recipe_dir: Path, problem: Problem) -> dict[str, Any]:
        if "path" in options:               # relative to the recipe directory, as conda-build
            options["path"] = os.path.normpath(recipe_dir / options["path"])
        return options

    def download_inputs(self, source: Source) -> dict[str, Any]:
        return {"kind": self.name, **identity(str(source.get("path")))}

    def fetch(self, source: Source, fctx: FetchContext) -> dict[str, Any]:
        found = identity(str(source.get("path")))
        if not found:
            raise FetchError(f"path source {source.get('path')} does not exist")
        return {"kind": self.name, **found}

    def place(self, source: Source, fetched: Mapping[str, Any], into: Path, fctx: FetchContext) -> None:
        place_path(str(source.get("path")), into)


def identity(path: str) -> dict[str, str]:
    """What a ``path:`` source holds: a tree digest, or a file's name and sha256 ({} if missing)."""
    local = Path(path)
    if local.is_dir():
        return {"tree": tree_digest(local, ignore=VCS_DIRS)}
    if local.is_file():
        return {"file": local.name, "sha256": sha256_file(local)}
    return {}


def place_path(path: str, dest: Path) -> None:
    """Copy a local tree (or file) into the work tree, keeping symlinks as they are."""
    local = Path(path)
    dest.mkdir(parents=True, exist_ok=True)
    if local.is_dir():
        shutil.copytree(local, dest, symlinks=True, dirs_exist_ok=True)
    elif local.is_file():
        shutil.copy2(local, dest / local.name)
    else:
        raise FetchError(f"path source {path} does not exist")
