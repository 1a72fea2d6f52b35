"""Issue 16: the run log is read at the start of builds (the ETA, the `-n N` schedule), so its
reading cost must follow the stack's size, not the cache's age: past a size it is compacted to
what its readers use, and every reader's answer stays the same."""
from __future__ import annotations

import json
import time

from doit_runner import run_doit, text_recipe
from tasks.paths import Layout
from tasks.runlog import Run, append_run, compact, durations, last_build, read_runs


def history(path, builds: int = 30) -> None:
    """``builds`` builds of three tasks; `b` fails in every fifth, `c` ran only in the first."""
    for s in range(builds):
        session = 1000 + s
        for task in ("compile:a", "compile:b") + (("compile:c",) if s == 0 else ()):
            ok = not (task == "compile:b" and s % 5 == 4)
            start = 1e9 + 100 * s + len(task)
            append_run(path, Run(task, start, start + 1 + s / 10, 0.5, 1024, ok, session))


def answers(path) -> tuple:
    """What each reader takes from the log: last run per task, durations, the last build."""
    runs = read_runs(path)
    return {r.task: r for r in runs}, durations(runs), last_build(runs)


def test_a_large_log_is_compacted_and_every_reader_gets_the_same_answer(tmp_path):
    log = tmp_path / "runs.jsonl"
    history(log)
    with open(log, "ab") as fh:             # a writer killed mid-line
        fh.write(b'{"task": "compile:zz", "sta')
    before, size = answers(log), log.stat().st_size
    assert compact(log, at=1024) is True
    assert answers(log) == before
    lines = log.read_bytes().splitlines(keepends=True)
    assert json.loads(lines[0]) == {"compacted_bytes": sum(len(x) for x in lines[1:])}
    assert all(line.endswith(b"\n") for line in lines) and b"compile:zz" not in log.read_bytes()
    # kept: a's last run and b's (the last build, 29, where b failed), b's last success (build 28)
    # and c's only run (build 0)
    assert len(lines) - 1 == 4 and log.stat().st_size < size / 10
    assert oct(log.stat().st_mode & 0o777) == "0o644"


def test_a_small_log_or_one_not_twice_its_compacted_size_is_left_alone(tmp_path):
    log = tmp_path / "runs.jsonl"
    history(log, builds=3)
    inode, size = log.stat().st_ino, log.stat().st_size
    assert compact(log, at=size) is False and log.stat().st_ino == inode
    assert compact(tmp_path / "missing.jsonl") is False

    history(log, builds=30)
    assert compact(log, at=1024) is True
    limit = 2 * json.loads(log.read_bytes().splitlines()[0])["compacted_bytes"]
    appended = 0
    while log.stat().st_size + 200 < limit:          # appends below twice the compacted size
        append_run(log, Run("compile:a", time.time(), time.time() + 1, 0.1, 1, True, 7))
        appended += 1
        assert compact(log, at=1024) is False
    assert appended >= 2
    while log.stat().st_size < limit:
        append_run(log, Run("compile:a", time.time(), time.time() + 1, 0.1, 1, True, 7))
    assert compact(log, at=1024) is True


def test_a_build_that_holds_the_lock_compacts_a_grown_log(tmp_path):
    recipes, cache = tmp_path / "recipes", tmp_path / "cache"
    text_recipe(recipes, "tiny")
    log = Layout(cache, "").run_log
    log.parent.mkdir(parents=True)
    history(log, builds=25000)              # 50,000 runs (~6 MB): an old cache's history
    assert log.stat().st_size > 4 << 20
    started = time.process_time()
    read_runs(log)
    full_read = time.process_time() - started

    result = run_doit(recipes, cache, "index:tiny")
    assert result.returncode == 0, result.output
    runs = read_runs(log)
    assert log.stat().st_size < 4096, log.stat().st_size
    assert {r.task for r in runs} >= {"compile:a", "compile:b", "compile:c"}
    assert any(r.task.endswith(":tiny") for r in runs)       # this build's runs were appended after
    started = time.process_time()
    read_runs(log)
    after = time.process_time() - started
    print(f"reading the run log: {full_read * 1000:.0f} ms before the build, {after * 1000:.2f} ms after")
    assert after < full_read
