"""Conda package archives: the info/ metadata and reproducible .conda / .tar.bz2 files.

conda-package-handling keeps file times and the clock's time in zip entries, so the same
prefix would give different bytes each time. Here every member has fixed owner, order and
time (the source's SOURCE_DATE_EPOCH), so an unchanged build gives a byte-identical package
and dependents stay up to date.
"""
from __future__ import annotations

import bz2
import hashlib
import io
import json
import os
import stat
import tarfile
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence

from .fsutil import sha256_file
from .paths import entries

# The file name endings of conda packages, in the order clients prefer them.
ARCHIVE_SUFFIXES = (".conda", ".tar.bz2")


@dataclass(frozen=True)
class ArchiveName:
    """``<name>-<version>-<build><suffix>``: what a package's file name says."""

    name: str
    version: str
    build: str
    suffix: str

    @property
    def stem(self) -> str:
        return f"{self.name}-{self.version}-{self.build}"


def parse_archive_name(file_name: str) -> ArchiveName | None:
    """The parts of a package file name, or None for a file that is not a conda package.

    The one place that splits package file names (a name may hold dashes; version and
    build never do).
    """
    for suffix in ARCHIVE_SUFFIXES:
        if file_name.endswith(suffix):
            parts = file_name[: -len(suffix)].rsplit("-", 2)
            if len(parts) == 3 and all(parts):
                return ArchiveName(parts[0], parts[1], parts[2], suffix)
    return None


def package_archives(folder: Path) -> list[Path]:
    """The conda packages in a folder (none if it is missing), by name."""
    return [p for p in entries(folder) if parse_archive_name(p.name) is not None]


def channel_packages(channel: Path) -> list[Path]:
    """Every package in a channel, of every subdir."""
    return [p for subdir in entries(channel) for p in package_archives(subdir)]


def remove_older_builds(channel_dir: Path, name: str, keep: str) -> None:
    """Other files of package ``name`` in a channel subdir than ``keep``: older builds of a
    recipe would compete with the new one in the solver."""
    for path in channel_dir.iterdir():
        parsed = parse_archive_name(path.name)
        if path.name != keep and parsed is not None and parsed.name == name:
            path.unlink()


@dataclass(frozen=True)
class IndexMeta:
    """The fields of info/index.json."""

    name: str
    version: str
    build: str
    build_number: int
    subdir: str
    depends: tuple[str, ...] = ()
    constrains: tuple[str, ...] = ()
    license: str = ""
    license_family: str = ""
    timestamp: int = 0
    noarch: str | None = None
    features: str = ""
    track_features: str = ""

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "name": self.name, "version": self.version, "build": self.build,
            "build_number": self.build_number, "depends": sorted(self.depends),
            "constrains": sorted(self.constrains), "subdir": self.subdir, "timestamp": self.timestamp,
        }
        if self.noarch:
            data.update(noarch=self.noarch, arch=None, platform=None)
        else:
            osname, _, arch = self.subdir.partition("-")
            data.update(platform=osname, arch={"64": "x86_64", "32": "x86"}.get(arch, arch))
        if self.license:
            data["license"] = self.license
        if self.license_family:
            data["license_family"] = self.license_family
        if self.features:
            data["features"] = self.features
        if self.track_features:
            data["track_features"] = self.track_features
        return data

    @property
    def stem(self) -> str:
        return f"{self.name}-{self.version}-{self.build}"


@dataclass(frozen=True)
class PrefixEntry:
    path: str
    placeholder: str
    file_mode: str  # text | binary


def paths_json(root: Path, files: Sequence[str], prefix_entries: Sequence[PrefixEntry],
               no_link: Iterable[str] = ()) -> dict[str, Any]:
    """info/paths.json for the package files under ``root``."""
    by_path = {e.path: e for e in prefix_entries}
    no_link = set(no_link)
    entries = []
    for rel in sorted(files):
        full = root / rel
        entry: dict[str, Any] = {"_path": rel}
        if full.is_symlink():
            entry["path_type"] = "softlink"
            target = full.resolve()
            if target.is_file():
                entry["sha256"], entry["size_in_bytes"] = sha256_file(target), target.stat().st_size
            else:
                entry["sha256"] = hashlib.sha256(os.readlink(full).encode()).hexdigest()
                entry["size_in_bytes"] = 0
        else:
            entry["path_type"] = "hardlink"
            entry["sha256"], entry["size_in_bytes"] = sha256_file(full), full.stat().st_size
        if rel in by_path:
            entry["file_mode"] = by_path[rel].file_mode
            entry["prefix_placeholder"] = by_path[rel].placeholder
        if rel in no_link:
            entry["no_link"] = True
        entries.append(entry)
    return {"paths_version": 1, "paths": entries}


