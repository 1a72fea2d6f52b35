"""Import heavy libraries in the background while a build script runs.

lief takes about 0.6 s to import. The package stage needs it right after compile, in the
same doit process; importing it on a thread while the main thread only waits for
build.sh takes that time off the critical path.
"""
from __future__ import annotations

import importlib
import sys
import threading
from typing import Iterable

POST_BUILD_MODULES = ("lief", "tasks.relocate")


def _import_quietly(names: tuple[str, ...]) -> None:
    for name in names:
        try:
            importlib.import_module(name)
        except Exception:  # the stage that needs it reports the real error
            return


def prefetch_modules(names: Iterable[str]) -> None:
    """Start importing ``names`` on a daemon thread (no-op for modules already loaded)."""
    missing = tuple(n for n in names if n not in sys.modules)
    if missing:
        threading.Thread(target=_import_quietly, args=(missing,), daemon=True, name="prefetch").start()
