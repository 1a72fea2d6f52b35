"""The stage engine: parallel builds, the cache lock, doit's database as a mere cache."""
from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

from doit_runner import DODO, ROOT, TEXT_BUILD, run_doit, text_recipe
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


def test_status_and_explain_answer_while_a_build_holds_the_cache(stack_dirs, tmp_path, monkeypatch):
    """`doit status` and `doit explain:X` in a second terminal during a build: they take no
    lock, and doit's records of them are kept apart (and removed), not written over the build's."""
    recipes, cache = stack_dirs
    started, go = tmp_path / "started", tmp_path / "go"
    text_recipe(recipes, "alpha")
    text_recipe(recipes, "slow", build=f"touch {started}\nwhile [ ! -e {go} ]; do sleep 0.1; done\n" + TEXT_BUILD)
    assert run_doit(recipes, cache, "build:alpha").returncode == 0
    temp = tmp_path / "temp"
    temp.mkdir()
    monkeypatch.setenv("TMPDIR", str(temp))
    build = subprocess.Popen([sys.executable, "-m", "doit", "-f", str(DODO), "-d", str(ROOT), "build:slow",
                              f"recipes={recipes}", f"cache={cache}"], stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 300
        while not started.exists():
            assert build.poll() is None and time.monotonic() < deadline, build.communicate()[0]
            time.sleep(0.1)
        blocked = run_doit(recipes, cache, "build:alpha")       # a writer still waits its turn
        assert blocked.returncode == 3 and "another condoit run" in blocked.stderr, blocked.output
        status = run_doit(recipes, cache, "status")
        assert status.returncode == 0, status.output
        rows = {line.split()[0]: line for line in status.stdout.splitlines() if line.split()}
        print(status.stdout)
        assert "alpha" in rows and "slow" in rows, status.stdout
        assert "7/7" in rows["alpha"] and "3/7 (compile running " in rows["slow"], status.stdout
        explain = run_doit(recipes, cache, "explain:slow")
        print(explain.stdout)
        assert explain.returncode == 0, explain.output
        assert "compile:slow" in explain.stdout, explain.stdout
        assert "running now, for " in explain.stdout.split("compile:slow")[1].split("package:slow")[0], explain.stdout
        assert sorted(p.name for p in temp.iterdir() if p.name.startswith("condoit-look-")) == []
    finally:
        go.touch()
        out = build.communicate(timeout=600)[0]
    assert build.returncode == 0, out
    again = run_doit(recipes, cache, "build:alpha", "build:slow")
    assert again.returncode == 0 and again.ran == frozenset(), again.output


def test_only_runs_of_status_and_explain_count_as_looking():
    from tasks.locking import only_looks
    looks = (["doit", "status"], ["doit", "explain:openssl", "recipes=/r"], ["doit", "run", "explain"],
             ["doit", "-v", "2", "explain:a", "status"])
    writes = (["doit"], ["doit", "build:a"], ["doit", "-n", "2", "status", "build:a"], ["doit", "report"],
              ["doit", "clean", "explain:a"], ["doit", "list"])
    assert [only_looks(argv) for argv in looks] == [True] * len(looks)
    assert [only_looks(argv) for argv in writes] == [False] * len(writes)


def test_a_target_that_names_no_task_gets_a_reason_or_a_near_name(stack_dirs):
    recipes, cache = stack_dirs
    text_stack(recipes, "alpha", "zlib")
    text_recipe(recipes, "winonly", meta="package: {{name: {name}, version: \"1.0\"}}\nbuild:\n  skip: true  # [linux]\n")
    typo = run_doit(recipes, cache, "build:zlb")
    assert typo.returncode == 3 and "condoit: build:zlb: no recipe 'zlb'; did you mean build:zlib?" in typo.stderr, typo.output
    skipped = run_doit(recipes, cache, "compile:winonly")
    assert skipped.returncode == 3, skipped.output
    assert "condoit: compile:winonly: winonly is skipped for linux-aarch64" in skipped.stderr, skipped.output
    far = run_doit(recipes, cache, "build:qqqqqq")
    assert f"no recipe 'qqqqqq' under {recipes}" in far.stderr and "Traceback" not in far.output, far.output
    fine = run_doit(recipes, cache, "build:alpha")
    assert fine.returncode == 0 and "condoit: build:" not in fine.stderr, fine.output


def test_a_cache_that_cannot_be_made_or_is_a_file_is_named_not_a_traceback(tmp_path):
    recipes = tmp_path / "recipes"
    text_stack(recipes, "alpha")
    a_file = tmp_path / "a-file"
    a_file.write_text("not a directory\n")
    for cache, why in ((a_file, "it is not a directory"),
                       (a_file / "below", "Not a directory"),
                       (Path("/proc/condoit-cannot-make-this"), "No such file or directory")):
        run = run_doit(recipes, cache, "build:alpha")
        assert run.returncode == 2 and "Traceback" not in run.output, run.output
        assert f"condoit: cannot use the cache at {cache}: {why}" in run.stderr, run.stderr
        assert "doit cache=DIR" in run.stderr


def test_glibc_report_names_a_path_it_cannot_find(tmp_path, capsys):
    from tasks.glibc_report import main as glibc_report
    assert glibc_report(["--max", "2.17", str(tmp_path / "no-channel")]) == 2
    assert f"glibc_report: not found: {tmp_path / 'no-channel'} (give channel subdirs or package archives)" \
        in capsys.readouterr().err
