"""Atomic file and directory writes: a half-written result is never taken for a result."""
from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import stat
import tempfile
from pathlib import Path
from typing import Any, Iterable, Iterator

CHUNK = 1 << 20


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(CHUNK), b""):
            h.update(block)
    return h.hexdigest()


def hash_file(path: Path, algorithm: str) -> str:
    h = hashlib.new(algorithm)
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(CHUNK), b""):
            h.update(block)
    return h.hexdigest()


def tree_digest(root: Path, ignore: tuple[str, ...] = ()) -> str:
    """Digest of a directory tree: relative paths, file modes, symlink targets and contents."""
    h = hashlib.sha256()
    root = Path(root)
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if d not in ignore)
        rel_dir = os.path.relpath(dirpath, root)
        entries = sorted(filenames) + [d for d in dirnames if os.path.islink(os.path.join(dirpath, d))]
        h.update(f"D {rel_dir}\n".encode())
        for name in sorted(entries):
            if name in ignore:
                continue
            full = os.path.join(dirpath, name)
            rel = os.path.normpath(os.path.join(rel_dir, name))
            st = os.lstat(full)
            if os.path.islink(full):
                h.update(f"L {rel} {os.readlink(full)}\n".encode())
            else:
                h.update(f"F {rel} {st.st_mode & 0o111:o} {sha256_file(Path(full))}\n".encode())
    return h.hexdigest()


def stat_fingerprint(paths: Iterable[Path]) -> str:
    """Digest of the names, kinds, sizes, modes and mtimes of files under ``paths`` (no reads).

    Cheap enough for every up-to-date check: it notices a deleted, added, truncated or
    rewritten file of a finished result without reading its content.
    """
    h = hashlib.sha256()

    def visit(path: str, rel: str) -> None:
        try:
            st = os.lstat(path)
        except OSError:
            h.update(f"? {rel}\n".encode())
            return
        if stat.S_ISDIR(st.st_mode):
            h.update(f"D {rel}\n".encode())
            with os.scandir(path) as it:
                names = sorted(e.name for e in it)
            for name in names:
                visit(os.path.join(path, name), f"{rel}/{name}")
        elif stat.S_ISLNK(st.st_mode):
            h.update(f"L {rel} {os.readlink(path)}\n".encode())
        else:
            h.update(f"F {rel} {st.st_size} {st.st_mtime_ns} {st.st_mode & 0o7777:o}\n".encode())

    for path in sorted(str(p) for p in paths):
        visit(path, path)
    return h.hexdigest()


def write_bytes_atomic(path: Path, data: bytes) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".part")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def write_text_atomic(path: Path, text: str) -> None:
    write_bytes_atomic(path, text.encode("utf-8"))


def write_json_atomic(path: Path, data: Any) -> None:
    write_text_atomic(path, json.dumps(data, indent=2, sort_keys=True) + "\n")


def remove_tree(path: Path) -> None:
    """Remove a file, link or directory tree if it exists (read-only files too)."""
    path = Path(path)
    if path.is_symlink() or path.is_file():
        path.unlink()
    elif path.exists():
        def _onerror(func, p, _exc):  # make read-only entries removable
            os.chmod(p, 0o700)
            func(p)
        shutil.rmtree(path, onerror=_onerror)


def failed_dir(target: Path) -> Path:
    """Where ``staged_dir`` keeps the tree of a failed attempt at ``target``."""
    return Path(target).with_name(f"{Path(target).name}.failed")


@contextlib.contextmanager
def staged_dir(target: Path) -> Iterator[Path]:
    """Yield a fresh staging directory beside ``target``; on success it replaces ``target``.

    On failure the staging directory is kept (renamed ``<target>.failed``) for debugging and
    ``target`` is left as it was.
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = target.with_name(f".{target.name}.staging")
    failed = failed_dir(target)
    remove_tree(staging)
    staging.mkdir()
    try:
        yield staging
    except BaseException:
        remove_tree(failed)
        if staging.exists():
            os.replace(staging, failed)
        raise
    old = target.with_name(f".{target.name}.old")
    remove_tree(old)
    if target.exists() or target.is_symlink():
        os.replace(target, old)
    os.replace(staging, target)
    remove_tree(old)
    remove_tree(failed)
