"""Benchmark of the task-loading path: render a generated stack and list its tasks.

Generates N recipes (jinja variables, selectors, compiler(), pin_subpackage, a chain of
dependencies, a variants file; and what conda-build reads leniently: jinja in comment lines
and on lines a false selector drops, every tenth recipe nested deeper than the two standard
layouts and with a duplicate key, an extra variant file given as ``variants=FILE``) in a
temporary directory, then prints a table of: in-process ``load_stack`` time (first call and
best of several), and the wall time of ``doit -f <dodo> recipes=<tmp> cache=<tmpcache> list``
and ``list --all`` in a subprocess.

    python bench/bench_render.py [-n 100] [--dodo /work/main/dodo.py] [--repeat 5]
"""
from __future__ import annotations

import argparse
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

RECIPE = """\
{{% set name = "pkg{i:03d}" %}}
{{% set version = "1.{i}.0" %}}

# generated; the old way was {{{{ load_setup_py_data()['version'] | no_such_filter }}}}
package:
  name: {{{{ name|lower }}}}
  version: {{{{ version }}}}

source:
  url: https://example.invalid/{{{{ name }}}}-{{{{ version }}}}.tar.gz
  sha256: {sha}
  patches:
    - fix.patch   # [linux]

build:
  number: {i}
  skip: true  # [win]
  script: {{{{ only_defined_on_windows }}}}  # [win]
  run_exports:
    - {{{{ pin_subpackage(name, max_pin='x.x') }}}}

requirements:
  build:
    - {{{{ compiler('c') }}}}
    - make        # [unix]
    - cmake       # [win]
  host:
{deps}
    - zlib {{{{ zlib }}}}
  run:
    - python >=3.8   # [py3k]

test:
  commands:
    - test -f $PREFIX/lib/lib{{{{ name }}}}.so   # [linux]

about:
  home: https://example.invalid/{{{{ name }}}}
  license: MIT
  summary: generated recipe {i}
{dup}"""


def generate(root: Path, count: int) -> None:
    root.mkdir(parents=True, exist_ok=True)
    (root / "conda_build_config.yaml").write_text("zlib:\n  - 1.2\npython:\n  - 3.11\n")
    (root.parent / "extra_variants.yaml").write_text("zlib:\n  - 1.2\nzlib:\n  - 1.3\n")
    for i in range(count):
        nested = i % 10 == 9                    # deeper than recipes/<dir>/, a duplicate key
        d = root / f"group{i % 7}" / "sub" / f"pkg{i:03d}" if nested else root / f"pkg{i:03d}"
        d.mkdir(parents=True)
        deps = [f"pkg{j:03d}" for j in (i - 1, i // 2, i // 3) if 0 <= j < i]
        deps_text = "\n".join(f"    - {d}" for d in dict.fromkeys(deps)) or "    - make"
        dup = "  summary: duplicate key, the last one wins\n" if nested else ""
        (d / "meta.yaml").write_text(RECIPE.format(i=i, sha="0" * 64, deps=deps_text, dup=dup))
        (d / "fix.patch").write_text("")
        (d / "build.sh").write_text("make install\n")


def time_load(root: Path, cache: Path, repeat: int) -> tuple[float, float, int, int]:
    sys.path.insert(0, str(ROOT))
    from tasks.render.stack_loader import load_stack
    from tasks.settings import load_settings
    settings = load_settings({"recipes": str(root), "cache": str(cache),
                              "variants": str(root.parent / "extra_variants.yaml")}, root=ROOT)
    t0 = time.perf_counter()
    stack = load_stack(settings)
    first = time.perf_counter() - t0
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        load_stack(settings)
        times.append(time.perf_counter() - t0)
    return first, min(times), len(stack.recipes), len(stack.problems), len(getattr(stack, "warnings", ()))


def time_doit(dodo: Path, root: Path, cache: Path, args: list[str], repeat: int) -> tuple[float, int, str]:
    """Median wall time, output lines, and a note: median CPU time (user+sys, what the wall
    time is on an idle machine: the cores are shared), and the error of a failed run."""
    cmd = ["doit", "-f", str(dodo), f"recipes={root}", f"cache={cache}",
           f"variants={root.parent / 'extra_variants.yaml'}", *args]
    times, cpus, lines, err = [], [], 0, ""
    for _ in range(repeat):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        t0 = time.perf_counter()
        proc = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT)
        times.append(time.perf_counter() - t0)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpus.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
        lines = len(proc.stdout.splitlines())
        err = proc.stderr.strip().splitlines()[-1] if proc.returncode else ""
    return statistics.median(times), lines, f"cpu {statistics.median(cpus):.3f} s" + (f"; FAILED: {err}" if err else "")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=100, help="number of recipes")
    parser.add_argument("--dodo", type=Path, default=ROOT / "dodo.py")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-render-") as tmp:
        root, cache = Path(tmp) / "recipes", Path(tmp) / "cache"
        generate(root, args.n)
        first, best, count, problems, warnings = time_load(root, cache, args.repeat)
        rows = [("load_stack (first call: compiles templates)", first,
                 f"{count} recipes, {problems} problems, {warnings} warnings"),
                (f"load_stack (template cache warm, best of {args.repeat})", best, f"{best / max(count, 1) * 1000:.2f} ms/recipe")]
        import shutil
        shutil.rmtree(cache / "render", ignore_errors=True)
        wall, lines, note = time_doit(args.dodo, root, cache, ["list", "--all"], 1)
        rows.append(("doit list --all (wall, cold template cache)", wall, f"{lines} lines, {note}"))
        for extra in (["list"], ["list", "--all"]):
            wall, lines, note = time_doit(args.dodo, root, cache, extra, args.repeat)
            rows.append((f"doit {' '.join(extra)} (wall, median of {args.repeat})", wall, f"{lines} lines, {note}"))
    width = max(len(r[0]) for r in rows)
    print(f"{'what'.ljust(width)}  {'seconds':>8}  notes")
    print(f"{'-' * width}  {'-' * 8}  -----")
    for what, secs, note in rows:
        print(f"{what.ljust(width)}  {secs:8.3f}  {note}")


if __name__ == "__main__":
    main()
