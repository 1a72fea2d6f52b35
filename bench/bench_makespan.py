"""Whole-stack makespan against the two limits the machine and the graph set.

For each ``-n`` given, a cold ``doit -n N -P process build:<targets>`` in a fresh cache
(sources pre-seeded, not timed), then from that build's run log (tasks/runlog.py):

- **makespan**: wall time of the doit process;
- **critical path**: the longest chain of stage jobs through their declared upstream
  (tasks/schedule.py's bottom levels, with this build's own durations): no schedule can
  finish before it;
- **work / cores**: the sum of every job's duration divided by the cores (or by N when
  smaller): no schedule on this machine can finish before it either.

and prints makespan / limit for both (1.0 is the best possible).

Each build gets its own copy of a Zig cache as the setup script leaves it on a new machine
(glibc stubs, crt files, libc++): a build sharing the per-user cache with an earlier build
would find them made and not be cold. Each build's cache (and so its compiler cache,
cache/ccache) is new too.

    python bench/bench_makespan.py                       # the shipped stack, -n 1 and -n 2
    python bench/bench_makespan.py --targets build:readline,build:xz --jobs 1,2
"""
from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_noop import ENV  # noqa: E402

from tasks.paths import Layout  # noqa: E402
from tasks.runlog import last_build, read_runs  # noqa: E402
from tasks.schedule import bottom_levels  # noqa: E402

DOWNLOADS = Path("/tmp/condoit-bench-downloads")   # shared with bench_build.py: fetched once
SETUP_ZIG_CACHE = Path("/tmp/condoit-bench-zig-setup")   # the setup script's warm-up only: made once


def doit(cache: Path, *args: str) -> list[str]:
    return [sys.executable, "-m", "doit", "-f", str(ROOT / "dodo.py"), "-d", str(ROOT), *args,
            f"cache={cache}", f"recipes={ROOT / 'recipes'}"]


def seed(cache: Path, targets: list[str]) -> None:
    """Fetch the sources once into DOWNLOADS, then seed ``cache`` with them (not timed)."""
    downloads = [t.replace("build:", "download:") for t in targets] if targets != ["build"] else ["download"]
    fetch = subprocess.run(doit(DOWNLOADS, *downloads), capture_output=True, text=True, env=ENV)
    if fetch.returncode != 0:
        sys.exit(f"fetching the sources failed:\n{fetch.stdout[-2000:]}\n{fetch.stderr[-2000:]}")
    subprocess.run([sys.executable, "-m", "tasks.import_archives", str(Layout(DOWNLOADS, "").downloads),
                    "--recipes", str(ROOT / "recipes"), "--cache", str(cache)], check=True, env=ENV,
                   cwd=ROOT, capture_output=True)


def fresh_zig_cache(where: Path) -> Path:
    """A copy of a Zig cache holding only what the setup script's warm-up puts there."""
    if not SETUP_ZIG_CACHE.is_dir():
        scratch = Path(tempfile.mkdtemp(prefix="zig-setup-", dir=SETUP_ZIG_CACHE.parent))
        subprocess.run([sys.executable, "-m", "tasks.toolchain", "warm"], check=True, cwd=ROOT,
                       env={**ENV, "CONDOIT_ZIG_CACHE": str(scratch / "zig")}, capture_output=True)
        (scratch / "zig").rename(SETUP_ZIG_CACHE)
        shutil.rmtree(scratch)
    shutil.copytree(SETUP_ZIG_CACHE, where, symlinks=True)
    return where


def upstream_of_build(cache: Path) -> dict[str, list[str]]:
    """task -> its declared upstream tasks (the engine's own wiring)."""
    from tasks.engine import Engine
    from tasks.report import upstream_tasks
    from tasks.settings import load_settings
    from tasks.taskgen import engine_jobs
    engine = Engine(load_settings({"cache": str(cache), "recipes": str(ROOT / "recipes")}), writes=False)
    engine.open()
    return upstream_tasks(engine_jobs(engine))


def measure(jobs: int, targets: list[str], tmp: Path) -> tuple[float, float, float, int]:
    cache = tmp / f"cache-n{jobs}"
    seed(cache, targets)
    start = time.perf_counter()
    zig = fresh_zig_cache(tmp / f"zig-n{jobs}")
    proc = subprocess.run(doit(cache, "-n", str(jobs), "-P", "process", *targets, f"zig_cache={zig}"),
                          capture_output=True, text=True, env=ENV)
    makespan = time.perf_counter() - start
    if proc.returncode != 0:
        sys.exit(f"-n {jobs}: the build failed:\n{proc.stdout[-2000:]}\n{proc.stderr[-2000:]}")
    runs = [r for r in last_build(read_runs(Layout(cache, "").run_log)) if r.ok]
    seconds = {r.task: r.seconds for r in runs}
    upstream = {t: u for t, u in upstream_of_build(cache).items() if t in seconds}
    critical = max(bottom_levels(upstream, seconds).values(), default=0.0)
    return makespan, critical, sum(seconds.values()), len(runs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--targets", default="build", help="comma-separated doit targets (default: build)")
    parser.add_argument("--jobs", default="1,2", help="comma-separated values of -n")
    args = parser.parse_args()
    targets = args.targets.split(",")
    cores = os.cpu_count() or 1
    rows = []
    with tempfile.TemporaryDirectory(prefix="bench-makespan-") as tmp:
        for jobs in (int(j) for j in args.jobs.split(",")):
            print(f"-n {jobs}: cold {' '.join(targets)} ...", flush=True)
            rows.append((jobs, *measure(jobs, targets, Path(tmp))))
    print(f"\nmachine: {cores} cores, load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print(f"{'-n':>3} {'jobs run':>9} {'makespan s':>11} {'critical path s':>16} {'work s':>8} "
          f"{'work/cores s':>13} {'makespan/CP':>12} {'makespan/(work/cores)':>22}")
    for jobs, makespan, critical, work, count in rows:
        bound = work / min(cores, jobs)
        print(f"{jobs:>3} {count:>9} {makespan:>11.1f} {critical:>16.1f} {work:>8.1f} {bound:>13.1f} "
              f"{makespan / critical if critical else float('nan'):>12.2f} {makespan / bound if bound else float('nan'):>22.2f}")


if __name__ == "__main__":
    main()
