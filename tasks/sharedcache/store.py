"""The interface every shared-cache backend offers, and the one that picks a backend from a URL.

A store (``open_store`` in __init__.py picks one from a URL) holds two kinds of objects under string keys: *blobs* (file contents, named by their
sha256: immutable, so two machines writing the same one write the same bytes) and *entries*
(one small JSON manifest per stage signature). An entry is created only if absent and only
after every blob it names is stored: a reader never sees an entry whose files are missing,
and an entry never changes once written.
"""
from __future__ import annotations

from pathlib import Path
from typing import Protocol

from ..errors import CondoitError


class StoreError(CondoitError):
    """The shared cache could not be read or written (server gone, bucket full, no rights)."""


class Store(Protocol):
    def describe(self) -> str:
        """Where the store is, for messages (never credentials)."""

    def has(self, key: str) -> bool:
        """Whether ``key`` exists."""

    def read(self, key: str) -> bytes | None:
        """The object's bytes, or None when it does not exist."""

    def download(self, key: str, into: Path) -> bool:
        """Write the object to the new file ``into``; False when it does not exist."""

    def upload(self, key: str, path: Path) -> None:
        """Store a blob (content-addressed: an existing one is left as it is)."""

    def create(self, key: str, data: bytes) -> bool:
        """Write ``data`` under ``key`` only if absent (atomically); False when it existed."""

