"""A run reads each stamp once (tasks/stages/base.py ``_finished``), the next one starts from
the index of what the last read (tasks/stamp_index.py), and neither keeps a stamp that changed
since: same size and same mtime do not hide a rewrite (fsutil.file_version)."""
from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from doit_runner import ROOT, run_doit, text_recipe
from tasks.engine import Engine
from tasks.fsutil import file_version, write_json_atomic
from tasks.settings import load_settings
from tasks.stages.base import read_result, stamp_index
from tasks.stamp_index import StampIndex


@pytest.fixture
def built(stack_dirs):
    recipes, cache = stack_dirs
    text_recipe(recipes, "alpha")
    run = run_doit(recipes, cache, "build:alpha")
    assert run.returncode == 0, run.output
    return Engine(load_settings({"recipes": str(recipes), "cache": str(cache)}))


def _rewrite_unseen(path, in_place: bool = False) -> str:
    """Change the stamp's result (its files_digest) keeping its size and mtime; the new digest.
    Atomically (a new file renamed in: a new inode) or in place (same inode: only ctime tells)."""
    before = path.stat()
    data = json.loads(path.read_text())
    digest = data["result"]["files_digest"]
    data["result"]["files_digest"] = ("0" if digest[0] != "0" else "1") + digest[1:]
    if in_place:
        with open(path, "r+", encoding="utf-8") as fh:
            fh.write(json.dumps(data, indent=2, sort_keys=True) + "\n")
    else:
        write_json_atomic(path, data)
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
    after = path.stat()
    assert (after.st_size, after.st_mtime_ns) == (before.st_size, before.st_mtime_ns)
    assert (after.st_ino == before.st_ino) == in_place
    return data["result"]["files_digest"]


def test_a_stamp_replaced_with_the_same_size_and_mtime_is_read_again(built):
    _stage, ref, ctx = built.job("compile", "alpha")
    first = read_result(ref, ctx)
    digest = _rewrite_unseen(ctx.stamp_path(ref))
    assert digest != first.files_digest
    assert read_result(ref, ctx).files_digest == digest


def test_a_stamp_edited_in_place_with_the_same_size_and_mtime_is_read_again(built):
    _stage, ref, ctx = built.job("compile", "alpha")
    first = read_result(ref, ctx)
    digest = _rewrite_unseen(ctx.stamp_path(ref), in_place=True)
    assert read_result(ref, ctx).files_digest == digest != first.files_digest


def test_every_platform_of_a_run_shares_the_stamps_it_read(built):
    shared, target = built.context(""), built.context(built.target)
    assert shared.shared is target.shared
    patch = shared.ref("patch", "alpha")
    assert read_result(patch, shared) is read_result(patch, target)   # read once, one object


def test_file_version_is_none_for_a_missing_file(tmp_path):
    assert file_version(tmp_path / "missing") is None
    (tmp_path / "there").write_text("x")
    assert file_version(tmp_path / "there") is not None


# -- the stamp index (tasks/stamp_index.py): what the last run read, one file ----------------------

def _fresh(engine):
    """A new engine on the same settings: a new run, which starts from the saved index."""
    return Engine(engine.settings)


def test_a_run_that_holds_the_lock_saves_the_index_and_the_next_reads_it(built):
    index_path = built.layout.stamp_index
    assert index_path.is_file()                          # written by the build's doit process
    saved = StampIndex.load(index_path)
    _stage, ref, ctx = built.job("compile", "alpha")
    assert str(ctx.stamp_path(ref)) in saved.entries
    again = _fresh(built)
    _stage, ref, ctx = again.job("compile", "alpha")
    assert read_result(ref, ctx) == type(read_result(ref, ctx)).from_json(json.loads(
        ctx.stamp_path(ref).read_text())["result"])
    assert not stamp_index(ctx).changed                  # every stamp it read was in the index


def test_an_index_entry_of_a_stamp_replaced_since_is_not_taken(built):
    """A run killed after writing a stamp, or a worker that wrote one: the index is older."""
    _stage, ref, ctx = built.job("compile", "alpha")
    digest = _rewrite_unseen(ctx.stamp_path(ref))        # same size, same mtime as the indexed one
    _stage, ref, ctx = _fresh(built).job("compile", "alpha")
    assert read_result(ref, ctx).files_digest == digest
    assert stamp_index(ctx).changed                      # the entry is renewed for the next run


def test_an_index_entry_with_a_wrong_version_is_ignored(tmp_path):
    index = StampIndex(tmp_path / "index.json")
    index.put(tmp_path / "s.json", (1, 2, 3, 4), {"signature": "a"}, {"x": 1})
    index.save()
    loaded = StampIndex.load(tmp_path / "index.json")
    assert loaded.get(tmp_path / "s.json", (1, 2, 3, 4)) == ({"signature": "a"}, {"x": 1})
    for other in ((9, 2, 3, 4), (1, 9, 3, 4), (1, 2, 9, 4), (1, 2, 3, 9)):   # mtime, size, inode, ctime
        assert loaded.get(tmp_path / "s.json", other) is None
    assert loaded.get(tmp_path / "other.json", (1, 2, 3, 4)) is None


def test_a_damaged_index_costs_a_read_of_the_stamps_not_a_rebuild(built, stack_dirs):
    recipes, cache = stack_dirs
    built.layout.stamp_index.write_text('{"format": 1, "entries": {"x": [1, 2')
    again = run_doit(recipes, cache, "build:alpha")
    assert again.returncode == 0 and again.ran == frozenset(), again.output
    assert StampIndex.load(built.layout.stamp_index).entries    # written anew
    built.layout.stamp_index.write_text('{"format": 99, "entries": {}}')
    assert StampIndex.load(built.layout.stamp_index).entries == {}


def test_only_a_run_that_holds_the_lock_writes_the_index(built, stack_dirs):
    """A read-only engine (doit list, info) reads stamps but leaves the index to the run that
    holds the lock; a writing one saves it when it ends."""
    recipes, cache = stack_dirs
    built.layout.stamp_index.unlink()
    settings = {"recipes": str(recipes), "cache": str(cache)}
    script = ("from tasks.engine import Engine; from tasks.settings import load_settings; "
              "from tasks.stages.base import read_result; "
              f"e = Engine(load_settings({settings!r}), writes=WRITES); "
              "e.open(); s, ref, ctx = e.job('compile', 'alpha'); assert read_result(ref, ctx) is not None")
    for writes, saved in ((False, False), (True, True)):
        run = subprocess.run([sys.executable, "-c", script.replace("WRITES", str(writes))], cwd=ROOT,
                             capture_output=True, text=True)
        assert run.returncode == 0, run.stderr
        assert built.layout.stamp_index.exists() == saved
