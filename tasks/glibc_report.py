"""The glibc floor of every package in a channel: the newest GLIBC_ symbol version its ELF files need.

    python -m tasks.glibc_report [CHANNEL_SUBDIR_OR_ARCHIVE ...] [--max 2.17]

reads the packages themselves (``.conda`` or ``.tar.bz2``), not the build's logs, so it checks
what users install. Without arguments: ``cache/channel/<target>`` of the current settings.
Prints one line per package (its floor, the file and symbol that set it, its declared
``__glibc`` requirement) and exits with status 1 when a floor is above ``--max``.
"""
from __future__ import annotations

import argparse
import io
import json
import sys
import tarfile
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

from .condapkg import package_archives
from .relocate.elf import ELF_MAGIC, GlibcFloor, describe, parse, version_key


@dataclass(frozen=True)
class PackageFloor:
    archive: str
    elf_files: int
    floor: GlibcFloor | None            # the newest over all ELF files
    file: str                           # the file that needs it
    declared: tuple[str, ...]           # the package's __glibc run requirements

    @property
    def version(self) -> str:
        return self.floor.version if self.floor else "-"


def _members(archive: Path):
    """(name, bytes) of every regular file in the package, info/ included."""
    def from_tar(tar: tarfile.TarFile):
        for member in tar:
            if member.isfile():
                yield member.name, tar.extractfile(member).read()
    if archive.name.endswith(".tar.bz2"):
        with tarfile.open(archive, "r:bz2") as tar:
            yield from from_tar(tar)
        return
    try:  # Python 3.14+
        from compression import zstd  # type: ignore[import-not-found]
    except ImportError:
        from backports import zstd  # type: ignore[no-redef]
    with zipfile.ZipFile(archive) as zf:
        for name in zf.namelist():
            if name.endswith(".tar.zst"):
                data = zstd.decompress(zf.read(name))
                with tarfile.open(fileobj=io.BytesIO(data)) as tar:
                    yield from from_tar(tar)


def package_floor(archive: Path) -> PackageFloor:
    best: GlibcFloor | None = None
    best_file = ""
    count = 0
    declared: tuple[str, ...] = ()
    with tempfile.TemporaryDirectory(prefix="condoit-glibc-") as tmp:
        scratch = Path(tmp) / "elf"
        for name, data in _members(archive):
            if name == "info/index.json":
                depends = json.loads(data).get("depends", [])
                declared = tuple(d for d in depends if d.split()[0] == "__glibc")
                continue
            if not data.startswith(ELF_MAGIC):
                continue
            scratch.write_bytes(data)
            binary = parse(scratch)
            if binary is None:
                continue
            count += 1
            floor = describe(binary).glibc
            if floor is not None and (best is None or floor.key > best.key):
                best, best_file = floor, name
    return PackageFloor(archive.name, count, best, best_file, declared)


def channel_floors(paths: list[Path]) -> list[PackageFloor]:
    archives: list[Path] = []
    for path in paths:
        if path.is_dir():
            archives += package_archives(path)
        else:
            archives.append(path)
    return [package_floor(a) for a in archives]


def table(floors: list[PackageFloor]) -> str:
    rows = [("package", "ELF files", "glibc floor", "set by", "declared")]
    for f in floors:
        by = f"{f.file} ({f.floor.symbol}@GLIBC_{f.floor.version})" if f.floor else "-"
        rows.append((f.archive, str(f.elf_files), f.version, by, ", ".join(f.declared) or "-"))
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return "\n".join("  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tasks.glibc_report", description=__doc__.splitlines()[0])
    parser.add_argument("paths", nargs="*", type=Path, help="channel subdirs or package archives")
    parser.add_argument("--max", default="", help="fail (status 1) when a package needs a newer glibc")
    args = parser.parse_args(argv)
    paths = args.paths
    if not paths:
        from .paths import Layout
        from .settings import load_settings
        settings = load_settings()
        paths = [Layout.of(settings).channel_subdir(settings.target_platform)]
    missing = [str(p) for p in paths if not p.exists()]
    if missing:
        print(f"glibc_report: not found: {', '.join(missing)} (give channel subdirs or package archives)",
              file=sys.stderr)
        return 2
    floors = channel_floors(paths)
    print(table(floors))
    above = [f for f in floors if args.max and f.floor and f.floor.key > version_key(args.max)]
    for f in above:
        print(f"{f.archive}: {f.file} needs glibc {f.version}, newer than {args.max}", file=sys.stderr)
    return 1 if above else 0


if __name__ == "__main__":
    sys.exit(main())
