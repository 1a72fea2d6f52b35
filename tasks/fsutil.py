"""Files: the one sha256 and tree digest, atomic writes (a half-written result is never taken
for a result), stat fingerprints."""
from __future__ import annotations

import contextlib
import errno
import hashlib
import json
import os
import shutil
import stat
import tempfile
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, Sequence

CHUNK = 1 << 20


def hash_file(path: Path, algorithm: str = "sha256", without: Sequence[bytes] = ()) -> str:
    """Hex digest of a file's bytes (streamed). ``without``: strings replaced by ``$PREFIX``
    before hashing (a file that names its own prefix hashes the same wherever it is)."""
    h = hashlib.new(algorithm)
    needles = sorted((n for n in without if n), key=len, reverse=True)
    keep = max((len(n) for n in needles), default=1) - 1   # a needle cut by a chunk border waits
    carry = b""
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(CHUNK), b""):
            if not needles:
                h.update(block)
                continue
            data = _replace(carry + block, needles)
            carry = data[len(data) - keep:] if len(data) > keep else data
            h.update(data[:len(data) - len(carry)])
    h.update(carry)
    return h.hexdigest()


def sha256_file(path: Path, without: Sequence[bytes] = ()) -> str:
    """The one sha256 of a file (see ``hash_file``)."""
    return hash_file(path, "sha256", without)


def _replace(data: bytes, needles: Sequence[bytes]) -> bytes:
    for needle in needles:
        data = data.replace(needle, b"$PREFIX")
    return data


def tree_digest(root: Path, ignore: tuple[str, ...] = (), *, files: Iterable[str] | None = None,
                relocatable: bool = False) -> str:
    """Digest of the content of a tree: relative paths, executable bits (what a package keeps
    of a mode), symlink targets and file bytes.

    ``files``: only these (paths relative to ``root``); by default every entry, directories
    (empty ones too) included, less the names in ``ignore``. ``relocatable``: ``root``
    itself, wherever a file or a link target names it, counts as ``$PREFIX``, so the same
    build in another cache's prefix has the same digest.
    """
    root = Path(root)
    spellings = {str(root).rstrip("/"), os.path.realpath(root).rstrip("/")} if relocatable else set()
    needles = sorted((s.encode() for s in spellings if len(s) > 1), key=len, reverse=True)
    h = hashlib.sha256()
    top = str(root)

    def entry(rel: str) -> None:
        # strings and one lstat per entry: every cold build digests whole source trees
        full = os.path.join(top, rel)
        st = os.lstat(full)
        if stat.S_ISLNK(st.st_mode):
            h.update(f"L {rel} ".encode() + _replace(os.readlink(full).encode(), needles) + b"\n")
            return
        if needles:
            digest = sha256_file(full, needles)
        else:
            with open(full, "rb") as fh:
                digest = hashlib.file_digest(fh, "sha256").hexdigest()
        h.update(f"F {rel} {st.st_mode & 0o111:o} {digest}\n".encode())

    if files is not None:
        for rel in sorted(files):
            entry(rel)
        return h.hexdigest()
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if d not in ignore)
        rel_dir = os.path.relpath(dirpath, root)
        h.update(f"D {rel_dir}\n".encode())
        links = [d for d in dirnames if os.path.islink(os.path.join(dirpath, d))]
        for name in sorted(n for n in filenames + links if n not in ignore):
            entry(os.path.normpath(os.path.join(rel_dir, name)))
    return h.hexdigest()


def stat_fingerprint(paths: Iterable[Path | str]) -> str:
    """Digest of what ``stat`` says about ``paths`` (no file is read), for up-to-date checks.

    A file listed itself counts by size, mode and mtime: a truncated, rewritten or deleted
    file is noticed. A directory counts by the mtime and number of entries of every
    directory under it, which notices any file added, deleted or renamed in the tree
    without a ``stat`` per file (a patched OpenSSL tree has 4,000 files; every no-op run
    checks it), but not a file edited in place.
    """
    h = hashlib.sha256()

    def tree(path: str, rel: str, st: os.stat_result) -> None:
        with os.scandir(path) as it:
            entries = list(it)
        h.update(f"D {rel} {st.st_mtime_ns} {len(entries)}\n".encode())
        for entry in sorted(e.name for e in entries if e.is_dir(follow_symlinks=False)):
            full = os.path.join(path, entry)
            tree(full, f"{rel}/{entry}", os.lstat(full))

    files = []
    for path in sorted(map(str, paths)):
        try:
            st = os.lstat(path)
        except OSError:
            files.append(f"? {path}")
            continue
        if stat.S_ISDIR(st.st_mode):
            tree(path, path, st)
        elif stat.S_ISLNK(st.st_mode):
            files.append(f"L {path} {os.readlink(path)}")
        else:
            files.append(f"F {path} {st.st_size} {st.st_mtime_ns} {st.st_mode & 0o7777:o}")
    h.update("\n".join(files).encode())
    return h.hexdigest()


def file_version(path: Path | str) -> tuple[int, int, int, int] | None:
    """What tells a file is still the one seen before, without reading it: (mtime_ns, size,
    inode, ctime_ns), or None when it is missing. An atomic rewrite (a new file renamed in)
    has a new inode, an edit in place a new ctime, even within one tick of the clock."""
    try:
        st = os.stat(path)
    except OSError:
        return None
    return st.st_mtime_ns, st.st_size, st.st_ino, st.st_ctime_ns


