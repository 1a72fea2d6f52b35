"""Shared fixtures: every test gets its own recipes root and cache."""
from __future__ import annotations

import hashlib
import os
import shutil
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Mapping

import pytest

if TYPE_CHECKING:
    from doit_runner import DoitRun

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


# --- the shipped stack, Python layer included (issue 10): one cold cross build per session ---

# The whole shipped stack (the C libraries, python and python@linux-64 with theirs, the
# noarch packages, the compiled extensions, the installer's helper), built once and shared by
# every test that reads it; tests that change a cache work on a clone of it (`clone_cache`).
# The build publishes every shareable result to a directory store beside the cache
# (`python_layer.store`): machine A of the shared-cache tests (tests/test_shared_shipped.py).
PYTHON_LAYER_TARGETS = ("build",)


def clone_cache(source: Path, target: Path) -> Path:
    """A copy of a built cache that a test may change: results hard-linked (condoit only
    ever replaces them by a rename), real copies of the files others rewrite in place
    (doit's database, py-rattler's repodata); no py-rattler package cache (it refills), no
    scratch space and no lock files (a lock is its inode: a hard link would share it).
    Seconds, next to the hour the build took."""
    import subprocess
    target.mkdir(parents=True)
    for entry in source.iterdir():
        if entry.name not in ("pkgs", "tmp", ".lock", ".channel.lock"):   # locks are the inode: never share
            subprocess.run(["cp", "-al", str(entry), str(target / entry.name)], check=True)
    for pattern in (".doit.db*", "channel/*/repodata*.json", "channel/channeldata.json"):
        for path in target.glob(pattern):
            data = path.read_bytes()
            path.unlink()
            path.write_bytes(data)
    return target


@dataclass(frozen=True)
class PythonLayerBuild:
    """The shipped stack built once into its own cache: the C libraries, python (and
    python@linux-64 with what it needs), the noarch packages and the compiled extensions."""
    cache: Path
    run: DoitRun
    seconds: float
    cold: bool                  # False with PYTHON_LAYER_CACHE (a cache built before)
    store: Path                 # the shared stage cache (a directory) this build published to
    packages: Mapping[str, str]  # subdir/file -> sha256 of every package the build made (tests change the channel)


@pytest.fixture(scope="session")
def python_layer(tmp_path_factory) -> PythonLayerBuild:
    """`doit -n 2 -P process build` of the shipped stack, cold, publishing to a directory
    store (the most expensive fixture of the suite: its time is printed). ``PYTHON_LAYER_CACHE=DIR``
    builds into DIR instead, keeping it and its store `DIR-store` (a second run there is a
    quick up-to-date check)."""
    from doit_runner import ROOT, run_doit
    require_cross_toolchain()
    kept = os.environ.get("PYTHON_LAYER_CACHE")
    cache = Path(kept) if kept else tmp_path_factory.mktemp("python-layer") / "cache"
    started = time.monotonic()
    store = cache.with_name(cache.name + "-store")
    run = run_doit(ROOT / "recipes", cache, "-n", "2", "-P", "process", *PYTHON_LAYER_TARGETS, timeout=7200,
                   shared_cache=str(store))
    seconds = time.monotonic() - started
    print(f"\n{'kept' if kept else 'cold'} `doit -n 2 {' '.join(PYTHON_LAYER_TARGETS)}`: {seconds:.0f} s, "
          f"{len(run.ran)} tasks ran")
    assert run.returncode == 0, run.output[-6000:]
    from shared_servers import channel_files
    packages = {name: hashlib.sha256(data).hexdigest() for name, data in channel_files(cache).items()}
    return PythonLayerBuild(cache, run, seconds, cold=not kept, store=store, packages=packages)
