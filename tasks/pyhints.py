"""What a failed Python build most often means, said next to pip's own error.

A cross build runs the build machine's python over the host prefix (tasks/crosspython.py):
a module it cannot import is a package missing from ``requirements/host``, or a part of the
standard library the stack's python was built without (its C library missing from
python's own host requirements).
"""
from __future__ import annotations

import re
import sys
from pathlib import Path

_MISSING = re.compile(r"(?:ModuleNotFoundError|ImportError): No module named '([\w.]+)'")
# standard-library modules that need a library of the stack when python is built
STDLIB_NEEDS = {"_sqlite3": "sqlite", "sqlite3": "sqlite", "_ssl": "openssl", "ssl": "openssl",
                "_hashlib": "openssl", "zlib": "zlib", "_bz2": "bzip2", "bz2": "bzip2", "_lzma": "xz",
                "lzma": "xz", "_ctypes": "libffi", "ctypes": "libffi", "_curses": "ncurses",
                "curses": "ncurses", "readline": "readline", "_uuid": "libuuid", "pyexpat": "expat",
                "_dbm": "gdbm", "_gdbm": "gdbm", "_tkinter": "tk", "tkinter": "tk"}
TAIL_BYTES = 256 * 1024


def missing_module(log_path: Path) -> str | None:
    """The last module the build's python could not import, from the end of the stage log."""
    try:
        with open(log_path, "rb") as fh:
            fh.seek(0, 2)
            fh.seek(max(0, fh.tell() - TAIL_BYTES))
            text = fh.read().decode("utf-8", "replace")
    except OSError:
        return None
    found = _MISSING.findall(text)
    return found[-1] if found else None


def build_failure_hint(log_path: Path) -> str:
    """A hint line for a failed build script, or "" when the log shows no missing module."""
    module = missing_module(log_path)
    if module is None:
        return ""
    top = module.split(".")[0]
    if top in STDLIB_NEEDS or top in getattr(sys, "stdlib_module_names", ()):
        library = STDLIB_NEEDS.get(top)
        needs = f" (it needs {library} in the python recipe's requirements/host)" if library else ""
        return (f"\n    hint: the build's python has no `{module}`, a module of the standard library: "
                f"the stack's python was built without it{needs}; rebuild python with it")
    return (f"\n    hint: the build's python cannot import `{module}`: add the package that provides it to "
            "requirements/host (build tools such as setuptools, wheel, cython come from the host prefix; "
            "a cross build runs them with the build machine's python)")
