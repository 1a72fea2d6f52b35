"""What the last run read of every stamp, in one file: a no-op run of a big stack reads one
file instead of thousands (1000 recipes: 7000 stamps).

The index is only a copy. An entry counts while the stamp file still has the version it was
read at (``fsutil.file_version``: mtime, size, inode, ctime; stamps are only ever replaced
by a rename, which gives a new inode), so an index older than its stamps (a killed run, a
worker of ``-P process`` that wrote a stamp since, a stamp edited by hand) costs a read of
that stamp, never a stale answer. The version is taken before the stamp is read: a stamp
replaced in between is recorded with its old version, which the next run sees differ.
Only the process that holds the cache lock writes the index, atomically, and only when an
entry changed.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .fsutil import write_text_atomic

INDEX_FORMAT = 1
Version = tuple[int, int, int, int]


@dataclass
class StampIndex:
    """Stamp path -> (version, the part of the stamp a check reads, the result's JSON form)."""

    path: Path
    entries: dict[str, list[Any]] = field(default_factory=dict)
    changed: bool = False

    @classmethod
    def load(cls, path: Path) -> "StampIndex":
        """The index at ``path``; an empty one when it is missing, unreadable or of another format."""
        try:
            with open(path, encoding="utf-8") as fh:
                data = json.load(fh)
        except (OSError, ValueError):
            return cls(path)
        if not isinstance(data, dict) or data.get("format") != INDEX_FORMAT or \
                not isinstance(data.get("entries"), dict):
            return cls(path)
        return cls(path, data["entries"])

    def get(self, stamp: Path | str, version: Version) -> tuple[dict[str, Any], Any] | None:
        """(kept part of the stamp, result JSON) when the entry of ``stamp`` has ``version``."""
        entry = self.entries.get(str(stamp))
        if not isinstance(entry, list) or len(entry) != 6 or tuple(entry[:4]) != version:
            return None
        return entry[4], entry[5]

    def put(self, stamp: Path | str, version: Version, kept: dict[str, Any], result: Any) -> None:
        """Record what was read of ``stamp`` at ``version`` (taken before it was read)."""
        entry = [*version, kept, result]
        if self.entries.get(str(stamp)) != entry:
            self.entries[str(stamp)] = entry
            self.changed = True

    def save(self) -> None:
        """Write the index when an entry changed (atomically: a killed run leaves the old one)."""
        if not self.changed or not self.path.parent.is_dir():     # no stamps (a cache removed): no index
            return
        write_text_atomic(self.path, json.dumps({"format": INDEX_FORMAT, "entries": self.entries},
                                                separators=(",", ":")))
        self.changed = False
