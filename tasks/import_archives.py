"""Seed the download cache from archives copied by hand (machines without internet).

    python -m tasks.import_archives DIR [DIR...] [--recipes RECIPES] [--cache CACHE]

Every file under the directories is hashed; a file enters the cache only where some
recipe's ``source:`` promises exactly that content (sha256, or sha1/md5 when that is all
the recipe gives). Files no recipe asks for are listed and left alone; sources still
missing from the cache are listed at the end.
"""
from __future__ import annotations

import argparse
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

from .fetch.cache import DownloadCache, Expected, HashMismatch
from .fetch.url import archive_name, urls
from .fsutil import hash_file
from .model import Recipe


@dataclass(frozen=True)
class Wanted:
    """One url source of one recipe, and the content it promises."""

    recipe: str
    name: str
    expected: Expected
    urls: tuple[str, ...]

    def matches(self, digests: dict[str, str]) -> bool:
        given = self.expected.given()
        return bool(given) and all(digests[a] == v for a, v in given.items())


@dataclass(frozen=True)
class ImportReport:
    accepted: tuple[tuple[Path, Wanted], ...]
    unwanted: tuple[Path, ...]
    missing: tuple[Wanted, ...]


def wanted_sources(recipes: Iterable[Recipe]) -> list[Wanted]:
    return [Wanted(r.name, archive_name(s), Expected.of(s), urls(s))
            for r in recipes for s in r.sources if s.kind == "url"]


def import_archives(dirs: Iterable[Path], wanted: list[Wanted], cache: DownloadCache) -> ImportReport:
    accepted: list[tuple[Path, Wanted]] = []
    unwanted: list[Path] = []
    algorithms = {a for w in wanted for a in w.expected.given()} | {"sha256"}
    for path in sorted(p for d in dirs for p in Path(d).rglob("*") if p.is_file() and not p.is_symlink()):
        digests = {a: hash_file(path, a) for a in algorithms}
        takers = [w for w in wanted if w.matches(digests)]
        if not takers:
            unwanted.append(path)
            continue
        for want in takers:
            if cache.lookup(want.expected, want.urls) is None:
                partial = cache.partial(str(path))
                shutil.copyfile(path, partial)
                try:
                    cache.admit(partial, want.expected, f"imported from {path}", want.name, want.urls)
                except HashMismatch:  # changed while we copied it
                    continue
            accepted.append((path, want))
    missing = tuple(w for w in wanted if cache.lookup(w.expected, w.urls) is None)
    return ImportReport(tuple(accepted), tuple(unwanted), missing)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tasks.import_archives", description=__doc__.split("\n\n")[0])
    parser.add_argument("dirs", nargs="+", type=Path, help="directories holding source archives")
    parser.add_argument("--recipes", help="recipes root (default: the configured one)")
    parser.add_argument("--cache", help="cache directory (default: the configured one)")
    args = parser.parse_args(argv)

    from .errors import CondoitError
    from .paths import Layout
    from .render.stack_loader import load_stack
    from .settings import load_settings
    try:
        settings = load_settings({k: v for k, v in (("recipes", args.recipes), ("cache", args.cache)) if v})
    except CondoitError as exc:
        print(f"condoit: {exc}", file=sys.stderr)
        return 2
    stack = load_stack(settings)
    report = import_archives(args.dirs, wanted_sources(stack.recipes), DownloadCache(Layout(settings.cache_dir)))
    for path, want in report.accepted:
        print(f"accepted  {path}  ->  {want.recipe}: {want.name}")
    for path in report.unwanted:
        print(f"skipped   {path}  (no recipe's source has this content)")
    for want in report.missing:
        print(f"missing   {want.recipe}: {want.name} ({want.expected.describe()})")
    print(f"{len(report.accepted)} accepted, {len(report.unwanted)} skipped, {len(report.missing)} still missing")
    return 0


if __name__ == "__main__":
    sys.exit(main())