def has_prefix_text(prefix_entries: Sequence[PrefixEntry]) -> str:
    return "".join(f"{e.placeholder} {e.file_mode} {e.path}\n" for e in sorted(prefix_entries, key=lambda e: e.path))


def _dump(data: Any) -> bytes:
    return (json.dumps(data, indent=2, sort_keys=True) + "\n").encode()


def write_info(root: Path, index: IndexMeta, files: Sequence[str], prefix_entries: Sequence[PrefixEntry],
               about: Mapping[str, Any], *, run_exports: Mapping[str, Sequence[str]] | None = None,
               no_link: Iterable[str] = (), hash_input: Mapping[str, Any] | None = None,
               link_json: Mapping[str, Any] | None = None,
               extra_files: Mapping[str, bytes] | None = None) -> list[str]:
    """Write info/ under ``root``; returns the info file list (relative, sorted)."""
    info = root / "info"
    info.mkdir(parents=True, exist_ok=True)
    no_link = sorted(no_link)
    contents: dict[str, bytes] = {
        "index.json": _dump(index.to_json()),
        "files": "".join(f"{f}\n" for f in sorted(files)).encode(),
        "paths.json": _dump(paths_json(root, files, prefix_entries, no_link)),
        "about.json": _dump(dict(about)),
    }
    if prefix_entries:
        contents["has_prefix"] = has_prefix_text(prefix_entries).encode()
    if run_exports:
        contents["run_exports.json"] = _dump({k: list(v) for k, v in run_exports.items() if v})
    if no_link:
        contents["no_link"] = "".join(f"{p}\n" for p in no_link).encode()
    if hash_input is not None:
        contents["hash_input.json"] = _dump(dict(hash_input))
    if link_json:
        contents["link.json"] = _dump(dict(link_json))
    for rel, data in (extra_files or {}).items():
        contents[rel] = data
    written = []
    for rel, data in contents.items():
        target = info / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
        written.append(f"info/{rel}")
    for dirpath, _dirs, names in os.walk(info):
        for name in names:
            rel = os.path.relpath(os.path.join(dirpath, name), root)
            if rel not in written:
                written.append(rel)
    return sorted(written)


def _tar_bytes(root: Path, members: Sequence[str], mtime: int) -> bytes:
    """An uncompressed tar of ``members`` with fixed owner, time and order."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for rel in sorted(members):
            tar.inodes = {}  # hard-linked files are stored as files, as conda expects
            full = root / rel
            info = tar.gettarinfo(str(full), arcname=rel)
            info.uid = info.gid = 0
            info.uname = info.gname = ""
            info.mtime = mtime
            if info.isreg():
                info.mode = 0o755 if (info.mode & 0o111) else 0o644
                with open(full, "rb") as fh:
                    tar.addfile(info, fh)
            else:
                if info.isdir():
                    info.mode = 0o755
                tar.addfile(info)
    return buf.getvalue()


def create_archive(root: Path, pkg_files: Sequence[str], info_files: Sequence[str], out: Path,
                   stem: str, fmt: str, mtime: int, compression_level: int = 16) -> None:
    """Write a package of format ``fmt`` (.conda or .tar.bz2) named ``stem`` to ``out``."""
    if fmt == ".conda":
        try:  # Python 3.14+
            from compression import zstd  # type: ignore[import-not-found]
        except ImportError:  # installed with conda-package-handling
            from backports import zstd  # type: ignore[no-redef]
        with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_STORED) as zf:
            date = (1980, 1, 1, 0, 0, 0)
            zf.writestr(zipfile.ZipInfo("metadata.json", date), json.dumps({"conda_pkg_format_version": 2}))
            for component, members in ((f"pkg-{stem}.tar.zst", pkg_files), (f"info-{stem}.tar.zst", info_files)):
                raw = _tar_bytes(root, members, mtime)
                data = zstd.compress(raw, level=compression_level)
                zi = zipfile.ZipInfo(component, date)
                zi.external_attr = (stat.S_IFREG | 0o644) << 16
                zf.writestr(zi, data)
    elif fmt == ".tar.bz2":
        raw = _tar_bytes(root, list(info_files) + list(pkg_files), mtime)
        out.write_bytes(bz2.compress(raw, 9))
    else:
        raise ValueError(f"unknown package format {fmt!r}: use .conda or .tar.bz2")
