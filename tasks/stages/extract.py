"""Stage 'extract' (stub until implemented)."""
from __future__ import annotations

from .base import Stage


class ExtractStage(Stage):
    name = "extract"
    doc = "extract"