@contextlib.contextmanager
def atomic_file(path: Path, staging: Path | None = None) -> Iterator[Path]:
    """Yield a temporary path to write ``path``'s new content to; on success it is renamed
    over ``path`` (atomic), on failure removed. ``staging``: where the temporary file lives
    (default: beside ``path``; it must be on the same filesystem)."""
    path = Path(path)
    room = Path(staging) if staging is not None else path.parent
    room.mkdir(parents=True, exist_ok=True)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=room, prefix=f".{path.name}.", suffix=".part")
    os.close(fd)
    try:
        yield Path(tmp)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def write_bytes_atomic(path: Path, data: bytes, mode: int | None = None) -> None:
    """``mode``: the file's permission bits (default: the temporary file's, 0600)."""
    with atomic_file(path) as tmp:
        with open(tmp, "wb") as fh:
            fh.write(data)
            fh.flush()
            if mode is not None:
                os.fchmod(fh.fileno(), mode)
            os.fsync(fh.fileno())


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


def size_text(n: float) -> str:
    """A byte count as people read it: 512 B, 3.4 MiB."""
    for unit in ("B", "KiB", "MiB", "GiB"):
        if n < 1024 or unit == "GiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return str(n)


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


def file_digests(path: Path) -> tuple[str, str, int]:
    """(sha256, md5, size) of a file in one read: what a repodata record lists of a package."""
    sha, md5, size = hashlib.sha256(), hashlib.md5(), 0
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(CHUNK), b""):
            sha.update(block)
            md5.update(block)
            size += len(block)
    return sha.hexdigest(), md5.hexdigest(), size


def copy_file(src: str | Path, dst: str | Path, st: os.stat_result | None = None) -> None:
    """Copy a regular file's bytes, permission bits and times (``dst`` must not exist).

    What ``shutil.copy2`` keeps of a source or prefix file, in fewer system calls (no
    extended attributes or flags: work trees and prefixes hold none): copying the work trees
    was a large part of a cold build's own CPU. ``st``: the source's stat, when known.
    """
    st = st or os.stat(src)
    fin = os.open(src, os.O_RDONLY | os.O_CLOEXEC)
    try:
        fout = os.open(dst, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
        try:
            left = st.st_size
            while left > 0:
                done = os.sendfile(fout, fin, None, left)     # in the kernel, any two files
                if done == 0:       # the file shrank meanwhile
                    break
                left -= done
            os.fchmod(fout, stat.S_IMODE(st.st_mode))
        finally:
            os.close(fout)
    finally:
        os.close(fin)
    os.utime(dst, ns=(st.st_atime_ns, st.st_mtime_ns))


def copy_tree(src: str | Path, dst: str | Path,
              place_file: Callable[[str, str, os.stat_result], None] = copy_file) -> None:
    """Copy a tree: files (bytes, permission bits, times), symlinks as symlinks, directories
    with their modes and times; ``dst`` may exist (its entries must not). File times matter
    to builds (make compares them), so they are kept, as ``shutil.copytree`` does.
    ``place_file(src, dst, stat)`` puts each regular file (``link_tree``: a hard link)."""
    os.makedirs(dst, exist_ok=True)
    with os.scandir(src) as it:
        entries = list(it)
    for entry in entries:
        target = os.path.join(dst, entry.name)
        if entry.is_symlink():
            os.symlink(os.readlink(entry.path), target)
        elif entry.is_dir():
            copy_tree(entry.path, target, place_file)
        elif entry.is_file():
            place_file(entry.path, target, entry.stat())
        else:
            raise OSError(f"{entry.path}: neither a file, a directory nor a symlink (not copied)")
    st = os.stat(src)
    os.chmod(dst, stat.S_IMODE(st.st_mode))
    os.utime(dst, ns=(st.st_atime_ns, st.st_mtime_ns))


def link_file(src: str, dst: str, st: os.stat_result) -> None:
    """A hard link to ``src`` at ``dst``; a copy where the filesystem has none for it."""
    try:
        os.link(src, dst)
    except OSError as exc:
        if exc.errno not in (errno.EXDEV, errno.EPERM, errno.EMLINK, errno.ENOTSUP, errno.EOPNOTSUPP):
            raise
        copy_file(src, dst, st)


def link_tree(src: str | Path, dst: str | Path) -> None:
    """``copy_tree`` with the files hard-linked: for a tree whose files are only ever
    replaced, never written in place (GNU patch writes each file it changes anew)."""
    copy_tree(src, dst, link_file)


def unshare_tree(root: str | Path) -> None:
    """Give every hard-linked file under ``root`` its own copy (same bytes, mode and times;
    directories keep their times), so that writing to it in place cannot change the tree it
    was linked from."""
    for dirpath, _dirs, names in os.walk(root):
        here = os.stat(dirpath)
        changed = False
        for name in names:
            path = os.path.join(dirpath, name)
            st = os.lstat(path)
            if stat.S_ISREG(st.st_mode) and st.st_nlink > 1:
                own = os.path.join(dirpath, f".{name}.unshared")
                copy_file(path, own, st)
                os.replace(own, path)
                changed = True
        if changed:     # the directory's times as they were (make may look at them too)
            os.utime(dirpath, ns=(here.st_atime_ns, here.st_mtime_ns))
