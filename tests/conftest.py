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


def require_programs(*programs: str) -> None:
    """A test that needs a machine tool fails (not skips) without it: setup is incomplete."""
    missing = [p for p in programs if shutil.which(p) is None]
    if missing:
        pytest.fail(f"missing {', '.join(missing)}: run `bash scripts/setup.sh` first", pytrace=False)


def require_cross_toolchain() -> None:
    """Tests that compile need the cross toolchains (zig, the default, and Debian's gcc) and
    qemu (scripts/setup.sh)."""
    require_programs("aarch64-linux-gnu-gcc", "qemu-aarch64")
    from tasks.toolchain import zig_binary
    if zig_binary() is None:
        pytest.fail("missing zig (the `ziglang` Python package): run `bash scripts/setup.sh` first",
                    pytrace=False)


@pytest.fixture
def cross_toolchain() -> None:
    require_cross_toolchain()


@pytest.fixture
def debian_apt() -> None:
    require_programs("apt-get", "apt-cache")
