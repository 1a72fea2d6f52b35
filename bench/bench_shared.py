"""The shared stage cache and the Dask executor, measured (issue 14).

    python bench/bench_shared.py                          # a generated stack of C programs (linux-64)
    python bench/bench_shared.py --recipes recipes --target linux-aarch64   # the shipped stack (long)

Figures: machine A's cold build (publishing to a SeaweedFS S3 server on loopback), machine
B's build of the same stack from the warm shared cache (another checkout path, a fresh
cache), and the makespan of a cold build through a Dask cluster of 1 and of 2 workers
(``doit -n 2 -P thread ... executor=``; each with its own empty shared prefix). Wall seconds.

For the shipped stack, sources are fetched once and seeded into A's and the Dask clients'
caches (bench_makespan.seed; no network is timed); machine B starts empty and restores its
sources from the shared cache too. A builds with ``-n 2 -P process``, the local baseline
for both comparisons. Every build starts from its own copy of a Zig cache as the setup
script leaves it (bench_makespan.fresh_zig_cache), the workers of a cluster share one;
``--zig-cache user`` lets every build use the per-user cache instead (Zig then compiles
from its object cache what an earlier build compiled: quicker, and the same for every
build compared, but not cold).
"""
from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "bench"))
from bench_makespan import fresh_zig_cache, seed  # noqa: E402
from doit_runner import run_doit, write_recipe  # noqa: E402
from shared_servers import BUCKET, dask_cluster, environment, seaweedfs  # noqa: E402

PROGRAM = "#include <stdio.h>\nint main(void) {{ puts(\"{name}\"); return 0; }}\n"


def generated_stack(root: Path, count: int) -> Path:
    """``count`` independent C programs (a path: source each), built natively."""
    recipes = root / "recipes"
    for i in range(count):
        name = f"prog{i}"
        src = root / "src" / name
        src.mkdir(parents=True)
        (src / "main.c").write_text(PROGRAM.format(name=name) * 1)
        write_recipe(recipes, name, f"""
            package: {{name: {name}, version: "1.0"}}
            source: {{path: {src}}}
            test: {{commands: [{name}]}}
            """, build_sh=f"mkdir -p $PREFIX/bin\n$CC $CFLAGS -O2 -o $PREFIX/bin/{name} main.c\n")
    return recipes


def timed(label: str, recipes: Path, cache: Path, targets: list[str], *args: str, **variables: str) -> float:
    started = time.monotonic()
    run = run_doit(recipes, cache, *args, *targets, timeout=6 * 3600, **variables)
    seconds = time.monotonic() - started
    if run.returncode != 0:
        raise SystemExit(f"{label} failed:\n{run.output[-3000:]}")
    restored = run.output.count("restored from the shared cache")
    print(f"{label:<44} {seconds:7.1f} s   ({len(run.ran)} jobs, {restored} restored)", flush=True)
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--recipes", type=Path, help="a stack (default: a generated one)")
    parser.add_argument("--count", type=int, default=6, help="programs in the generated stack")
    parser.add_argument("--target", default="linux-64")
    parser.add_argument("--targets", default="build", help="comma-separated doit targets (default: build)")
    parser.add_argument("--zig-cache", choices=("fresh", "user"), default="fresh",
                        help="each build starts from a copy of the setup's Zig cache (default) or uses the per-user one")
    args = parser.parse_args()
    targets = args.targets.split(",")
    work = Path(tempfile.mkdtemp(prefix="bench-shared-"))
    recipes = args.recipes.resolve() if args.recipes else generated_stack(work / "stack", args.count)
    other = work / "b" / "recipes"
    shutil.copytree(recipes, other)
    target = {"target": args.target}
    shipped = args.recipes is not None and recipes == (ROOT / "recipes").resolve()

    def fresh(cache: Path) -> Path:
        if shipped:
            seed(cache, targets)
        return cache

    def zig_for(name: str) -> dict[str, str]:
        return {"zig_cache": str(fresh_zig_cache(work / name))} if args.zig_cache == "fresh" else {}
    try:
        with seaweedfs(work / "s3") as server, environment(server.env):
            cold = timed("A: cold build -n 2 -P process, publishing", recipes, fresh(work / "a"), targets,
                         "-n", "2", "-P", "process", shared_cache=f"s3://{BUCKET}/a", **zig_for("a-zig"), **target)
            warm = timed("B: same stack from the warm shared cache", other, work / "b" / "cache", targets,
                         "-n", "2", "-P", "process", shared_cache=f"s3://{BUCKET}/a", **target)
            spans = {}
            for workers in (1, 2):
                zig = zig_for(f"dask{workers}-zig")
                with environment({f"CONDOIT_{k.upper()}": v for k, v in zig.items()}), \
                        dask_cluster(work / f"dask{workers}", workers) as (address, _procs):
                    spans[workers] = timed(f"cold build on {workers} Dask worker(s), -n 2 -P thread", recipes,
                                           fresh(work / f"client{workers}"), targets, "-n", "2", "-P", "thread",
                                           shared_cache=f"s3://{BUCKET}/dask{workers}", executor=address,
                                           **zig, **target)
        print(f"Zig cache: {args.zig_cache}; load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
        print(f"warm shared cache / cold local build: {warm / cold:.2f}")
        print(f"makespan 2 workers / 1 worker: {spans[2] / spans[1]:.2f}")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
