"""Stage 'package' (stub until implemented)."""
from __future__ import annotations

from .base import Stage


class PackageStage(Stage):
    name = "package"
    doc = "package"
