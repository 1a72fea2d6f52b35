"""Stage 'download' (stub until implemented)."""
from __future__ import annotations

from .base import Stage


class DownloadStage(Stage):
    name = "download"
    doc = "download"
