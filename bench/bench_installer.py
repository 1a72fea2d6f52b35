"""The installer's size and install time, beside the sum of the package sizes it holds.

Runs `doit installer` on a cache whose channel already has the construct file's packages
(time of a cold make and of an up-to-date no-op), then installs it with `sh -b -p` into a
scratch prefix (the aarch64 helper under qemu through binfmt here), and prints:

    installer bytes | sum of its .conda packages | make s | no-op s | install s

    python bench/bench_installer.py --cache /tmp/my-cache [--recipes recipes] [-n 3]
"""
from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def doit(recipes: Path, cache: Path, *args: str) -> float:
    started = time.monotonic()
    subprocess.run([sys.executable, "-m", "doit", "-f", str(ROOT / "dodo.py"), "-d", str(ROOT), *args,
                    f"recipes={recipes}", f"cache={cache}"], check=True, capture_output=True)
    return time.monotonic() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cache", type=Path, required=True)
    parser.add_argument("--recipes", type=Path, default=ROOT / "recipes")
    parser.add_argument("-n", type=int, default=3)
    args = parser.parse_args()
    cache, recipes = args.cache.resolve(), args.recipes.resolve()
    doit(recipes, cache, "clean", "installer")
    made = doit(recipes, cache, "installer")
    noop = statistics.median(doit(recipes, cache, "installer") for _ in range(args.n))
    result = json.loads((cache / "stamps" / "@stack" / "installer.json").read_text())["result"]
    installer = cache / "installer" / result["file"]
    sizes = 0
    for dist in result["packages"]:
        found = [p for p in (cache / "channel").glob(f"*/{dist}.*") if p.suffix in (".conda", ".bz2")]
        sizes += found[0].stat().st_size if found else 0
    times = []
    for _ in range(args.n):
        with tempfile.TemporaryDirectory(prefix="bench-installer-") as tmp:
            started = time.monotonic()
            subprocess.run(["sh", str(installer), "-b", "-p", f"{tmp}/prefix"], check=True, capture_output=True,
                           env={"PATH": "/usr/bin:/bin", "QEMU_LD_PREFIX": "/usr/aarch64-linux-gnu"})
            times.append(time.monotonic() - started)
    print(f"{installer.name}: {len(result['packages'])} packages")
    print(f"installer {installer.stat().st_size} bytes | packages (.conda) {sizes} bytes "
          f"({installer.stat().st_size / max(sizes, 1):.2f}x) | make {made:.1f} s | no-op {noop:.2f} s | "
          f"install {statistics.median(times):.2f} s (median of {args.n})")


if __name__ == "__main__":
    main()
