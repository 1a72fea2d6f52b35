"""One shared-cache entry: a stage's result under its signature, and the files it vouches for.

The manifest (JSON) holds the stage, the signature, the result in its portable form
(``$CACHE``... instead of this cache's paths) and every file as (path relative to the
cache, sha256, size, mode) or a symbolic link; the contents are blobs named by sha256.
Restoring verifies each file's digest while writing it beside its final place, and moves
the outputs in only when all of them are verified: a tampered or truncated entry is
refused whole and leaves nothing behind.
"""
from __future__ import annotations

import json
import os
import shutil
import stat
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

from ..fsutil import remove_tree, sha256_file
from .store import Store

ENTRY_FORMAT = 1


class Refused(Exception):
    """The entry exists but cannot be trusted (a digest differs, a path escapes the cache)."""


@dataclass(frozen=True)
class SharedFile:
    path: str               # relative to the cache directory
    sha256: str = ""
    size: int = 0
    mode: int = 0o644
    link: str = ""          # a symbolic link's target (then no content)


@dataclass(frozen=True)
class Entry:
    stage: str
    signature: str
    result: dict[str, Any]              # portable JSON form of the stage's result
    outputs: tuple[str, ...]            # top-level paths (relative to the cache) it restores
    files: tuple[SharedFile, ...]
    record_only: bool = False           # the result without its files (they stay where they were made)

    def to_bytes(self) -> bytes:
        data = {"format": ENTRY_FORMAT, "stage": self.stage, "signature": self.signature, "result": self.result,
                "outputs": list(self.outputs), "record_only": self.record_only,
                "files": [{k: v for k, v in vars(f).items() if v not in ("", None)} for f in self.files]}
        return json.dumps(data, sort_keys=True, indent=1).encode()

    @classmethod
    def from_bytes(cls, blob: bytes) -> "Entry":
        try:
            data = json.loads(blob)
            if data.get("format") != ENTRY_FORMAT:
                raise Refused(f"entry format {data.get('format')!r} (this condoit reads {ENTRY_FORMAT})")
            return cls(str(data["stage"]), str(data["signature"]), dict(data["result"]),
                       tuple(map(str, data["outputs"])), tuple(SharedFile(**f) for f in data["files"]),
                       bool(data.get("record_only")))
        except (ValueError, KeyError, TypeError) as exc:
            raise Refused(f"unreadable manifest ({exc})") from None

    @property
    def size(self) -> int:
        return sum(f.size for f in self.files)


def entry_key(stage: str, sig: str) -> str:
    return f"entries/{stage}/{sig}.json"


def blob_key(sha256: str) -> str:
    return f"blobs/{sha256[:2]}/{sha256}"


def scan(cache: Path, outputs: list[Path]) -> tuple[tuple[str, ...], tuple[SharedFile, ...], dict[str, Path]]:
    """(outputs, files, sha256 -> local file) of ``outputs`` (files or trees inside ``cache``)."""
    rels, files, blobs = [], [], {}
    for out in outputs:
        rels.append(os.path.relpath(out, cache))
        for path in _walk(Path(out)):
            rel = os.path.relpath(path, cache)
            st = path.lstat()
            if stat.S_ISLNK(st.st_mode):
                files.append(SharedFile(rel, link=os.readlink(path)))
                continue
            digest = sha256_file(path)
            blobs[digest] = path
            files.append(SharedFile(rel, digest, st.st_size, st.st_mode & 0o777))
    return tuple(rels), tuple(files), blobs


def _walk(path: Path) -> Iterator[Path]:
    if path.is_dir() and not path.is_symlink():
        for root, dirs, names in os.walk(path):
            dirs.sort()
            for name in sorted(names) + [d for d in dirs if os.path.islink(os.path.join(root, d))]:
                yield Path(root) / name
    else:
        yield path


def publish(store: Store, entry: Entry, blobs: dict[str, Path]) -> bool:
    """Every blob first, the manifest last (create-if-absent). False: an entry existed already."""
    for digest, path in sorted(blobs.items()):
        store.upload(blob_key(digest), path)
    return store.create(entry_key(entry.stage, entry.signature), entry.to_bytes())


def restore(store: Store, entry: Entry, cache: Path, staging: Path) -> None:
    """Fetch and verify every file into ``staging`` (inside ``cache``: same filesystem), then
    move the outputs into place. Raises ``Refused`` for a bad entry, StoreError when the store fails."""
    cache = cache.resolve()
    for rel in entry.outputs + tuple(f.path for f in entry.files):
        if os.path.isabs(rel) or cache not in Path(os.path.normpath(cache / rel)).parents:
            raise Refused(f"path {rel!r} leaves the cache")
    staging.mkdir(parents=True, exist_ok=True)
    room = Path(tempfile.mkdtemp(dir=staging, prefix="restore-"))
    try:
        for f in entry.files:
            dest = room / f.path
            dest.parent.mkdir(parents=True, exist_ok=True)
            if f.link:
                os.symlink(f.link, dest)
                continue
            if not store.download(blob_key(f.sha256), dest):
                raise Refused(f"{f.path}: its content (blob {f.sha256[:12]}...) is missing")
            found = sha256_file(dest)
            if found != f.sha256 or dest.stat().st_size != f.size:
                raise Refused(f"{f.path}: sha256 {found[:12]}... instead of {f.sha256[:12]}... (corrupted or tampered)")
            os.chmod(dest, f.mode)
        for rel in entry.outputs:
            source, target = room / rel, cache / rel
            if not (source.exists() or source.is_symlink()):
                source.mkdir(parents=True)     # an output that is an empty tree
            target.parent.mkdir(parents=True, exist_ok=True)
            remove_tree(target)
            os.replace(source, target)
    finally:
        shutil.rmtree(room, ignore_errors=True)
