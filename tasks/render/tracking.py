"""A name lookup table that records which variant keys a recipe actually read.

``Recipe.variant`` holds only the variant keys the recipe used (like conda-build's used
variables), so an unrelated pin in conda_build_config.yaml does not change its signature.
"""
from __future__ import annotations

from typing import Any, Iterable


class TrackingDict(dict):
    """dict whose reads of ``tracked`` keys are added to the shared ``used`` set."""

    __slots__ = ("tracked", "used", "aliases")

    def __init__(self, data: dict[str, Any], tracked: Iterable[str] = (), used: set[str] | None = None,
                 aliases: dict[str, str] | None = None):
        super().__init__(data)
        self.tracked = frozenset(tracked)
        self.used: set[str] = used if used is not None else set()
        self.aliases = aliases or {}          # e.g. py3k -> python: reading it uses python

    def __getitem__(self, key: str) -> Any:
        key_used = self.aliases.get(key, key)
        if key_used in self.tracked:
            self.used.add(key_used)
        return dict.__getitem__(self, key)

    def get(self, key: str, default: Any = None) -> Any:
        if key in self:
            return self[key]
        return default

    def plain_keys(self) -> list[str]:
        return list(dict.keys(self))

    def child(self) -> "TrackingDict":
        """A copy that records into the same ``used`` set."""
        return TrackingDict(dict(self), self.tracked, self.used, self.aliases)
