"""doit in a subprocess: exactly which source stages re-run after an edit, crash safety
(SIGKILL mid-download), a lost doit database, ``doit clean`` and ``doit forget``."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

from sources_helpers import (DODO, REPO, doit, doit_tasks, http_server, sha256, tar_bytes,  # noqa: F401
                             write_meta)
from tasks.paths import Layout

STAGES = ("download", "extract", "patch")
PATCH = "--- a/a.txt\n+++ b/a.txt\n@@ -1,3 +1,3 @@\n line 1\n-line 2\n+{new}\n line 3\n"


def archive(version: str) -> bytes:
    return tar_bytes({"a.txt": "line 1\nline 2\nline 3\n", "VERSION": f"{version}\n"}, top=f"x-{version}")


def meta(url_base: str, version: str, data: bytes, summary: str = "test", number: int = 0) -> str:
    return f"""{{% set version = "{version}" %}}
package:
  name: x
  version: {{{{ version }}}}
source:
  url: {url_base}/x-{{{{ version }}}}.tar.gz
  sha256: {sha256(data)}
  patches:
    - fix.patch
build:
  number: {number}
about:
  summary: {summary}
"""


@pytest.fixture
def stack(tmp_path, http_server):
    """A one-recipe stack served from the loopback server, built once through patch."""
    recipes, cache = tmp_path / "recipes", tmp_path / "cache"
    data = archive("1.0")
    http_server.add("x-1.0.tar.gz", data)
    folder = write_meta(recipes, "x", meta(http_server.url("").rstrip("/"), "1.0", data),
                        {"fix.patch": PATCH.format(new="line two")})
    ran, _, out = doit_tasks(recipes, cache, *tasks("x"))
    assert ran == set(tasks("x")), out
    return recipes, cache, folder, http_server


def tasks(name: str) -> list[str]:
    return [f"{s}:{name}" for s in STAGES]


def test_nothing_reruns_without_edits(stack):
    recipes, cache, _, server = stack
    ran, fresh, _ = doit_tasks(recipes, cache, *tasks("x"))
    assert ran == set() and fresh == set(tasks("x"))
    assert server.total_hits() == 1


def test_patch_edit_reruns_only_patch(stack):
    recipes, cache, folder, server = stack
    (folder / "fix.patch").write_text(PATCH.format(new="line TWO"))
    ran, fresh, _ = doit_tasks(recipes, cache, *tasks("x"))
    assert ran == {"patch:x"} and fresh == {"download:x", "extract:x"}
    assert (Layout(cache).work("x", "patch") / "a.txt").read_text() == "line 1\nline TWO\nline 3\n"
    assert server.total_hits() == 1


def test_meta_edit_outside_source_reruns_nothing(stack):
    recipes, cache, folder, _ = stack
    text = (folder / "meta.yaml").read_text()
    (folder / "meta.yaml").write_text(text.replace("summary: test", "summary: edited")
                                      .replace("number: 0", "number: 3") + "extra:\n  note: hi\n")
    ran, fresh, _ = doit_tasks(recipes, cache, *tasks("x"))
    assert ran == set() and fresh == set(tasks("x"))


def test_new_version_and_sha256_rerun_all_three(stack):
    recipes, cache, folder, server = stack
    data = archive("1.1")
    server.add("x-1.1.tar.gz", data)
    text = (folder / "meta.yaml").read_text()
    (folder / "meta.yaml").write_text(text.replace('"1.0"', '"1.1"').replace(sha256(archive("1.0")), sha256(data)))
    ran, _, _ = doit_tasks(recipes, cache, *tasks("x"))
    assert ran == set(tasks("x"))
    assert (Layout(cache).work("x", "patch") / "VERSION").read_text() == "1.1\n"


def test_same_content_from_another_url_stops_at_download(stack):
    """Early cutoff: download re-runs (its inputs changed) but its output, the sha256, did not."""
    recipes, cache, folder, server = stack
    server.add("mirror/x-1.0.tar.gz", archive("1.0"))
    base, name = server.url("").rstrip("/"), "x-{{ version }}.tar.gz"
    text = (folder / "meta.yaml").read_text()
    assert f"  url: {base}/{name}\n" in text
    (folder / "meta.yaml").write_text(text.replace(f"  url: {base}/{name}\n",
                                                   f"  url:\n    - {base}/mirror/{name}\n    - {base}/{name}\n"))
    ran, fresh, out = doit_tasks(recipes, cache, *tasks("x"))
    assert ran == {"download:x"} and fresh == {"extract:x", "patch:x"}, out


def test_lost_doit_database_costs_only_a_recheck(stack):
    recipes, cache, _, server = stack
    db = Layout(cache).doit_db
    assert db.exists()
    db.unlink()
    ran, fresh, _ = doit_tasks(recipes, cache, *tasks("x"))
    assert ran == set() and fresh == set(tasks("x"))
    assert server.total_hits() == 1


def test_doit_clean_removes_one_stage_and_forget_keeps_stamps(stack):
    recipes, cache, _, _ = stack
    layout = Layout(cache)
    proc = doit(recipes, cache, "clean", "patch:x")
    assert proc.returncode == 0, proc.stderr
    assert not layout.work("x", "patch").exists() and not layout.stamp("x", "patch").exists()
    assert layout.work("x", "extract").is_dir() and layout.stamp("x", "extract").is_file()
    ran, _, _ = doit_tasks(recipes, cache, *tasks("x"))
    assert ran == {"patch:x"}
    proc = doit(recipes, cache, "forget")
    assert proc.returncode == 0, proc.stderr
    ran, fresh, _ = doit_tasks(recipes, cache, *tasks("x"))
    assert ran == set() and fresh == set(tasks("x"))


def test_stage_failure_is_reported_without_traceback(stack):
    recipes, cache, folder, _ = stack
    (folder / "fix.patch").write_text(PATCH.replace("-line 2", "-no such line").format(new="x"))
    proc = doit(recipes, cache, "run", *tasks("x"))
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0
    assert "[x] stage 'patch' failed" in out and "hunk #1 of a.txt" in out and "fix.patch" in out
    assert "Traceback" not in out
    assert not Layout(cache).stamp("x", "patch").exists()


def test_sigkill_during_download_then_rerun(tmp_path, http_server):
    """Kill doit while a slow download streams; the rerun redoes only what was not finished."""
    recipes, cache = tmp_path / "recipes", tmp_path / "cache"
    fast, slow = archive("1.0"), os.urandom(3 << 20)   # 3 MB, trickled at about 20 kB/s
    http_server.add("x-1.0.tar.gz", fast)
    http_server.add("big-1.0.bin", slow, slow=True)
    write_meta(recipes, "x", meta(http_server.url("").rstrip("/"), "1.0", fast), {"fix.patch": PATCH.format(new="2")})
    write_meta(recipes, "big", f"""package:
  name: big
  version: "1.0"
