"""The shared stage cache and the Dask executor, measured (issue 14).

    python bench/bench_shared.py                          # a generated stack of C programs (linux-64)
    python bench/bench_shared.py --recipes recipes --target linux-aarch64   # the shipped stack (long)

Figures: machine A's cold build (publishing to a SeaweedFS S3 server on loopback), machine
B's build of the same stack from the warm shared cache (another checkout path, a fresh
cache), and the makespan of a cold build through a Dask cluster of 1 and of 2 workers
(``doit -n 2 -P thread ... executor=``; each with its own empty shared prefix). Wall seconds.
"""
from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
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


def timed(label: str, recipes: Path, cache: Path, *args: str, **variables: str) -> float:
    started = time.monotonic()
    run = run_doit(recipes, cache, *args, "build", timeout=6 * 3600, **variables)
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
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench-shared-"))
    recipes = args.recipes.resolve() if args.recipes else generated_stack(work / "stack", args.count)
    other = work / "b" / "recipes"
    shutil.copytree(recipes, other)
    target = {"target": args.target}
    try:
        with seaweedfs(work / "s3") as server, environment(server.env):
            cold = timed("A: cold build, publishing", recipes, work / "a", shared_cache=f"s3://{BUCKET}/a", **target)
            warm = timed("B: same stack from the warm shared cache", other, work / "b" / "cache",
                         shared_cache=f"s3://{BUCKET}/a", **target)
            spans = {}
            for workers in (1, 2):
                with dask_cluster(work / f"dask{workers}", workers) as (address, _procs):
                    spans[workers] = timed(f"cold build on {workers} Dask worker(s), -n 2 -P thread", recipes,
                                           work / f"client{workers}", "-n", "2", "-P", "thread",
                                           shared_cache=f"s3://{BUCKET}/dask{workers}", executor=address, **target)
        print(f"warm shared cache / cold local build: {warm / cold:.2f}")
        print(f"makespan 2 workers / 1 worker: {spans[2] / spans[1]:.2f}")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
