"""Import what the package stage needs in the background while a build script runs.

The package stage runs right after compile, in the same doit process; importing its
modules on a thread while the main thread only waits for build.sh takes that time off the
critical path. lief (0.6 s of CPU) is no longer among them: the relocation reads and edits
ELF files itself (``relocate.elfread``/``elfedit``) and imports lief only for the rare edit
it leaves to lief, so prefetching it would spend that CPU on every build for nothing.

The import must be finished before the stage returns. A thread still inside a C extension's
initialisation when the interpreter shuts down is ended by ``pthread_exit`` (lief's C++
runtime then aborted the process: "FATAL: exception not rethrown", exit 134). So
``prefetching`` is a context manager that joins its thread on the way out, whether
build.sh succeeded or not.
"""
from __future__ import annotations

import contextlib
import importlib
import sys
import threading
from typing import Iterable, Iterator

POST_BUILD_MODULES = ("tasks.relocate",)


def _import_quietly(names: tuple[str, ...]) -> None:
    for name in names:
        try:
            importlib.import_module(name)
        except Exception:  # the stage that needs it reports the real error
            return


@contextlib.contextmanager
def prefetching(names: Iterable[str]) -> Iterator[None]:
    """Import ``names`` on a thread while the body runs; wait for the import at the end."""
    missing = tuple(n for n in names if n not in sys.modules)
    thread = None
    if missing:
        thread = threading.Thread(target=_import_quietly, args=(missing,), name="prefetch")
        thread.start()
    try:
        yield
    finally:
        if thread is not None:
            thread.join()