source:
  url: {http_server.url("big-1.0.bin")}
  sha256: {sha256(slow)}
""")
    layout = Layout(cache)
    cmd = [sys.executable, "-m", "doit", "-f", str(DODO), "run", f"recipes={recipes}", f"cache={cache}",
           *tasks("x"), "download:big"]
    proc = subprocess.Popen(cmd, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            start_new_session=True)
    try:
        deadline = time.monotonic() + 60
        while not (http_server.started_slow.is_set() and layout.stamp("x", "patch").exists()):
            if proc.poll() is not None or time.monotonic() > deadline:
                raise AssertionError("doit ended or stalled before the slow download started")
            time.sleep(0.05)
        time.sleep(0.3)                                      # well inside the slow body
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    assert not layout.download(sha256(slow)).exists()        # the partial never entered the cache
    assert not layout.stamp("big", "download").exists()
    assert list(layout.download_partials.iterdir())          # the killed run's partial is still there

    http_server.fast.set()
    ran, fresh, out = doit_tasks(recipes, cache, *tasks("x"), *tasks("big"))
    assert fresh == set(tasks("x")), out                      # finished before the kill: not redone
    assert ran == set(tasks("big"))
    assert layout.download(sha256(slow)).read_bytes() == slow
    assert list(layout.download_partials.iterdir()) == []     # the dead run's partial was swept
    assert (layout.work("big", "extract") / "big-1.0.bin").stat().st_size == len(slow)


def test_import_archives_accepts_only_matching_files(tmp_path):
    recipes, cache, drop = tmp_path / "recipes", tmp_path / "cache", tmp_path / "drop"
    data = archive("1.0")
    write_meta(recipes, "x", meta("https://example.invalid/src", "1.0", data), {"fix.patch": PATCH.format(new="2")})
    drop.mkdir()
    (drop / "x-1.0.tar.gz").write_bytes(data)
    (drop / "stray.tar.gz").write_bytes(b"not wanted")
    (drop / "x-1.0-tampered.tar.gz").write_bytes(data + b"!")
    proc = subprocess.run([sys.executable, "-m", "tasks.import_archives", str(drop), "--recipes", str(recipes),
                           "--cache", str(cache)], cwd=REPO, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert f"accepted  {drop / 'x-1.0.tar.gz'}  ->  x: x-1.0.tar.gz" in proc.stdout
    assert f"skipped   {drop / 'stray.tar.gz'}" in proc.stdout
    assert f"skipped   {drop / 'x-1.0-tampered.tar.gz'}" in proc.stdout
    assert "1 accepted, 2 skipped, 0 still missing" in proc.stdout
    assert Layout(cache).download(sha256(data)).read_bytes() == data
    ran, _, out = doit_tasks(recipes, cache, *tasks("x"))    # offline: the cache serves it
    assert ran == set(tasks("x")), out
