"""Reproducible bytes: the whole shipped stack built twice, in two fresh caches at different paths.

    python bench/bench_reproducible.py [--work /tmp/condoit-bench-repro] [--jobs 2] [--compare]

Sources are fetched once by condoit into a scratch download cache kept between runs
(``/tmp/condoit-bench-downloads``, shared with bench_build.py) and seeded into each fresh
cache with ``python -m tasks.import_archives`` (not timed). Then, from the repository root,
each cache gets the command of the README:

    doit -n 2 -P process build cache=WORK/a/cache
    doit -n 2 -P process build cache=WORK/second-cache-at-a-longer-path/x/cache

The two cache paths differ in content and length, so every path of the host prefix, the
work trees and the build prefix differs between the builds. Printed: the wall time of each
build, then one row per package in either channel: its sha256 in each cache and whether
the two are identical; for a package that differs, the members (files inside the
``.conda``) that differ. Both caches are kept under WORK for inspection (``--compare``
prints the table again from them, without building). Exit status 1 when any package
differs or is missing from one cache.
"""
from __future__ import annotations

import argparse
import hashlib
import io
import os
import shutil
import subprocess
import sys
import tarfile
import time
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RECIPES = ROOT / "recipes"
DOWNLOADS = Path("/tmp/condoit-bench-downloads")  # scratch cache kept between runs: fetch once
ENV = {k: v for k, v in os.environ.items() if not k.startswith("CONDOIT_")}


def run(cmd: list[str], log: Path | None = None) -> float:
    """Run ``cmd`` from the repository root; its output goes to ``log``; returns wall seconds."""
    start = time.perf_counter()
    with open(log or os.devnull, "w") as out:
        proc = subprocess.run(cmd, cwd=ROOT, env=ENV, stdout=out, stderr=subprocess.STDOUT)
    if proc.returncode != 0:
        sys.exit(f"failed ({proc.returncode}): {' '.join(cmd)}" + (f"\n  see {log}" if log else ""))
    return time.perf_counter() - start


def doit(*args: str) -> list[str]:
    return [sys.executable, "-m", "doit", *args, f"recipes={RECIPES}"]


def packages(cache: Path) -> dict[str, Path]:
    """subdir/file name -> path of every package in the cache's channel."""
    channel = cache / "channel"
    found = sorted(channel.glob("*/*.conda")) + sorted(channel.glob("*/*.tar.bz2"))
    return {f"{p.parent.name}/{p.name}": p for p in found}


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def members(archive: Path) -> dict[str, bytes]:
    """name -> content (with its tar header fields) of every member of a package."""
    out: dict[str, bytes] = {}

    def read_tar(tar: tarfile.TarFile) -> None:
        for m in tar.getmembers():
            head = f"{m.type!r} {m.mode:o} {m.mtime} {m.uid}:{m.gid} {m.linkname}\n".encode()
            out[m.name] = head + (tar.extractfile(m).read() if m.isfile() else b"")

    if archive.name.endswith(".conda"):
        try:
            from compression import zstd  # type: ignore[import-not-found]
        except ImportError:
            from backports import zstd  # type: ignore[no-redef]
        with zipfile.ZipFile(archive) as zf:
            for component in zf.namelist():
                if component.endswith(".tar.zst"):
                    with tarfile.open(fileobj=io.BytesIO(zstd.decompress(zf.read(component)))) as tar:
                        read_tar(tar)
                else:
                    out[component] = zf.read(component)
    else:
        with tarfile.open(archive) as tar:
            read_tar(tar)
    return out


def differing_members(a: Path, b: Path) -> list[str]:
    ma, mb = members(a), members(b)
    return sorted(k for k in set(ma) | set(mb) if ma.get(k) != mb.get(k))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--work", type=Path, default=Path("/tmp/condoit-bench-repro"),
                        help="scratch directory for the two caches (emptied first, kept after)")
    parser.add_argument("--jobs", type=int, default=2, help="doit -n (parallel recipes)")
    parser.add_argument("--compare", action="store_true", help="only compare the caches a run left in WORK")
    args = parser.parse_args()
    work = args.work.resolve()
    caches = [work / "a" / "cache", work / "second-cache-at-a-longer-path" / "x" / "cache"]
    if not args.compare:
        build_twice(work, caches, args.jobs)
    return compare(caches)


def build_twice(work: Path, caches: list[Path], jobs: int) -> None:
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    print(f"fetching sources once into {DOWNLOADS} ...", flush=True)
    run(doit("download", f"cache={DOWNLOADS}"), work / "download.log")
    times = []
    for i, cache in enumerate(caches):
        cache.mkdir(parents=True)
        run([sys.executable, "-m", "tasks.import_archives", str(DOWNLOADS / "downloads"),
             "--recipes", str(RECIPES), "--cache", str(cache)], work / f"import-{i}.log")
        print(f"building the stack in {cache} ...", flush=True)
        times.append(run(doit("-n", str(jobs), "-P", "process", "build", f"cache={cache}"),
                         work / f"build-{i}.log"))
    print()
    for i, (cache, seconds) in enumerate(zip(caches, times)):
        print(f"build {'AB'[i]}: {seconds:6.1f} s  cache={cache} ({len(str(cache))} characters)")


def compare(caches: list[Path]) -> int:
    """Print the table; 1 if a package differs or is missing from one cache."""
    print()
    for i, cache in enumerate(caches):
        print(f"{'AB'[i]}: {cache}")
    first, second = packages(caches[0]), packages(caches[1])
    rows, bad = [], 0
    for name in sorted(set(first) | set(second)):
        a, b = first.get(name), second.get(name)
        ha, hb = (sha256(a) if a else "(missing)"), (sha256(b) if b else "(missing)")
        same = a is not None and b is not None and ha == hb
        bad += not same
        rows.append((name, ha, hb, "yes" if same else "NO"))
        if a and b and not same:
            rows += [(f"    differs: {m}", "", "", "") for m in differing_members(a, b)]
    width = max(len(r[0]) for r in rows)
    print(f"{'package':<{width}}  {'sha256 in A':<64}  {'sha256 in B':<64}  identical")
    print(f"{'-' * width}  {'-' * 64}  {'-' * 64}  ---------")
    for name, ha, hb, same in rows:
        print(f"{name:<{width}}  {ha:<64}  {hb:<64}  {same}")
    print(f"\n{len(set(first) | set(second)) - bad} of {len(set(first) | set(second))} packages identical")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
