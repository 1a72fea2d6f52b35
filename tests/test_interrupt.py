"""Ctrl-C or SIGTERM in the middle of a build (tasks/interrupt.py): one line naming the
unfinished stage and its log, no traceback, the build script's whole process tree stopped,
nothing marked done, and the next build runs the stage again."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from doit_runner import DODO, ROOT, TEXT_BUILD, run_doit, text_recipe
from tasks.paths import Layout


def alive(pid: int) -> bool:
    """A process that exists and is not a zombie (a container's init may not reap at once)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"


@pytest.mark.parametrize("how, options", [(signal.SIGINT, ()), (signal.SIGTERM, ("-n", "2", "-P", "process"))],
                         ids=["ctrl-c", "sigterm-parallel"])
def test_a_signal_stops_the_build_tree_and_marks_nothing_done(stack_dirs, tmp_path, how, options):
    recipes, cache = stack_dirs
    sleeper = tmp_path / "sleeper.pid"
    # the script starts a grandchild (as make starts compilers) and waits for it
    text_recipe(recipes, "slow", build=f"sleep 300 &\necho $! > {sleeper}\nwait\n" + TEXT_BUILD)
    build = subprocess.Popen([sys.executable, "-m", "doit", "-f", str(DODO), "-d", str(ROOT), *options,
                              "build:slow", f"recipes={recipes}", f"cache={cache}"],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 300
    while not (sleeper.exists() and sleeper.read_text().strip()):
        assert build.poll() is None and time.monotonic() < deadline, build.communicate()
        time.sleep(0.05)
    grandchild = int(sleeper.read_text())
    assert alive(grandchild)
    build.send_signal(how)                  # to doit alone: it must stop what it started
    out, err = build.communicate(timeout=60)
    assert build.returncode == 128 + how, out + err
    assert "Traceback" not in out + err, out + err
    log = Layout(cache, "linux-aarch64").log("slow", "compile")
    word = "interrupted" if how == signal.SIGINT else "terminated"
    assert f"condoit: {word}: compile:slow did not finish and is not marked done (log: {log})" in err, err
    for _ in range(100):
        if not alive(grandchild):
            break
        time.sleep(0.05)
    assert not alive(grandchild), "the build script's child outlived the run"
    assert not Layout(cache, "linux-aarch64").stamp("slow", "compile").exists()
    text_recipe(recipes, "slow")            # the script fixed: the stage runs again, to the end
    again = run_doit(recipes, cache, "build:slow")
    assert again.returncode == 0 and "compile:slow" in again.ran, again.output
