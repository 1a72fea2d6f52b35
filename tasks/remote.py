"""Stages run on a Dask distributed cluster (``executor=tcp://scheduler:8786``).

doit stays the scheduler of the graph; a job that misses the shared cache is submitted to
the cluster as one Dask task (``Client.submit``): the worker runs ``doit`` on its own cache
with the same recipes and settings and the same shared cache, so it restores the job's
inputs from the shared cache, runs the stage and publishes the result; the caller then
restores it like any hit (tasks/sharedcache/). No queue or protocol of our own: Dask moves
the call, its retries and a dead worker's tasks.

A worker is a machine set up like a build machine (``bash scripts/setup.sh``) with the same
checkout, running ``dask worker tcp://scheduler:8786 --nthreads 1`` with the shared cache's
credentials in its environment (README, "Beyond one machine").
"""
from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .errors import CondoitError

if TYPE_CHECKING:
    from .settings import Settings

# A job that takes longer than this on a worker is given up (and built here).
REMOTE_TIMEOUT_S = 4 * 3600
_clients: dict[str, Any] = {}
_clients_lock = threading.Lock()
_worker_lock = threading.Lock()


class RemoteFailed(CondoitError):
    """The cluster did not build the job (unreachable, worker lost, the build failed there)."""


@dataclass(frozen=True)
class RemoteJob:
    """What a worker needs (plain data: it is pickled to the worker): doit's targets and the
    settings as doit variables. The recipes directory is named relative to the project root
    when it lies inside it (each machine has its own checkout path)."""

    targets: tuple[str, ...]
    variables: tuple[tuple[str, str], ...]
    recipes: str
    recipes_in_root: bool


def job_for(settings: "Settings", targets: list[str]) -> RemoteJob:
    """The worker's doit variables: every setting that shapes a result, the shared cache
    (credentials stay in each machine's environment), never this machine's cache or executor."""
    variables = {
        "target": settings.target_platform, "python": settings.python, "numpy": settings.numpy,
        "format": settings.package_format, "compression_level": str(settings.compression_level),
        "max_glibc": settings.max_glibc or "none", "toolchain": settings.toolchain, "glibc": settings.glibc,
        "mirrors": ",".join(settings.mirrors), "strict": "1" if settings.strict else "0",
        "variants": ",".join(map(str, settings.variant_files)),
        "shared_cache": settings.shared_cache, "shared_stages": ",".join(settings.shared_stages),
        "shared_write": "1", "executor": "",
    }
    recipes, root = settings.recipes_dir.resolve(), settings.root.resolve()
    inside = root in recipes.parents or recipes == root
    return RemoteJob(tuple(targets), tuple(sorted(variables.items())),
                     str(recipes.relative_to(root)) if inside else str(recipes), inside)


def _client(address: str) -> Any:
    with _clients_lock:
        client = _clients.get(address)
        if client is None or client.status not in ("running", "connecting"):
            from distributed import Client
            try:
                client = Client(address, timeout="15s", set_as_default=False)
            except (OSError, TimeoutError) as exc:
                raise RemoteFailed(f"no Dask scheduler answers at {address} ({exc})") from None
            _clients[address] = client
        return client


def run_remote(settings: "Settings", targets: list[str]) -> float:
    """Build ``targets`` on a worker of the cluster; the seconds it took. Raises RemoteFailed."""
    client = _client(settings.executor)
    job = job_for(settings, targets)
    started = time.monotonic()
    try:
        future = client.submit(build_on_worker, job, pure=False, key=f"condoit-{targets[0]}-{os.getpid()}-{time.time_ns()}")
        code, tail = future.result(timeout=REMOTE_TIMEOUT_S)
    except RemoteFailed:
        raise
    except Exception as exc:  # KilledWorker, CommClosedError, TimeoutError, CancelledError...
        raise RemoteFailed(f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else 'no detail'}") from None
    if code != 0:
        raise RemoteFailed(f"doit {' '.join(targets)} failed on the worker (exit {code}):\n{tail}")
    return time.monotonic() - started


# -- the worker's side ---------------------------------------------------------------------------------

def worker_cache(name: str) -> Path:
    """This worker's own condoit cache (results come and go through the shared cache)."""
    base = Path(os.environ.get("CONDOIT_WORKER_CACHE") or Path.home() / ".cache" / "condoit" / "workers")
    return base / (re.sub(r"[^\w.-]+", "_", name).strip("_") or "worker")


def _die_with_parent() -> None:
    """A worker killed mid-stage takes its doit with it (no orphan holding the worker's cache)."""
    import ctypes
    PR_SET_PDEATHSIG = 1
    ctypes.CDLL("libc.so.6", use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)


def build_on_worker(job: RemoteJob) -> tuple[int, str]:
    """Runs in a Dask worker: ``doit TARGETS`` on the worker's cache; (exit code, output tail)."""
    from distributed import get_worker
    from .settings import PROJECT_ROOT
    try:
        name = str(get_worker().name)
    except ValueError:
        name = f"pid{os.getpid()}"
    recipes = PROJECT_ROOT / job.recipes if job.recipes_in_root else Path(job.recipes)
    if not recipes.is_dir():
        return 2, f"the worker has no recipes at {recipes} (it needs the same checkout: README)"
    cmd = [sys.executable, "-m", "doit", "-f", str(PROJECT_ROOT / "dodo.py"), "-d", str(PROJECT_ROOT),
           *job.targets, f"recipes={recipes}", f"cache={worker_cache(name)}",
           *(f"{k}={v}" for k, v in job.variables)]
    env = {k: v for k, v in os.environ.items() if k not in ("CONDOIT_CACHE", "CONDOIT_EXECUTOR")}
    with _worker_lock:   # one build per worker cache (start workers with --nthreads 1)
        proc = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=PROJECT_ROOT,
                              preexec_fn=_die_with_parent)
    tail = "\n".join((proc.stdout + proc.stderr).splitlines()[-25:])
    return proc.returncode, tail
