"""A shared cache in a directory (local disk or an NFS mount shared by a team's machines).

Blobs are written to a temporary file in the store and renamed into place; an entry is
linked into place (``link`` fails when the name exists, also over NFS), so a second writer
of the same signature loses the race cleanly and the first entry stays as it was.
"""
from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

from .store import StoreError


class LocalDirStore:
    def __init__(self, root: Path):
        self.root = root

    def describe(self) -> str:
        return str(self.root)

    def _path(self, key: str) -> Path:
        return self.root / key

    def has(self, key: str) -> bool:
        return self._path(key).is_file()

    def read(self, key: str) -> bytes | None:
        try:
            return self._path(key).read_bytes()
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise StoreError(f"cannot read {self._path(key)}: {exc.strerror}") from None

    def download(self, key: str, into: Path) -> bool:
        try:
            shutil.copyfile(self._path(key), into)
        except FileNotFoundError:
            return False
        except OSError as exc:
            raise StoreError(f"cannot read {self._path(key)}: {exc.strerror}") from None
        return True

    def _staged(self, write) -> Path:
        room = self.root / "tmp"
        try:
            room.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=room, suffix=".part")
            with os.fdopen(fd, "wb") as fh:
                write(fh)
                fh.flush()
                os.fsync(fh.fileno())
        except OSError as exc:   # a full disk, no write permission
            raise StoreError(f"cannot write to {self.root}: {exc.strerror}") from None
        return Path(tmp)

    def upload(self, key: str, path: Path) -> None:
        final = self._path(key)
        if final.is_file():
            return
        with open(path, "rb") as src:
            tmp = self._staged(lambda fh: shutil.copyfileobj(src, fh))
        try:
            final.parent.mkdir(parents=True, exist_ok=True)
            os.replace(tmp, final)
        except OSError as exc:
            tmp.unlink(missing_ok=True)
            raise StoreError(f"cannot write {final}: {exc.strerror}") from None

    def create(self, key: str, data: bytes) -> bool:
        final = self._path(key)
        tmp = self._staged(lambda fh: fh.write(data))
        try:
            final.parent.mkdir(parents=True, exist_ok=True)
            os.link(tmp, final)
            return True
        except FileExistsError:
            return False
        except OSError as exc:
            raise StoreError(f"cannot write {final}: {exc.strerror}") from None
        finally:
            tmp.unlink(missing_ok=True)
