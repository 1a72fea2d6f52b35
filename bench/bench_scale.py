"""Scale of the engine itself: generated layered stacks of tiny recipes, 10 to 5000.

Each generated recipe builds in a few milliseconds of shell (one text file, noarch) and
needs two recipes of the layer below it as ``host`` requirements, so the graph is layered
like a real stack. For each size the bench times, as whole ``doit`` processes:

- ``doit list`` and ``doit list --all`` (render and wire the stack: the fixed cost of every call),
- a cold ``doit -n 2 -P process build`` (up to ``--build-max`` recipes: beyond that the
  build alone takes longer than the bench is worth),
- a no-op ``doit build`` (every stamp checked),
- an ``about:`` edit of one recipe in the middle layer (early cutoff: its package, index
  and test stages run, nothing downstream), and
- a build.sh edit of the same recipe (its package content changes: its dependents rebuild).

and prints one table (seconds, stages that ran) and writes a chart of cost against the
number of recipes (log-log, with a line of slope 1 for linear growth) as a PNG.

    python bench/bench_scale.py                          # 10, 100, 1000; list for 5000
    python bench/bench_scale.py --sizes 10,100 --png /tmp/scale.png
"""
from __future__ import annotations

import argparse
import math
import resource
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_noop import ENV  # noqa: E402  (the environment every bench runs doit in)

ROOT = Path(__file__).resolve().parent.parent

META = """package:
  name: {name}
  version: "1.0"
build:
  noarch: generic
requirements:
  host:
{host}
about:
  summary: generated recipe {name}
"""
BUILD = "mkdir -p $PREFIX/share\necho {marker} $PKG_NAME > $PREFIX/share/$PKG_NAME.txt\n"


def layers(count: int) -> list[list[str]]:
    """Recipe names in layers of about sqrt(count) recipes each."""
    width = max(1, round(math.sqrt(count)))
    names = [f"r{i:05d}" for i in range(count)]
    return [names[i:i + width] for i in range(0, count, width)]


def generate(root: Path, count: int) -> str:
    """Write the stack; return the name of the recipe the edits touch (middle layer)."""
    stack = layers(count)
    for depth, layer in enumerate(stack):
        below = stack[depth - 1] if depth else []
        for i, name in enumerate(layer):
            deps = sorted({below[i % len(below)], below[(i + 1) % len(below)]}) if below else []
            host = "\n".join(f"    - {d}" for d in deps) or "    []"
            d = root / name
            d.mkdir(parents=True)
            (d / "meta.yaml").write_text(META.format(name=name, host=host).replace("  host:\n    []", "  host: []"))
            (d / "build.sh").write_text(BUILD.format(marker="v1"))
    middle = stack[len(stack) // 2]
    return middle[len(middle) // 2]


@dataclass
class Row:
    size: int
    figures: dict[str, tuple[float, float, int]] = field(default_factory=dict)   # what -> (wall, cpu, ran)


def doit(root: Path, cache: Path, *args: str) -> list[str]:
    return [sys.executable, "-m", "doit", "-f", str(ROOT / "dodo.py"), "-d", str(ROOT), *args,
            f"recipes={root}", f"cache={cache}"]


def measure(command: list[str]) -> tuple[float, float, int]:
    """(wall, CPU, tasks run) of one whole process of ``command``, its output parsed."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    proc = subprocess.run(command, capture_output=True, text=True, env=ENV)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0:
        sys.exit(f"failed: {' '.join(command[-4:])}\n{proc.stdout[-1500:]}\n{proc.stderr[-1500:]}")
    ran = sum(1 for line in proc.stdout.splitlines() if line.startswith(". "))
    return wall, after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime, ran


def bench_size(size: int, build_max: int, tmp: Path) -> Row:
    root, cache = tmp / f"stack{size}", tmp / f"cache{size}"
    edited = generate(root, size)
    row = Row(size)
    print(f"{size} recipes ...", flush=True)
    row.figures["doit list"] = measure(doit(root, cache, "list"))
    row.figures["doit list --all"] = measure(doit(root, cache, "list", "--all"))
    if size > build_max:
        return row
    row.figures["cold build -n 2"] = measure(doit(root, cache, "-n", "2", "-P", "process", "build"))
    row.figures["no-op build"] = measure(doit(root, cache, "build"))
    meta = root / edited / "meta.yaml"
    meta.write_text(meta.read_text().replace("summary: generated", "summary: edited"))
    row.figures["about: edit, one recipe"] = measure(doit(root, cache, "build"))
    script = root / edited / "build.sh"
    script.write_text(BUILD.format(marker="v2"))
    row.figures["build.sh edit, one recipe"] = measure(doit(root, cache, "-n", "2", "-P", "process", "build"))
    return row


def table(rows: list[Row]) -> str:
    whats = list(dict.fromkeys(w for r in rows for w in r.figures))
    lines = [f"{'scenario':<28}" + "".join(f"{r.size:>22}" for r in rows),
             f"{'':<28}" + "".join(f"{'wall / cpu s (ran)':>22}" for _ in rows)]
    for what in whats:
        cells = []
        for r in rows:
            if what in r.figures:
                wall, cpu, ran = r.figures[what]
                cells.append(f"{wall:8.2f} /{cpu:7.2f} ({ran})")
            else:
                cells.append("not run")
        lines.append(f"{what:<28}" + "".join(f"{c:>22}" for c in cells))
    return "\n".join(lines)


def chart(rows: list[Row], png: Path) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(8, 5))
    whats = list(dict.fromkeys(w for r in rows for w in r.figures if "edit" not in w))
    for what in whats:
        pts = [(r.size, r.figures[what][1]) for r in rows if what in r.figures]
        ax.plot([p[0] for p in pts], [p[1] for p in pts], marker="o", label=f"{what} (CPU s)")
    if rows:
        first = rows[0]
        base = first.figures.get("doit list --all", (0, 1, 0))[1]
        xs = [r.size for r in rows]
        ax.plot(xs, [base * x / first.size for x in xs], linestyle=":", color="grey",
                label="linear growth from the smallest stack")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("recipes in the stack")
    ax.set_ylabel("CPU seconds of the whole doit process")
    ax.set_title("condoit: engine cost against stack size")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(png, dpi=110)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10,100,1000,5000", help="comma-separated stack sizes")
    parser.add_argument("--build-max", type=int, default=1000,
                        help="build (and time builds of) stacks up to this size; larger ones: list only")
    parser.add_argument("--png", type=Path, default=Path("/tmp/condoit-bench-scale.png"))
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",") if s]
    with tempfile.TemporaryDirectory(prefix="bench-scale-") as tmp:
        rows = [bench_size(size, args.build_max, Path(tmp)) for size in sizes]
    print(table(rows))
    chart(rows, args.png)
    print(f"chart: {args.png}")


if __name__ == "__main__":
    main()
