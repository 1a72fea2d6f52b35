"""The stage engine: parallel builds, the cache lock, doit's database as a mere cache."""
from __future__ import annotations

import subprocess
import sys
import time

from doit_runner import ROOT, run_doit, text_recipe
from tasks.paths import Layout

STAGES = ("compile", "package", "index", "test")


def text_stack(recipes, *names):
    for name in names:
        text_recipe(recipes, name)


def test_parallel_build_of_independent_recipes(stack_dirs):
    recipes, cache = stack_dirs
    text_stack(recipes, "alpha", "beta", "gamma")
    run = run_doit(recipes, cache, "-n", "2", "-P", "process", "build")
    assert run.returncode == 0, run.output
    assert {f"{s}:{n}" for s in STAGES for n in ("alpha", "beta", "gamma")} <= run.ran
    assert len(list((cache / "channel" / "noarch").glob("*.conda"))) == 3
    again = run_doit(recipes, cache, "-n", "2", "-P", "process", "build")
    assert again.returncode == 0 and again.ran == frozenset(), again.output


def test_losing_doits_database_costs_a_recheck_not_a_rebuild(stack_dirs):
    recipes, cache = stack_dirs
    text_stack(recipes, "alpha")
    assert run_doit(recipes, cache, "build:alpha").returncode == 0
    for db in cache.glob(".doit.db*"):
        db.unlink()
    again = run_doit(recipes, cache, "build:alpha")
    assert again.returncode == 0 and again.ran == frozenset(), again.output


def test_forget_then_run_rechecks_against_the_stamps(stack_dirs):
    recipes, cache = stack_dirs
    text_stack(recipes, "alpha")
    assert run_doit(recipes, cache, "build:alpha").returncode == 0
    assert run_doit(recipes, cache, "forget", "compile:alpha").returncode == 0
    again = run_doit(recipes, cache, "build:alpha")
    assert again.ran == frozenset(), again.output


def test_clean_removes_a_stage_result_so_it_runs_again(stack_dirs):
    recipes, cache = stack_dirs
    text_stack(recipes, "alpha")
    assert run_doit(recipes, cache, "build:alpha").returncode == 0
    clean = run_doit(recipes, cache, "clean", "compile:alpha")
    assert clean.returncode == 0, clean.output
    assert not Layout(cache).stamp("alpha", "compile").exists()
    again = run_doit(recipes, cache, "build:alpha")
    assert "compile:alpha" in again.ran
    # same output: the package that depends on it is not re-made
    assert "package:alpha" in again.uptodate, again.output


def test_a_second_run_on_the_same_cache_is_refused_with_a_clear_message(stack_dirs):
    recipes, cache = stack_dirs
    text_stack(recipes, "alpha")
    holder = subprocess.Popen(
        [sys.executable, "-c",
         "import sys, time; sys.path.insert(0, sys.argv[1]);"
         "from pathlib import Path; from tasks.locking import hold_cache_lock;"
         "hold_cache_lock(Path(sys.argv[2]) / '.lock'); print('held', flush=True); time.sleep(60)",
         str(ROOT), str(cache)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        blocked = run_doit(recipes, cache, "build:alpha")
        assert blocked.returncode == 3
        assert f"another condoit run (pid {holder.pid}) is using the cache at {cache}" in blocked.stderr
        listing = run_doit(recipes, cache, "list")  # reading needs no lock
        assert listing.returncode == 0 and "build" in listing.stdout
    finally:
        holder.kill()
        holder.wait()
    assert not (cache / "stamps" / "alpha").exists()
    started = time.monotonic()
    assert run_doit(recipes, cache, "build:alpha").returncode == 0
    assert time.monotonic() - started < 120
