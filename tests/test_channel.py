"""Issue 8.6: a stage of the whole stack. `channel` runs once after every recipe is indexed,
is up to date on a no-op, runs again when a package changes, and checks the whole channel."""
from __future__ import annotations

import json
import shutil

from doit_runner import TEXT_BUILD, run_doit, text_recipe
from tasks.engine import Engine
from tasks.settings import Settings
from tasks.stack import Stack
from tasks.stages import STAGES
from tasks.stages.base import STACK, Stage
from tasks.taskgen import build_tasks
from sources_helpers import make_recipe


def test_the_channel_stage_runs_after_every_recipe_and_again_only_when_a_package_changes(stack_dirs):
    recipes, cache = stack_dirs
    text_recipe(recipes, "alpha")
    text_recipe(recipes, "beta")
    first = run_doit(recipes, cache, "build")
    assert first.returncode == 0, first.output
    order = [line.split()[-1] for line in first.stdout.splitlines() if line.startswith(".")]
    assert order.index("channel") > max(order.index("index:alpha"), order.index("index:beta"))
    data = json.loads((cache / "channel" / "channeldata.json").read_text())
    assert data["channeldata_version"] == 1 and "noarch" in data["subdirs"]
    assert {n: p["version"] for n, p in data["packages"].items()} == {"alpha": "1.0", "beta": "1.0"}
    assert data["packages"]["alpha"]["subdirs"] == ["noarch"]

    again = run_doit(recipes, cache, "build")
    assert again.returncode == 0 and again.ran == frozenset() and "channel" in again.uptodate, again.output

    one = run_doit(recipes, cache, "build:alpha")            # one recipe: the stack stage is not part of it
    assert "channel" not in one.ran | one.uptodate, one.output

    text_recipe(recipes, "beta", build=TEXT_BUILD + "echo more >> $PREFIX/share/$PKG_NAME.txt\n")
    changed = run_doit(recipes, cache, "build")
    assert changed.returncode == 0, changed.output
    assert {"package:beta", "index:beta", "channel"} <= changed.ran and "package:alpha" not in changed.ran

    # it checks the whole channel: a package file repodata does not list is found
    stray = cache / "channel" / "noarch" / "gamma-1.0-h0_0.conda"
    shutil.copy(next((cache / "channel" / "noarch").glob("alpha-*.conda")), stray)
    found = run_doit(recipes, cache, "build")
    assert found.returncode == 1 and "channel" in found.ran
    assert f"{stray} is not listed in" in found.output and "condoit: channel runs again" in found.output


class _Audit(Stage):
    name = "audit"


def test_build_groups_take_every_stage_of_the_registry_not_a_hard_coded_last(tmp_path):
    """`build:<recipe>` holds each per-recipe stage of the registry (here: no test stage, one
    more after index) and `build` the stack stages."""
    recipe = make_recipe(tmp_path, "alpha")
    stages = {k: v for k, v in STAGES.items() if k != "test"}
    stages["audit"] = _Audit()
    settings = Settings(root=tmp_path, recipes_dir=tmp_path / "recipes", cache_dir=tmp_path / "cache")
    engine = Engine(settings, Stack(recipes=(recipe,), order=("alpha",)), stages=stages)
    tasks = {t.get("name"): t for t in build_tasks(engine) if t.get("basename") is None}
    assert set(tasks["alpha"]["task_dep"]) == {f"{s}:alpha" for s, stage in stages.items() if stage.scope != STACK}
    assert tasks[None]["task_dep"] == ["channel"]
