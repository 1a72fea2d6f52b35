"""A run reads each stamp once (tasks/stages/base.py ``_finished``), but never keeps a stamp
that changed since: same size and same mtime do not hide a rewrite (fsutil.file_version)."""
from __future__ import annotations

import json
import os

import pytest

from doit_runner import run_doit, text_recipe
from tasks.engine import Engine
from tasks.fsutil import file_version, write_json_atomic
from tasks.settings import load_settings
from tasks.stages.base import read_result


@pytest.fixture
def built(stack_dirs):
    recipes, cache = stack_dirs
    text_recipe(recipes, "alpha")
    run = run_doit(recipes, cache, "build:alpha")
    assert run.returncode == 0, run.output
    return Engine(load_settings({"recipes": str(recipes), "cache": str(cache)}))


def _same_size_edit(text: str) -> str:
    data = json.loads(text)
    digest = data["result"]["files_digest"]
    data["result"]["files_digest"] = ("0" if digest[0] != "0" else "1") + digest[1:]
    return json.dumps(data, indent=2, sort_keys=True) + "\n"


def _keep_times(path, before):
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))


def test_a_stamp_replaced_with_the_same_size_and_mtime_is_read_again(built):
    _stage, ref, ctx = built.job("compile", "alpha")
    path = ctx.stamp_path(ref)
    first = read_result(ref, ctx)
    before = path.stat()
    edited = _same_size_edit(path.read_text())
    write_json_atomic(path, json.loads(edited))          # a new file renamed in: a new inode
    _keep_times(path, before)
    assert path.stat().st_size == before.st_size and path.stat().st_mtime_ns == before.st_mtime_ns
    again = read_result(ref, ctx)
    assert again.files_digest != first.files_digest
    assert again.files_digest == json.loads(edited)["result"]["files_digest"]


def test_a_stamp_edited_in_place_with_the_same_size_and_mtime_is_read_again(built):
    _stage, ref, ctx = built.job("compile", "alpha")
    path = ctx.stamp_path(ref)
    first = read_result(ref, ctx)
    before = path.stat()
    edited = _same_size_edit(path.read_text())
    with open(path, "r+", encoding="utf-8") as fh:      # same inode: only the ctime tells
        fh.write(edited)
    _keep_times(path, before)
    assert path.stat().st_ino == before.st_ino and path.stat().st_mtime_ns == before.st_mtime_ns
    assert read_result(ref, ctx).files_digest != first.files_digest


def test_every_platform_of_a_run_shares_the_stamps_it_read(built):
    shared, target = built.context(""), built.context(built.target)
    assert shared.shared is target.shared
    patch = shared.ref("patch", "alpha")
    assert read_result(patch, shared) is read_result(patch, target)   # read once, one object


def test_file_version_is_none_for_a_missing_file(tmp_path):
    assert file_version(tmp_path / "missing") is None
    (tmp_path / "there").write_text("x")
    assert file_version(tmp_path / "there") is not None
