"""Shared fixtures: every test gets its own recipes root and cache."""
from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))


@pytest.fixture
def stack_dirs(tmp_path: Path) -> tuple[Path, Path]:
    """(recipes root, cache dir) for one test."""
    recipes, cache = tmp_path / "recipes", tmp_path / "cache"
    recipes.mkdir()
    return recipes, cache


def require_cross_toolchain() -> None:
    """Tests that compile need the cross toolchain and binfmt (scripts/setup.sh)."""
    missing = [t for t in ("aarch64-linux-gnu-gcc",) if shutil.which(t) is None]
    if missing:
        pytest.fail(f"missing {missing}: run `bash scripts/setup.sh` first", pytrace=False)
