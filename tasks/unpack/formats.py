"""Which kind of file an archive is, from its bytes (Debian and mirrors rename files)."""
from __future__ import annotations

import bz2
import contextlib
import gzip
import lzma
import tarfile
import zipfile
from pathlib import Path
from typing import IO, Callable, Iterator

from ..errors import CondoitError

_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"\x1f\x8b", "gz"), (b"BZh", "bz2"), (b"\xfd7zXZ\x00", "xz"), (b"\x28\xb5\x2f\xfd", "zst"),
)


def _zstd_open(path: Path) -> IO[bytes]:
    try:
        from compression import zstd  # type: ignore[import-not-found]  # Python >= 3.14
    except ImportError:
        try:
            from backports import zstd  # type: ignore[no-redef]  # with conda-package-handling
        except ImportError:
            raise CondoitError(f"{path.name} is zstd-compressed; install the Python package "
                               "`backports.zstd` (Python < 3.14) to read it") from None
    return zstd.open(path, "rb")


_OPENERS: dict[str | None, Callable[[Path], IO[bytes]]] = {
    "gz": lambda p: gzip.open(p, "rb"), "bz2": lambda p: bz2.open(p, "rb"),
    "xz": lambda p: lzma.open(p, "rb"), "zst": _zstd_open, None: lambda p: open(p, "rb"),
}


def compression(path: Path) -> str | None:
    with open(path, "rb") as fh:
        head = fh.read(8)
    return next((kind for magic, kind in _MAGIC if head.startswith(magic)), None)


@contextlib.contextmanager
def open_tar(path: Path) -> Iterator[tarfile.TarFile]:
    """A tar archive read as a stream (one pass), whatever its compression."""
    with _OPENERS[compression(path)](path) as raw:
        with tarfile.open(fileobj=raw, mode="r|") as tar:
            yield tar


def archive_kind(path: Path, name: str) -> str | None:
    """'tar', 'zip' or None (a plain file, copied as is: wheels, single compressed files...)."""
    if name.lower().endswith(".whl"):
        return None
    try:
        with open_tar(path) as tar:
            tar.next()
        return "tar"
    except CondoitError:  # a zstd archive without a zstd reader
        raise
    except Exception:  # noqa: BLE001 - not a readable tar: try zip, else a plain file
        pass
    return "zip" if zipfile.is_zipfile(path) else None
