"""The no-op `doit build` of the shipped stack: how long a run takes when nothing is to do.

Every `doit` call loads the settings, renders the stack, wires the tasks and checks each
stage's stamp (signature, and that its result is undamaged); that is the fixed cost a user
pays on every call. This times it, and can put another checkout (an older commit) beside
it, run in turn (A B A B ...) so that drift of the machine's speed hits both alike.

    python bench/bench_noop.py [-n 10] [--cache DIR]
    python bench/bench_noop.py -n 10 --cache /tmp/new-cache --baseline-tree /tmp/old --baseline-cache /tmp/old-cache

A cache that holds no finished build is built first (`doit -n 2 -P process build`, minutes,
not timed). To make an older commit's tree: `git worktree add /tmp/old <commit>`.
"""
from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ENV = {k: v for k, v in os.environ.items() if not k.startswith("CONDOIT_")}


@dataclass(frozen=True)
class Checkout:
    label: str
    tree: Path
    cache: Path

    def doit(self, *args: str) -> list[str]:
        return [sys.executable, "-m", "doit", "-f", str(self.tree / "dodo.py"), "-d", str(self.tree), *args,
                f"cache={self.cache}", f"recipes={self.tree / 'recipes'}"]


def ensure_built(checkout: Checkout) -> None:
    """Build the stack once (not timed); a no-op must then run nothing."""
    probe = subprocess.run(checkout.doit("build"), capture_output=True, text=True, env=ENV)
    if probe.returncode != 0 or any(line.startswith(".") for line in probe.stdout.splitlines()):
        print(f"{checkout.label}: building the stack into {checkout.cache} (not timed) ...", flush=True)
        built = subprocess.run(checkout.doit("-n", "2", "-P", "process", "build"), capture_output=True,
                               text=True, env=ENV)
        if built.returncode != 0:
            sys.exit(f"{checkout.label}: the build failed:\n{built.stdout[-2000:]}\n{built.stderr[-2000:]}")
    again = subprocess.run(checkout.doit("build"), capture_output=True, text=True, env=ENV)
    ran = [line for line in again.stdout.splitlines() if line.startswith(".")]
    if again.returncode != 0 or ran:
        sys.exit(f"{checkout.label}: not a no-op (rc {again.returncode}): {ran[:5]}\n{again.stderr[-2000:]}")


def timed(command: list[str]) -> tuple[float, float]:
    """(wall, CPU) seconds of one run of ``command``, its children included."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    proc = subprocess.run(command, capture_output=True, env=ENV)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0:
        sys.exit(f"`{' '.join(command)}` failed:\n{proc.stderr.decode()[-2000:]}")
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def summary(values: list[float]) -> str:
    return f"{statistics.median(values):.3f} [{min(values):.3f}-{max(values):.3f}]"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("-n", type=int, default=10, help="timed runs per checkout (default 10)")
    parser.add_argument("--cache", type=Path, default=Path("/tmp/condoit-bench-noop/cache"))
    parser.add_argument("--baseline-tree", type=Path, help="another checkout to time beside this one")
    parser.add_argument("--baseline-cache", type=Path, default=Path("/tmp/condoit-bench-noop/baseline-cache"))
    args = parser.parse_args()
    checkouts = [Checkout("this tree", ROOT, args.cache)]
    if args.baseline_tree:
        checkouts.append(Checkout(f"baseline {args.baseline_tree}", args.baseline_tree, args.baseline_cache))
    for checkout in checkouts:
        ensure_built(checkout)
        timed(checkout.doit("build"))  # warm-up: page cache, compiled templates
    results: dict[str, list[tuple[float, float]]] = {c.label: [] for c in checkouts}
    for _ in range(args.n):
        for checkout in checkouts:
            results[checkout.label].append(timed(checkout.doit("build")))
    print(f"no-op `doit build` of the shipped stack, {args.n} runs each, median [min-max]\n")
    print(f"| checkout | wall s | CPU s |\n|---|---|---|")
    for label, runs in results.items():
        print(f"| {label} | {summary([w for w, _ in runs])} | {summary([c for _, c in runs])} |")
    if len(checkouts) == 2:
        (a, b) = (results[c.label] for c in checkouts)
        ratios = [bw / aw for (aw, _), (bw, _) in zip(a, b)]
        print(f"\nbaseline / this tree, wall, pair by pair: median {statistics.median(ratios):.2f}x "
              "(above 1: this tree is faster)")


if __name__ == "__main__":
    main()
