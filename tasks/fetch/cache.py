"""The content-addressed download cache: a file enters only after its hashes are verified.

Every archive lives at ``Layout.download(sha256)``. Recipes that give only an md5 or sha1
(or no hash at all) find their file through a small index (``downloads/md5/<md5>`` holds the
sha256). New content is written to a partial file in the same filesystem, verified, then
renamed into place, so a partial or wrong download never becomes a cache entry.
"""
from __future__ import annotations

import contextlib
import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

from ..fsutil import hash_file, write_json_atomic, write_text_atomic
from ..locking import process_alive
from ..paths import Layout
from .base import FetchError

ALGORITHMS = ("sha256", "sha1", "md5")
HASH_LENGTHS = {"md5": 32, "sha1": 40, "sha256": 64}   # hex digits


class HashMismatch(FetchError):
    """Content that does not match the recipe's hash (named with both values and the origin)."""

    def __init__(self, origin: str, algorithm: str, expected: str, actual: str):
        self.origin, self.algorithm, self.expected, self.actual = origin, algorithm, expected, actual
        super().__init__(f"{origin}: {algorithm} mismatch: expected {expected}, got {actual}")


@dataclass(frozen=True)
class Expected:
    """The hashes a recipe promises for one file (any may be missing)."""

    sha256: str | None = None
    sha1: str | None = None
    md5: str | None = None

    @classmethod
    def of(cls, source) -> "Expected":
        """The hashes a url source's options promise."""
        return cls(*(source.get(a) and str(source.get(a)).lower() for a in ALGORITHMS))

    def given(self) -> dict[str, str]:
        return {a: v for a in ALGORITHMS if (v := getattr(self, a))}

    def describe(self) -> str:
        given = self.given()
        return ", ".join(f"{a} {v}" for a, v in given.items()) if given else "no hash"

    def check(self, path: Path, origin: str) -> str:
        """sha256 of ``path``; HashMismatch when any promised hash differs."""
        sha256 = hash_file(path, "sha256")
        for algorithm, want in self.given().items():
            got = sha256 if algorithm == "sha256" else hash_file(path, algorithm)
            if got != want:
                raise HashMismatch(origin, algorithm, want, got)
        return sha256


def url_key(url: str) -> str:
    return hashlib.sha256(url.encode()).hexdigest()


@dataclass(frozen=True)
class DownloadCache:
    layout: Layout

    def lookup(self, expected: Expected, urls: tuple[str, ...] = ()) -> str | None:
        """sha256 of a cached file with the promised content, or None (no network, no hashing)."""
        if expected.sha256:
            return expected.sha256 if self.layout.download(expected.sha256).is_file() else None
        keys = [(a, v) for a, v in expected.given().items()]
        if not keys:  # unverifiable source: known by its URL only
            keys = [("url", url_key(u)) for u in urls]
        for kind, key in keys:
            try:
                sha256 = self.layout.download_alias(kind, key).read_text().strip()
            except OSError:
                continue
            if sha256 and self.layout.download(sha256).is_file():
                return sha256
        return None

    def partial(self, label: str) -> Path:
        """A fresh partial file for one attempt; the pid makes leftovers of dead runs findable."""
        folder = self.layout.download_partials
        folder.mkdir(parents=True, exist_ok=True)
        self.sweep_partials()
        return folder / f"{hashlib.sha256(label.encode()).hexdigest()[:16]}.{os.getpid()}.part"

    def sweep_partials(self) -> None:
        """Delete partial files left by killed processes."""
        folder = self.layout.download_partials
        if not folder.is_dir():
            return
        for entry in folder.iterdir():
            pid = entry.name.rsplit(".", 2)[-2] if entry.name.endswith(".part") else ""
            if pid.isdigit() and not process_alive(int(pid)):
                with contextlib.suppress(OSError):
                    entry.unlink()

    def admit(self, partial: Path, expected: Expected, origin: str, name: str,
              urls: tuple[str, ...] = ()) -> str:
        """Verify ``partial`` and move it into the cache; a mismatch deletes it. Returns sha256."""
        try:
            sha256 = expected.check(partial, origin)
            target = self.layout.download(sha256)
            target.parent.mkdir(parents=True, exist_ok=True)
            os.replace(partial, target)
        finally:
            with contextlib.suppress(FileNotFoundError):
                partial.unlink()
        self._index(sha256, expected, origin, name, urls)
        return sha256

    def _index(self, sha256: str, expected: Expected, origin: str, name: str,
               urls: tuple[str, ...]) -> None:
        aliases = [(a, v) for a, v in expected.given().items() if a != "sha256"]
        if not expected.given():
            aliases = [("url", url_key(u)) for u in urls]
        for kind, key in aliases:
            write_text_atomic(self.layout.download_alias(kind, key), sha256 + "\n")
        write_json_atomic(self.layout.download_meta(sha256), {
            "sha256": sha256, "size": self.layout.download(sha256).stat().st_size,
            "name": name, "origin": origin, **{a: v for a, v in expected.given().items()}})

    def remove(self, expected: Expected, urls: tuple[str, ...] = ()) -> None:
        """Forget one cached file (``doit clean download:<recipe>``)."""
        sha256 = self.lookup(expected, urls)
        if sha256 is None:
            return
        for path in (self.layout.download(sha256), self.layout.download_meta(sha256)):
            with contextlib.suppress(FileNotFoundError):
                path.unlink()

