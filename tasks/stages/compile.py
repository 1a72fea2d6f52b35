"""Stage 'compile' (stub until implemented)."""
from __future__ import annotations

from .base import Stage


class CompileStage(Stage):
    name = "compile"
    doc = "compile"
