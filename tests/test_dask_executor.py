"""Stages run on a real Dask cluster (a scheduler and two workers as separate processes on
loopback), results handed back through a real S3 server (SeaweedFS): tasks/remote.py."""
from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

from doit_runner import DODO, ROOT, run_doit, write_recipe
from shared_servers import BUCKET, channel_files, dask_cluster, environment, free_port, seaweedfs, small_stack

NATIVE = {"target": "linux-64"}


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    work = tmp_path_factory.mktemp("cluster")
    with seaweedfs(work) as server, environment(server.env), dask_cluster(work / "dask") as (address, workers):
        yield server, address, workers, work


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    return small_stack(tmp_path_factory.mktemp("stack"))


def test_compile_runs_on_a_worker_and_matches_a_local_build(cluster, stack, tmp_path):
    server, address, _workers, work = cluster
    started = time.monotonic()
    run = run_doit(stack, tmp_path / "client", "build", **NATIVE, shared_cache=f"s3://{BUCKET}/dask",
                   executor=address)
    remote_s = time.monotonic() - started
    assert run.returncode == 0, run.output
    for job in ("compile:greet", "compile:note", "test:greet", "test:note"):
        assert f"condoit: {job} restored from the shared cache" in run.output, run.output
    # the compiles ran on the workers: their caches hold the build trees, the client's none
    assert not (tmp_path / "client" / "prefix").exists()
    assert list((work / "dask" / "workers").glob("*/prefix/linux-64/greet"))
    stamp = json.loads((tmp_path / "client" / "stamps" / "greet" / "linux-64" / "compile.json").read_text())
    assert stamp["run"]["shared"] == "record"
    started = time.monotonic()
    local = run_doit(stack, tmp_path / "local", "build", **NATIVE)
    local_s = time.monotonic() - started
    assert local.returncode == 0, local.output
    print(f"stack through the cluster {remote_s:.1f} s, local build {local_s:.1f} s")
    assert channel_files(tmp_path / "client") == channel_files(tmp_path / "local") != {}


def test_a_shipped_recipe_through_the_cluster_is_the_session_builds_package(cluster, python_layer, tmp_path):
    """bzip2 for linux-aarch64 (zig, glibc 2.17, its test under qemu) compiled and tested on a
    worker: byte-identical to the package of the session's local build of the shipped stack."""
    _server, address, _workers, _work = cluster
    started = time.monotonic()
    run = run_doit(ROOT / "recipes", tmp_path / "client", "build:bzip2", shared_cache=f"s3://{BUCKET}/shipped",
                   executor=address, timeout=1800)
    assert run.returncode == 0, run.output[-4000:]
    print(f"build:bzip2 through the cluster: {time.monotonic() - started:.1f} s")
    for job in ("compile:bzip2", "test:bzip2"):
        assert f"condoit: {job} restored from the shared cache" in run.output, run.output[-4000:]
    assert not (tmp_path / "client" / "prefix").exists()

    def bzip2(cache: Path) -> dict[str, bytes]:
        return {name: data for name, data in channel_files(cache).items() if name.startswith("linux-aarch64/bzip2-")}
    assert bzip2(tmp_path / "client") == bzip2(python_layer.cache) != {}


def test_an_unreachable_scheduler_falls_back_to_local_execution(cluster, stack, tmp_path):
    run = run_doit(stack, tmp_path / "cache", "build", **NATIVE, shared_cache=f"s3://{BUCKET}/nosched",
                   executor=f"tcp://127.0.0.1:{free_port()}")
    assert run.returncode == 0, run.output
    assert "compile:greet: not built on the cluster (no Dask scheduler answers" in run.output, run.output
    assert "compile:greet" in run.ran and (tmp_path / "cache" / "prefix").exists()


def test_executor_without_shared_cache_is_a_clear_error(stack, tmp_path):
    run = run_doit(stack, tmp_path / "cache", "build:greet", **NATIVE, executor="tcp://127.0.0.1:1")
    assert run.returncode != 0
    assert "needs shared_cache=" in run.output and "Traceback" not in run.output


def test_a_worker_killed_mid_stage_loses_nothing(cluster, stack, tmp_path):
    """SIGKILL the worker that runs a compile: Dask runs the job again on the other worker, the
    build finishes, and the killed worker's doit died with it. (Last: it kills a worker.)"""
    server, address, workers, work = cluster
    write_recipe(stack, "slow", 'package: {name: slow, version: "1.0"}\nbuild: {noarch: generic}\n',
                 build_sh="sleep 6\nmkdir -p $PREFIX/share\necho slow > $PREFIX/share/slow.txt\n")
    cmd = [sys.executable, "-m", "doit", "-f", str(DODO), "-d", str(ROOT), "build:slow", f"recipes={stack}",
           f"cache={tmp_path / 'cache'}", "target=linux-64", f"shared_cache=s3://{BUCKET}/killed", f"executor={address}"]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    deadline = time.monotonic() + 300
    victim = None
    while victim is None:
        assert time.monotonic() < deadline and proc.poll() is None, "no worker started compile:slow"
        for log in (work / "dask" / "workers").glob("w*/logs/slow/linux-64/compile.log"):
            victim = int(log.relative_to(work / "dask" / "workers").parts[0][1:])
        time.sleep(0.2)
    workers[victim].kill()
    worker_cache = f"cache={work / 'dask' / 'workers' / f'w{victim}'}"
    deadline = time.monotonic() + 10
    while _processes_with(worker_cache):   # the worker's doit dies with it (PR_SET_PDEATHSIG)
        assert time.monotonic() < deadline, f"the killed worker's doit still runs: {_processes_with(worker_cache)}"
        time.sleep(0.2)
    output, _ = proc.communicate(timeout=600)
    assert proc.returncode == 0, output
    assert "condoit: compile:slow restored from the shared cache" in output, output
    assert list((tmp_path / "cache" / "channel" / "noarch").glob("slow-1.0-*.conda"))
    # Dask ran the job again on the other worker
    assert (work / "dask" / "workers" / f"w{1 - victim}" / "logs" / "slow" / "linux-64" / "compile.log").exists()


def _processes_with(argument: str) -> list[int]:
    """Pids of live processes with ``argument`` on their command line."""
    found = []
    for proc in Path("/proc").iterdir():
        try:
            if proc.name.isdigit() and argument.encode() in (proc / "cmdline").read_bytes().split(b"\0"):
                found.append(int(proc.name))
        except OSError:
            continue
    return found
