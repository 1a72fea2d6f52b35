"""Issue 15 (1): `doit explain` names exactly the input that changed, for each kind of edit.

One tiny noarch stack is built once (real doit): ``alpha`` (a path source with a patch; its
build.sh reads $PY_VER, so python is one of its variant values) and ``beta``, which needs
alpha at build time. Each test makes one edit, asks the engine why each stage would run
(nothing is built, so the edit is undone afterwards), and checks the first stage the edit
reaches names that edit and nothing else.
"""
from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Iterator

import pytest

from doit_runner import ROOT, run_doit, write_recipe
from tasks.engine import Engine
from tasks.judge import JobState, job_states, of_nodes
from tasks.settings import load_settings
from tasks.stages import STAGES
from tasks.taskgen import engine_jobs

ALPHA_META = """
package: {{name: alpha, version: "1.0"}}
source:
  path: {src}
  patches:
    - fix.patch
build:
  number: 0
  noarch: generic
test:
  commands:
    - grep -q fixed $PREFIX/share/alpha.txt
"""
ALPHA_BUILD = "mkdir -p $PREFIX/share\ncat hello.txt > $PREFIX/share/alpha.txt\necho \"py $PY_VER\" >> $PREFIX/share/alpha.txt\n"
FIX_PATCH = """--- a/hello.txt
+++ b/hello.txt
@@ -1 +1 @@
-hello
+hello fixed
"""
BETA_META = """
package: {name: beta, version: "1.0"}
build:
  noarch: generic
requirements:
  host: [alpha]
  run: [alpha]
test:
  commands:
    - test -f $PREFIX/share/beta.txt
"""
BETA_BUILD = "mkdir -p $PREFIX/share\ncp $PREFIX/share/alpha.txt $PREFIX/share/beta.txt\n"


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("explain")
    recipes, cache, src = root / "recipes", root / "cache", root / "src"
    src.mkdir()
    (src / "hello.txt").write_text("hello\n")
    write_recipe(recipes, "alpha", ALPHA_META.format(src=src), build_sh=ALPHA_BUILD)
    (recipes / "alpha" / "fix.patch").write_text(FIX_PATCH)
    write_recipe(recipes, "beta", BETA_META, build_sh=BETA_BUILD)
    run = run_doit(recipes, cache, "build")
    assert run.returncode == 0, run.output
    again = run_doit(recipes, cache, "build")
    assert again.returncode == 0 and not again.ran, again.output
    return recipes, cache


def explain(recipes: Path, cache: Path, stages=None, **overrides: str) -> dict[str, JobState]:
    """Why each job of ``build:beta`` (alpha included) would run, from a fresh engine."""
    settings = load_settings({"recipes": str(recipes), "cache": str(cache), **overrides}, root=ROOT)
    engine = Engine(settings, stages=stages)
    engine.open()
    node = ("beta", engine.target)
    return {s.task: s for s in job_states(of_nodes(engine_jobs(engine), engine.plan.closure(node)))}


@contextlib.contextmanager
def edited(path: Path, new_text: str) -> Iterator[None]:
    old = path.read_text()
    path.write_text(new_text)
    try:
        yield
    finally:
        path.write_text(old)


def stale(states: dict[str, JobState]) -> dict[str, JobState]:
    return {t: s for t, s in states.items() if s.stale}


def test_nothing_changed_nothing_runs(built):
    states = explain(*built)
    assert not stale(states), stale(states)
    assert len(states) == 14      # 7 stages of two recipes


def test_patch_edit_names_the_patch(built):
    recipes, cache = built
    patch = recipes / "alpha" / "fix.patch"
    with edited(patch, "Make hello fixed.\n" + FIX_PATCH):
        states = explain(recipes, cache)
    assert states["patch:alpha"].state == "runs"
    assert states["patch:alpha"].reasons == ("patch `fix.patch` changed",)
    # later stages wait for it; the earlier ones are untouched
    assert not states["extract:alpha"].stale and not states["download:alpha"].stale
    assert states["compile:alpha"].state == "may run"
    assert states["compile:alpha"].reasons == (
        "after upstream patch:alpha runs (skipped if its result comes out the same)",)


