"""Issue 16: a parallel build starts the longest recorded chain first (critical-path order), and
a build script gets the cores other running builds do not hold."""
from __future__ import annotations

import json
import os
import shutil
import sys
from contextlib import contextmanager
from pathlib import Path

from doit_runner import TEXT_BUILD, run_doit, write_recipe
from tasks.engine import Engine
from tasks.settings import load_settings
from tasks.taskgen import build_tasks
from tasks.paths import Layout
from tasks.schedule import bottom_levels, doit_processes

@contextmanager
def patch_argv(argv: list[str]):
    """The command line taskgen reads `-n` from, as doit would see it."""
    saved, sys.argv = sys.argv, argv
    try:
        yield
    finally:
        sys.argv = saved


META = """
package: {name: %s, version: "1.0"}
build:
  noarch: generic
requirements:
  host: [%s]
"""


def test_bottom_level_is_the_longest_chain_after_a_task():
    upstream = {"compile:a": [], "index:a": ["compile:a"], "compile:b": ["index:a"], "compile:c": []}
    seconds = {"compile:a": 10.0, "index:a": 1.0, "compile:b": 5.0, "compile:c": 3.0}
    level = bottom_levels(upstream, seconds)
    assert level == {"compile:a": 16.0, "index:a": 6.0, "compile:b": 5.0, "compile:c": 3.0}
    # a task never run counts as the median of the known ones
    assert bottom_levels({"x": [], "y": ["x"]}, {"y": 4.0}) == {"x": 8.0, "y": 4.0}
    assert [doit_processes(a) for a in (["-n", "2"], ["-n4"], ["--process=3"], ["build"], ["-n", "x"])] == [2, 4, 3, 1, 1]


def test_a_parallel_build_starts_the_longest_recorded_chain_first(tmp_path):
    recipes = tmp_path / "recipes"
    chain = ("a1", "a2", "a3")                            # quick, but three recipes deep
    for i, name in enumerate(chain):
        write_recipe(recipes, name, META % (name, chain[i - 1] if i else ""), build_sh=TEXT_BUILD)
    write_recipe(recipes, "z1", META % ("z1", ""), build_sh="sleep 8\n" + TEXT_BUILD)   # slow, alone

    def build_order(cache) -> list[str]:
        """The order of the build groups a two-worker `doit build` dispatches."""
        engine = Engine(load_settings({"recipes": str(recipes), "cache": str(cache)}), writes=False)
        with patch_argv(["doit", "-n", "2", "build"]):
            names = [t["name"] for t in build_tasks(engine) if t.get("name") and "basename" not in t]
        return names

    # without a record every job counts alike (1 s): the deepest chain first
    assert build_order(tmp_path / "first")[:2] == ["a1", "a2"]
    first = run_doit(recipes, tmp_path / "first", "-n", "2", "-P", "process", "build")
    assert first.returncode == 0, first.output[-3000:]
    # now compile:z1 is recorded at 8 s or more: z1 goes first
    assert build_order(tmp_path / "first")[0] == "z1"
    # and doit follows that order (a fresh cache that holds only the record)
    second = tmp_path / "second"
    Layout(second, "").run_log.parent.mkdir(parents=True)
    shutil.copyfile(Layout(tmp_path / "first", "").run_log, Layout(second, "").run_log)
    again = run_doit(recipes, second, "-n", "2", "-P", "process", "build")
    assert again.returncode == 0, again.output[-3000:]
    runs = [json.loads(line) for line in Layout(second, "").run_log.read_text().splitlines()]
    started = [r["task"] for r in sorted(runs, key=lambda r: r["start"]) if r.get("session") != runs[0].get("session")]
    # the two workers start their first stages together, so which of those two records the
    # earlier time is a race on a loaded machine; in the unrecorded order the first two would be
    # a1's and a2's (downloads wait on nothing), so z1 among them is what the record changed
    assert any(task.endswith(":z1") for task in started[:2]), started


def test_a_build_gets_the_cores_other_running_builds_do_not_hold(tmp_path):
    """tasks/cores.py with a real second process holding its claim."""
    import subprocess

    from tasks.cores import claimed_cores
    claims = tmp_path / "cores"
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sys, time; sys.path.insert(0, sys.argv[1]);"
         "from tasks.cores import claimed_cores; from pathlib import Path\n"
         "with claimed_cores(Path(sys.argv[2]), 3) as n:\n print(n, flush=True); time.sleep(30)",
         str(Path(__file__).resolve().parent.parent), str(claims)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "3"        # alone: every core
        with claimed_cores(claims, 4) as cores:
            assert cores == 1                                 # 3 of 4 held by the other build
    finally:
        holder.kill()
        holder.wait()
    (claims / "999999999").write_text("4")                    # a dead process's claim is ignored
    with claimed_cores(claims, 4) as cores:
        assert cores == 4
    assert not (claims / str(os.getpid())).exists()
