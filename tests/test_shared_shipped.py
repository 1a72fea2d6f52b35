"""The shared stage cache on the shipped stack (issue 14): the session's build (machine A,
`conftest.python_layer`) published every shareable result to a directory store; machine B,
with another checkout path and an empty cache, builds the same stack from that store only
reading it, compiles nothing, and gets byte-identical packages."""
from __future__ import annotations

import hashlib
import json
import shutil
import time
from pathlib import Path

import pytest

from conftest import PYTHON_LAYER_TARGETS, PythonLayerBuild
from doit_runner import ROOT, run_doit
from shared_servers import channel_files


def _store_files(store: Path) -> set[Path]:
    return {p for p in store.rglob("*") if p.is_file()}


def test_machine_b_builds_the_shipped_stack_from_the_shared_cache(python_layer: PythonLayerBuild, tmp_path):
    store = python_layer.store
    if not (store / "entries").is_dir():
        pytest.skip(f"{store} holds no entries: PYTHON_LAYER_CACHE names a cache built before its "
                    "build published (delete it to build it again)")
    recipes = tmp_path / "checkout-of-machine-b" / "recipes"
    shutil.copytree(ROOT / "recipes", recipes)
    cache = tmp_path / "machine-b" / "cache"
    before = _store_files(store)
    started = time.monotonic()
    run = run_doit(recipes, cache, "-n", "2", "-P", "process", *PYTHON_LAYER_TARGETS, timeout=3600,
                   shared_cache=str(store), shared_write="0")
    seconds = time.monotonic() - started
    assert run.returncode == 0, run.output[-6000:]
    restored = run.output.count("restored from the shared cache")
    print(f"\nmachine A built the shipped stack in {python_layer.seconds:.0f} s; machine B restored it in "
          f"{seconds:.0f} s ({restored} stages restored, {len(run.ran)} tasks ran)")

    # nothing was compiled on B: every compile and test stage is a record restored from the store
    compiles = sorted(cache.glob("stamps/*/*/compile.json"))
    assert len(compiles) >= 30, compiles
    for stamp in compiles:
        assert json.loads(stamp.read_text())["run"].get("shared") == "record", stamp
    assert not (cache / "prefix").exists(), "a host prefix was made: something compiled on B"
    assert "compile:python@linux-64 restored from the shared cache" in run.output
    # the same packages, byte for byte, for both platforms
    packages = {name: hashlib.sha256(data).hexdigest() for name, data in channel_files(cache).items()}
    assert len(packages) >= 30 and packages == python_layer.packages
    # a read-only machine wrote nothing
    assert _store_files(store) == before
    # and its next run is a no-op
    again = run_doit(recipes, cache, *PYTHON_LAYER_TARGETS, shared_cache=str(store), shared_write="0")
    assert again.returncode == 0 and not again.ran, again.output[-3000:]
