"""Issue 9: runs that end cleanly, damaged results noticed, nothing half-written published,
a damaged doit database recovered, and a broken recipe failing the run."""
from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from doit_runner import DODO, ROOT, TEXT_BUILD, TEXT_META, run_doit, text_recipe, write_recipe
from tasks.paths import Layout


def channel_archive(cache: Path, name: str) -> Path:
    (archive,) = (cache / "channel" / "noarch").glob(f"{name}-*.conda")
    return archive


@pytest.fixture
def alpha_built(stack_dirs) -> tuple[Path, Path]:
    """(recipes, cache) with the text recipe alpha built, indexed and tested."""
    recipes, cache = stack_dirs
    text_recipe(recipes, "alpha")
    first = run_doit(recipes, cache, "build:alpha")
    assert first.returncode == 0, first.output
    return recipes, cache


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# -- 1. a run that ends right after a compile ends cleanly ------------------------------------

def test_a_build_script_that_fails_at_once_exits_1_with_the_message_every_time(stack_dirs):
    recipes, cache = stack_dirs
    text_recipe(recipes, "quick", build="nosuchtool --go\n")
    for attempt in range(10):
        run = run_doit(recipes, cache, "build:quick")
        assert run.returncode == 1, f"attempt {attempt}: {run.output}"
        assert "[quick] stage 'compile' failed: build script exited with status 127" in run.output
        assert "nosuchtool: command not found" in run.output
        assert "terminate called" not in run.output and "FATAL" not in run.output
        assert not Layout(cache).stamp("quick", "compile").exists()


def test_a_quick_recompile_with_an_unchanged_package_ends_with_status_0(stack_dirs):
    recipes, cache = stack_dirs
    text_recipe(recipes, "quick")
    assert run_doit(recipes, cache, "build:quick").returncode == 0
    for attempt in range(5):
        assert run_doit(recipes, cache, "clean", "compile:quick").returncode == 0
        run = run_doit(recipes, cache, "build:quick")
        assert run.returncode == 0, f"attempt {attempt}: {run.output}"
        assert "compile:quick" in run.ran and "package:quick" in run.uptodate, run.output
        assert "terminate called" not in run.output


# -- 3. damaged results are noticed and made again --------------------------------------------

def test_a_file_deleted_from_the_patched_tree_is_noticed_and_restored(stack_dirs, tmp_path):
    recipes, cache = stack_dirs
    src = tmp_path / "src"
    src.mkdir()
    (src / "data.txt").write_text("payload\n")
    meta = TEXT_META.replace("build:\n", f"source:\n  path: {src}\nbuild:\n")
    text_recipe(recipes, "tree", build="mkdir -p $PREFIX/share\ncp data.txt $PREFIX/share/tree.txt\n"
                "echo tree > $PREFIX/share/tree.txt\n", meta=meta)
    assert run_doit(recipes, cache, "build:tree").returncode == 0
    patched = Layout(cache).work("tree", "patch") / "data.txt"
    patched.unlink()
    run = run_doit(recipes, cache, "build:tree")
    assert run.returncode == 0, run.output
    assert "patch:tree" in run.ran, run.output
    assert "patch:tree runs again: its files were changed, added or removed" in run.stderr
    assert patched.read_text() == "payload\n"
    # the same tree came back: early cutoff, nothing after it is redone
    assert "compile:tree" in run.uptodate, run.output


def test_a_truncated_package_is_noticed_and_made_again_matching_repodata(alpha_built):
    recipes, cache = alpha_built
    archive = channel_archive(cache, "alpha")
    good = sha256(archive)
    with open(archive, "r+b") as fh:
        fh.truncate(1000)
    run = run_doit(recipes, cache, "build:alpha")
    assert run.returncode == 0, run.output
    assert "package:alpha" in run.ran, run.output
    assert "(damaged or replaced)" in run.stderr
    assert sha256(archive) == good
    repodata = json.loads((cache / "channel" / "noarch" / "repodata.json").read_text())
    assert repodata["packages.conda"][archive.name]["sha256"] == good
    again = run_doit(recipes, cache, "build:alpha")
    assert again.returncode == 0 and again.ran == frozenset(), again.output


def test_a_repodata_entry_that_does_not_match_the_package_is_indexed_again(alpha_built):
    recipes, cache = alpha_built
    repodata_path = cache / "channel" / "noarch" / "repodata.json"
    repodata = json.loads(repodata_path.read_text())
    name = channel_archive(cache, "alpha").name
    repodata["packages.conda"][name]["sha256"] = "0" * 64
    repodata_path.write_text(json.dumps(repodata))
    run = run_doit(recipes, cache, "build:alpha")
    assert run.returncode == 0 and "index:alpha" in run.ran, run.output
    fixed = json.loads(repodata_path.read_text())["packages.conda"][name]["sha256"]
    assert fixed == sha256(channel_archive(cache, "alpha"))


