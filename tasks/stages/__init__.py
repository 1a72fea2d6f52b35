"""Registry of stages, in pipeline order."""
from __future__ import annotations

from .base import Stage
from .download import DownloadStage
from .extract import ExtractStage
from .patch import PatchStage
from .compile import CompileStage
from .package import PackageStage
from .index import IndexStage
from .test import TestStage

STAGES: dict[str, Stage] = {s.name: s for s in (
    DownloadStage(), ExtractStage(), PatchStage(), CompileStage(), PackageStage(), IndexStage(), TestStage(),
)}
