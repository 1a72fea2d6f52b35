"""Stage 'patch' (stub until implemented)."""
from __future__ import annotations

from .base import Stage


class PatchStage(Stage):
    name = "patch"
    doc = "patch"