def test_a_compile_result_changed_after_the_stage_is_noticed(alpha_built):
    recipes, cache = alpha_built
    built = Layout(cache).host_prefix("alpha") / "share" / "alpha.txt"
    built.write_text("tampered\n")
    run = run_doit(recipes, cache, "build:alpha")
    assert run.returncode == 0 and "compile:alpha" in run.ran, run.output
    assert built.read_text() == "alpha\n"


# -- 4. a killed package stage leaves nothing in the channel ----------------------------------

def test_a_package_stage_killed_while_writing_leaves_no_partial_file_in_the_channel(stack_dirs):
    recipes, cache = stack_dirs
    # 64 MiB of incompressible bytes: zstd takes seconds, long enough to kill it mid-way
    text_recipe(recipes, "big", build="mkdir -p $PREFIX/share\necho big > $PREFIX/share/big.txt\n"
                "head -c 67108864 /dev/urandom > $PREFIX/share/blob\n")
    assert run_doit(recipes, cache, "compile:big").returncode == 0
    layout = Layout(cache)
    proc = subprocess.Popen([sys.executable, "-m", "doit", "-f", str(DODO), "-d", str(ROOT), "package:big",
                             f"recipes={recipes}", f"cache={cache}"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.monotonic() + 120
    while not any(layout.publishing.glob("*")) and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.02)
    assert any(layout.publishing.glob("*")), "the package stage never started writing"
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    channel = cache / "channel"
    assert not [p for p in channel.rglob("*") if p.is_file() and p.name != "repodata.json"], \
        "a partial package reached the channel"
    run = run_doit(recipes, cache, "build:big")
    assert run.returncode == 0 and "package:big" in run.ran, run.output
    assert not any(layout.publishing.glob("*")), "the next run did not empty the publishing room"
    assert [p.name for p in channel.rglob("*.conda")] == [channel_archive(cache, "big").name]


def test_partial_archives_left_in_the_channel_by_older_versions_are_swept(stack_dirs):
    recipes, cache = stack_dirs
    text_recipe(recipes, "alpha")
    stray = cache / "channel" / "noarch" / ".alpha-1.0-h0_0.abc123.part.conda"
    stray.parent.mkdir(parents=True)
    stray.write_bytes(b"half")
    assert run_doit(recipes, cache, "build:alpha").returncode == 0
    assert not stray.exists()


# -- 5. a damaged doit database -----------------------------------------------------------------

def test_a_truncated_doit_database_is_recovered_with_a_message(alpha_built):
    recipes, cache = alpha_built
    db = Layout(cache).doit_db
    text = db.read_text()
    db.write_text(text[: len(text) // 2])
    for command in (("list",), ("build:alpha",)):
        run = run_doit(recipes, cache, *command)
        assert run.returncode == 0, run.output
        assert "Traceback" not in run.output
    assert f"doit's database {db} was damaged" in run_doit(recipes, cache, "list").stderr or \
        (db.with_name(db.name + ".damaged")).exists()
    assert run.ran == frozenset(), run.output  # the stamps still knew everything was done
    json.loads(db.read_text())  # doit wrote a sound one at the end


# -- 6. a broken recipe fails the run ----------------------------------------------------------

def test_a_broken_recipe_fails_doit_build_after_the_others_are_built(stack_dirs):
    recipes, cache = stack_dirs
    text_recipe(recipes, "alpha")
    text_recipe(recipes, "omega")
    broken = write_recipe(recipes, "broken", 'package: {name: broken, version: "1.0"\nbuild: {noarch: generic}\n',
                          build_sh=TEXT_BUILD)
    run = run_doit(recipes, cache, "build")
    assert run.returncode == 1, run.output
    assert {"test:alpha", "test:omega"} <= run.ran, run.output
    summary = run.stdout[run.stdout.index("TaskFailed - taskid:problems"):]
    assert "1 problem(s) in the stack's recipes" in summary
    assert f"{broken / 'meta.yaml'}:" in summary and "YAML error" in summary
    assert "problems" in run_doit(recipes, cache, "list").stdout


def test_two_recipes_with_one_package_name_fail_the_run(stack_dirs):
    recipes, cache = stack_dirs
    text_recipe(recipes, "alpha")
    write_recipe(recipes, "alpha-again", TEXT_META.format(name="alpha"), build_sh=TEXT_BUILD)
    run = run_doit(recipes, cache, "build")
    assert run.returncode == 1, run.output
    assert "duplicate package name 'alpha'" in run.stdout[run.stdout.index("TaskFailed - taskid:problems"):]


def test_a_sound_stack_has_no_problems_task(stack_dirs):
    recipes, cache = stack_dirs
    text_recipe(recipes, "alpha")
    listing = run_doit(recipes, cache, "list")
    assert listing.returncode == 0 and "problems" not in listing.stdout, listing.output
