"""What a render reads from outside its arguments: files, directory listings, environment
variables. Recorded so that a memo of the render (stack_memo.py) is used only while all of
it is unchanged.

Every place of tasks/render/ that looks at the file system or the environment calls
``note_path`` (before it reads, so a file replaced in between is seen as changed next time)
or reads the environment through ``getenv`` / ``ENVIRON`` / ``OS``, the stand-ins the
templates and selectors get for ``os.environ`` and ``os``. Outside ``recording()`` they
only read. What cannot be recorded as a list of reads (running a recipe's setup.py,
listing the whole environment, ``os.path.exists`` in a template ...) makes the render
*volatile*: it is not memoised.
"""
from __future__ import annotations

import contextlib
import contextvars
import os
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

from ..fsutil import file_version

Version = tuple[int, int, int, int]
# A file changed this recently (by its ctime) may change again within the same tick of the
# file system's coarse clock without a new version: a render that read such a file is not
# memoised (git's "racily clean" entries; the next call, later, renders and memoises).
RACY_NS = 100_000_000


@dataclass
class RenderInputs:
    """Paths (files and directories) -> their version when read (None: missing); environment
    names -> their value (None: unset); why the render cannot be memoised, if it cannot."""

    paths: dict[str, Version | None] = field(default_factory=dict)
    environ: dict[str, str | None] = field(default_factory=dict)
    volatile: str = ""


_RECORDING: contextvars.ContextVar[RenderInputs | None] = contextvars.ContextVar("condoit_render_inputs",
                                                                                 default=None)


@contextlib.contextmanager
def recording() -> Iterator[RenderInputs]:
    """Record what the renders inside read."""
    inputs = RenderInputs()
    token = _RECORDING.set(inputs)
    try:
        yield inputs
    finally:
        _RECORDING.reset(token)


def note_path(path: Path | str) -> None:
    """A file or directory (its listing) the render is about to read or probe."""
    inputs = _RECORDING.get()
    if inputs is not None:
        key = str(path)
        if key not in inputs.paths:
            version = inputs.paths[key] = file_version(key)
            if version is not None and time.time_ns() - version[3] < RACY_NS:
                volatile(f"{key} changed less than {RACY_NS // 1_000_000} ms before it was read")


def volatile(reason: str) -> None:
    """The render read something that is not recorded: it is not memoised."""
    inputs = _RECORDING.get()
    if inputs is not None and not inputs.volatile:
        inputs.volatile = reason


def getenv(name: str, default: str | None = None) -> str | None:
    """``os.environ.get`` that is recorded."""
    value = os.environ.get(name)
    inputs = _RECORDING.get()
    if inputs is not None:
        inputs.environ.setdefault(str(name), value)
    return default if value is None else value


class _Environ(Mapping):
    """``os.environ`` as templates and selectors see it: each name read is recorded."""

    def __getitem__(self, name: str) -> str:
        value = getenv(name)
        if value is None:
            raise KeyError(name)
        return value

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and getenv(name) is not None

    def __iter__(self) -> Iterator[str]:
        volatile("the recipe lists the environment")
        return iter(os.environ)

    def __len__(self) -> int:
        volatile("the recipe lists the environment")
        return len(os.environ)

    def __repr__(self) -> str:
        volatile("the recipe prints the environment")
        return repr(os.environ)


ENVIRON = _Environ()

# Names of ``os`` / ``os.path`` that read nothing outside their arguments.
_PURE_OS = frozenset({"sep", "pathsep", "linesep", "extsep", "curdir", "pardir", "altsep", "name", "devnull"})
_PURE_PATH = frozenset({"join", "basename", "dirname", "split", "splitext", "normpath", "normcase", "isabs",
                        "sep", "extsep", "commonprefix", "splitdrive"})


class _Path:
    """``os.path`` for templates: pure functions as they are, the rest makes the render volatile."""

    def __getattr__(self, name: str) -> Any:
        if name not in _PURE_PATH:
            volatile(f"the recipe calls os.path.{name}")
        return getattr(os.path, name)


class _Os:
    """``os`` for templates and selectors: environment reads are recorded, pure names pass,
    anything else (listing a directory, ...) makes the render volatile."""

    environ = ENVIRON
    path = _Path()

    @staticmethod
    def getenv(name: str, default: str | None = None) -> str | None:
        return getenv(name, default)

    def __getattr__(self, name: str) -> Any:
        if name not in _PURE_OS:
            volatile(f"the recipe uses os.{name}")
        return getattr(os, name)


OS = _Os()
