"""Issue 15 (3, 4): `doit report` draws the last build (timeline PNG, Chrome trace, slowest
stages) and the recipe graph coloured by state; `doit status` has one row per recipe."""
from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET

from conftest import require_programs
from doit_runner import run_doit, text_recipe, write_recipe
from tasks.paths import Layout
from tasks.report import COLOURS
from tasks.runlog import last_build, read_runs

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def test_report_and_status_of_a_small_stack(stack_dirs):
    require_programs("dot")
    recipes, cache = stack_dirs
    text_recipe(recipes, "alpha")
    write_recipe(recipes, "beta", """
        package: {name: beta, version: "2.0"}
        build: {noarch: generic}
        requirements: {host: [alpha], run: [alpha]}
        test: {commands: [test -f $PREFIX/share/beta.txt]}
        """, build_sh="mkdir -p $PREFIX/share\necho beta > $PREFIX/share/beta.txt\n")
    write_recipe(recipes, "gamma", 'package: {name: gamma, version: "0.1"}\nbuild: {noarch: generic}\n',
                 build_sh="echo gamma breaks on purpose >&2\nexit 1\n")
    build = run_doit(recipes, cache, "--continue", "build")
    assert build.returncode != 0 and "compile:gamma" in build.output
    assert {"compile:alpha", "test:beta", "compile:gamma"} <= build.ran, build.ran   # doit's lines still parse

    runs = last_build(read_runs(Layout(cache).run_log))
    by_task = {r.task: r for r in runs}
    assert by_task["compile:alpha"].ok and not by_task["compile:gamma"].ok
    assert all(r.end >= r.start and r.cpu >= 0 and r.peak_rss_kib > 0 for r in runs)

    report = run_doit(recipes, cache, "report")
    assert report.returncode == 0, report.output
    out = Layout(cache).report_dir
    assert (out / "timeline.png").read_bytes().startswith(PNG_MAGIC)
    assert (out / "graph.png").read_bytes().startswith(PNG_MAGIC)
    svg = ET.parse(out / "graph.svg").getroot()
    texts = {t.text for t in svg.iter("{http://www.w3.org/2000/svg}text")}
    assert {"alpha", "beta", "gamma"} <= texts, texts
    # each recipe's box is filled with its state's colour: gamma failed, the others are built
    fills = {g.findtext("{http://www.w3.org/2000/svg}title"):
             next(e.get("fill") for e in g.iter() if e.tag.endswith(("path", "polygon")) and e.get("fill") != "none")
             for g in svg.iter("{http://www.w3.org/2000/svg}g") if g.get("class") == "node"}
    assert fills["gamma"] == COLOURS["failed"] and fills["alpha"] == COLOURS["current"], fills

    trace = json.loads((out / "trace.json").read_text())
    events = [e for e in trace["traceEvents"] if e["ph"] == "X"]
    assert {e["name"] for e in events} == set(by_task)
    critical = [e["name"] for e in sorted(events, key=lambda e: e["ts"]) if e["args"]["critical"]]
    assert critical and all(e["dur"] >= 0 for e in events)
    # the critical path is a chain of stages, each after the one before it
    ends = {e["name"]: e["ts"] + e["dur"] for e in events}
    starts = {e["name"]: e["ts"] for e in events}
    assert all(ends[a] <= starts[b] + 1000 for a, b in zip(critical, critical[1:])), critical
    assert "critical path" in report.stdout and "compile:" in (out / "slowest.txt").read_text()

    status = run_doit(recipes, cache, "status")
    assert status.returncode == 0, status.output
    rows = {line.split()[0]: line for line in status.stdout.splitlines() if re.match(r"^(alpha|beta|gamma) ", line)}
    assert set(rows) == {"alpha", "beta", "gamma"}, status.stdout
    assert re.search(r"^beta +2\.0 +h\w+_0 +7/7 ", rows["beta"]) and rows["beta"].rstrip().endswith("passed"), rows
    assert "never" not in rows["alpha"] and re.search(r" \d+(\.\d)? (B|KiB) ", rows["alpha"]), rows
    assert "3/7 (compile:gamma failed)" in rows["gamma"] and rows["gamma"].rstrip().endswith("not run"), rows


def test_progress_on_a_pipe_and_on_a_terminal(stack_dirs):
    """A pipe gets one plain line per finished stage; a terminal (a real pseudo-terminal)
    gets rich's live view; doit's `.  task` lines are there in both."""
    import os
    import pty
    import subprocess
    import sys
    from doit_runner import DODO, ROOT
    recipes, cache = stack_dirs
    text_recipe(recipes, "alpha", build="mkdir -p $PREFIX/share\necho alpha > $PREFIX/share/alpha.txt\nsleep 2\n")
    piped = run_doit(recipes, cache, "build:alpha")
    assert piped.returncode == 0, piped.output
    assert "compile:alpha" in piped.ran
    assert re.search(r"^condoit: \[\d+/7\] compile:alpha done in \d+s \(~\S+ left\)$", piped.stderr, re.M), piped.stderr

    text_recipe(recipes, "alpha", build="mkdir -p $PREFIX/share\necho alpha > $PREFIX/share/alpha.txt\nsleep 2  # again\n")
    master, slave = pty.openpty()
    env = {k: v for k, v in os.environ.items() if not k.startswith("CONDOIT_") and k != "CI"}
    env.update(TERM="xterm-256color", COLUMNS="100", LINES="30")
    proc = subprocess.Popen([sys.executable, "-m", "doit", "-f", str(DODO), "-d", str(ROOT), "build:alpha",
                             f"recipes={recipes}", f"cache={cache}"], stdout=slave, stderr=slave, env=env)
    os.close(slave)
    chunks = []
    while True:
        try:
            data = os.read(master, 65536)
        except OSError:         # the terminal closed: the run is over
            break
        if not data:
            break
        chunks.append(data)
    os.close(master)
    screen = b"".join(chunks).decode(errors="replace")
    assert proc.wait(timeout=300) == 0, screen
    assert ".  compile:alpha" in screen, screen
    assert "stages done" in screen and "(last " in screen, screen        # the live view, with the last duration
    assert "\x1b[" in screen                                             # drawn with escape codes
    assert "condoit: [" not in screen                                    # no plain lines on a terminal