def test_build_sh_edit_names_build_sh(built):
    recipes, cache = built
    with edited(recipes / "alpha" / "build.sh", ALPHA_BUILD + "echo more >> $PREFIX/share/alpha.txt\n"):
        states = explain(recipes, cache)
    assert states["compile:alpha"].reasons == ("recipe file `build.sh` changed",)
    assert {t for t, s in stale(states).items() if s.state == "runs"} == {"compile:alpha", "package:alpha"}
    assert states["package:alpha"].reasons == ("recipe file `build.sh` changed",)
    assert not states["patch:alpha"].stale


def test_meta_yaml_field_edit_names_the_field(built):
    recipes, cache = built
    meta = recipes / "alpha" / "meta.yaml"
    with edited(meta, meta.read_text().replace("number: 0", "number: 1")):
        states = explain(recipes, cache)
    assert states["compile:alpha"].reasons == ("meta.yaml field `build.number` 0 -> 1",)
    assert states["package:alpha"].reasons == ("meta.yaml field `build.number` 0 -> 1",)
    assert not states["download:alpha"].stale and not states["patch:alpha"].stale


def test_variant_setting_names_the_variant(built):
    states = explain(*built, python="3.12")
    assert states["compile:alpha"].reasons == ("variant setting `python` 3.11 -> 3.12",)
    # beta's build script reads no python variable: its own inputs are unchanged
    assert states["compile:beta"].state == "may run"


def test_setting_names_the_setting(built):
    states = explain(*built, max_glibc="2.28")
    assert states["package:alpha"].reasons == ("setting `max_glibc` 2.17 -> 2.28",)
    assert not states["compile:alpha"].stale


def test_toolchain_setting_names_what_it_changes(built):
    states = explain(*built, toolchain="gnu")
    why = states["compile:alpha"].reasons
    assert "toolchain kind zig -> gnu" in why and all(w.startswith(("toolchain ", "build tool ")) for w in why), why


def test_engine_stage_version_names_the_code_version(built):
    compile_stage = STAGES["compile"]
    newer = type("NewerCompile", (type(compile_stage),), {"version": compile_stage.version + 1})()
    states = explain(*built, stages={**STAGES, "compile": newer})
    old, new = compile_stage.version, compile_stage.version + 1
    assert states["compile:alpha"].reasons == (f"stage code version {old} -> {new}",)
    assert states["compile:beta"].reasons == (f"stage code version {old} -> {new}",)
    assert not states["patch:alpha"].stale


def test_upstream_package_change_names_the_upstream_result(built):
    """alpha is rebuilt with a new build.sh (a real build); then beta's compile, which
    installs alpha's package, says that result changed, with both digests."""
    recipes, cache = built
    build_sh = recipes / "alpha" / "build.sh"
    with edited(build_sh, ALPHA_BUILD + "echo rebuilt >> $PREFIX/share/alpha.txt\n"):
        run = run_doit(recipes, cache, "build:alpha")
        assert run.returncode == 0, run.output
        assert "condoit: compile:alpha runs again: recipe file `build.sh` changed" in run.stderr
        states = explain(recipes, cache)
        why = states["compile:beta"].reasons
        assert len(why) == 1 and why[0].startswith("upstream index:alpha changed (sha256 "), why
        assert states["compile:beta"].state == "runs"
        # `doit explain:beta` prints the same line
        shown = run_doit(recipes, cache, "explain:beta")
        assert shown.returncode == 0, shown.output
        assert f"compile:beta: runs\n    {why[0]}" in shown.stdout, shown.stdout
    rebuilt = run_doit(recipes, cache, "build")        # back to the first build.sh: rebuilt again
    assert rebuilt.returncode == 0, rebuilt.output
