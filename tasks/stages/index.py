"""Stage 'index' (stub until implemented)."""
from __future__ import annotations

from .base import Stage


class IndexStage(Stage):
    name = "index"
    doc = "index"
