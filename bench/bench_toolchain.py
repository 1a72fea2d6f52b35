"""What the toolchain costs: compile time of a recipe with zig and with gnu, Zig's first call.

    python bench/bench_toolchain.py [--recipe openssl] [-n 1] [--work /tmp/condoit-bench-toolchain]

For each toolchain (``toolchain=zig`` with ``glibc=2.17``, the default for linux-aarch64, and
``toolchain=gnu``, Debian's aarch64 gcc), in a fresh scratch cache whose sources are seeded
from ``/tmp/condoit-bench-downloads`` (fetched once, shared with the other benches): the
stages before compile run untimed, then ``doit compile:<recipe>`` is timed (wall and CPU
seconds of its processes), N times (``doit clean compile:<recipe>`` between runs); then
``doit package:<recipe>`` makes the package whose glibc floor and size are shown.

Zig's first call is measured with an empty Zig cache (a scratch ``zig_cache``): a C
hello-world (libc stubs + crt files for the target glibc), then a C++ one (libc++,
libc++abi, libunwind), then both again (warm). The per-user cache (``~/.cache/condoit/zig``)
is not touched, so the compile timings above use the warm cache, as every build after the
first does. Prints a table; ~6 min on 2 cores for openssl.
"""
from __future__ import annotations

import argparse
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
DODO = ROOT / "dodo.py"
RECIPES = ROOT / "recipes"
DOWNLOADS = Path("/tmp/condoit-bench-downloads")  # scratch cache kept between runs: fetch once
ENV = {k: v for k, v in os.environ.items() if not k.startswith("CONDOIT_")}


def cpu_children() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run(cmd: list[str], log: Path) -> tuple[float, float]:
    """(wall, cpu) seconds of one command; its output goes to ``log``; a failure stops the bench."""
    cpu0, wall0 = cpu_children(), time.monotonic()
    with open(log, "w") as fh:
        proc = subprocess.run(cmd, cwd=ROOT, env=ENV, stdout=fh, stderr=subprocess.STDOUT)
    wall, cpu = time.monotonic() - wall0, cpu_children() - cpu0
    if proc.returncode != 0:
        sys.exit(f"failed ({proc.returncode}): {' '.join(cmd)}\n{log.read_text()[-3000:]}")
    return wall, cpu


def doit(*args: str) -> list[str]:
    return [sys.executable, "-m", "doit", "-f", str(DODO), "-d", str(ROOT), *args, f"recipes={RECIPES}"]


def bench_compile(recipe: str, toolchain: str, n: int, work: Path) -> dict[str, object]:
    cache = work / toolchain / "cache"
    cache.mkdir(parents=True)
    variables = [f"cache={cache}", f"toolchain={toolchain}"]
    run([sys.executable, "-m", "tasks.import_archives", str(DOWNLOADS / "downloads"), "--recipes", str(RECIPES),
         "--cache", str(cache)], work / f"{toolchain}-import.log")
    # everything compile needs (sources, and the packages of its host requirements), untimed
    from tasks.render.stack_loader import load_stack
    from tasks.settings import load_settings
    stack = load_stack(load_settings({"recipes": str(RECIPES), "cache": str(cache)}, root=ROOT))
    deps = [f"build:{d}" for d in stack.recipe_deps(recipe)]
    run(doit(*deps, f"patch:{recipe}", *variables), work / f"{toolchain}-prepare.log")
    walls, cpus = [], []
    for i in range(n):
        if i:
            run(doit("clean", f"compile:{recipe}", *variables), work / f"{toolchain}-clean-{i}.log")
        wall, cpu = run(doit(f"compile:{recipe}", *variables), work / f"{toolchain}-compile-{i}.log")
        walls.append(wall)
        cpus.append(cpu)
        print(f"  {toolchain}: compile:{recipe} run {i + 1}/{n}: {wall:.1f} s wall, {cpu:.1f} s CPU", flush=True)
    run(doit(f"package:{recipe}", *variables), work / f"{toolchain}-package.log")
    from tasks.glibc_report import channel_floors
    (floor,) = channel_floors(sorted((cache / "channel" / "linux-aarch64").glob(f"{recipe}-*")))
    archive = next((cache / "channel" / "linux-aarch64").glob(f"{recipe}-*"))
    return {"toolchain": toolchain, "wall": walls, "cpu": cpus, "floor": floor.version,
            "declared": ", ".join(floor.declared), "size": archive.stat().st_size}


def bench_zig_first_call(work: Path) -> list[tuple[str, float]]:
    from tasks.settings import load_settings, with_changes
    from tasks.toolchain import warm_zig_cache
    zig_cache = work / "empty-zig-cache"
    settings = with_changes(load_settings({"cache": str(work / "zig-cache-probe")}, root=ROOT),
                            toolchain="zig", zig_cache=zig_cache)
    rows = []
    for label in ("first call (empty cache)", "second call (warm)"):
        times = warm_zig_cache(settings, ("c",))
        rows.append((f"C hello-world, {label}", times["c"]))
        times = warm_zig_cache(settings, ("c++",))
        rows.append((f"C++ hello-world, {label}", times["c++"]))
    size = sum(f.stat().st_size for f in zig_cache.rglob("*") if f.is_file())
    rows.append((f"Zig cache after both: {size / 1e6:.0f} MB", 0.0))
    return rows


def median(values: list[float]) -> str:
    if len(values) == 1:
        return f"{values[0]:.1f}"
    return f"{statistics.median(values):.1f} [{min(values):.1f}-{max(values):.1f}]"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--recipe", default="openssl")
    parser.add_argument("-n", type=int, default=1, help="compile runs per toolchain")
    parser.add_argument("--work", type=Path, default=Path("/tmp/condoit-bench-toolchain"),
                        help="scratch directory (emptied first, kept after)")
    args = parser.parse_args()
    work = args.work.resolve()
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    print(f"fetching sources once into {DOWNLOADS} ...", flush=True)
    run(doit("download", f"cache={DOWNLOADS}"), work / "download.log")
    from tasks.toolchain import tool_version, zig_binary, zig_version
    print(f"machine: {platform.machine()}, {os.cpu_count()} CPUs; zig {zig_version(str(zig_binary()))}; "
          f"{tool_version('aarch64-linux-gnu-gcc')}")
    print("Zig's first call:", flush=True)
    first = bench_zig_first_call(work)
    results = [bench_compile(args.recipe, t, args.n, work) for t in ("zig", "gnu")]

    print(f"\ncompile:{args.recipe} (configure + make + install, seconds; median [min-max] of {args.n})")
    header = ("toolchain", "wall s", "CPU s", "glibc floor", "declared", "package bytes")
    rows = [header] + [(str(r["toolchain"]), median(r["wall"]), median(r["cpu"]), str(r["floor"]),
                        str(r["declared"]), str(r["size"])) for r in results]
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    for row in rows:
        print("  ".join(c.ljust(w) for c, w in zip(row, widths)))
    zig, gnu = (statistics.median(r["wall"]) for r in results)
    print(f"zig / gnu wall time: {zig / gnu:.2f}")
    print("\nZig's first call (seconds; cache under the zig_cache setting, shared by every condoit cache)")
    for label, seconds in first:
        print(f"  {label:45} {seconds:6.1f}" if seconds else f"  {label}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
