"""The rendered stack of the last call, reused while nothing the render read has changed.

Every ``doit`` call renders the whole stack (jinja2, YAML, the schema): on a no-op that is
most of our own work, and importing jinja2 and yaml alone costs more than the rest. A memo
of ``load_stack(settings)`` is kept per settings (``Layout.stack_memo``) with everything the
render read (tasks/render/inputs.py: each file and directory listing with its
``fsutil.file_version``, each environment variable with its value) and the files of the
code that rendered it (every loaded module of this package, jinja2, yaml). It is used
only when all of it is as recorded, so a memo never stands for a render that would come
out differently; the check costs one ``stat`` per recorded path and nothing is imported
for it but ``pickle``.

Not memoised: a stack with problems (a broken recipe is rendered, and reported, on every
call until it is fixed) and a volatile render (one that read what cannot be recorded).
The memo is only a copy: unreadable, of another format or stale, it is rendered again.
It is written atomically, so a killed run or two concurrent ``doit list`` leave a whole one.
"""
from __future__ import annotations

import hashlib
import marshal
import os
import pickle
import sys
from pathlib import Path
from typing import Any

from ..fsutil import file_version, write_bytes_atomic
from ..paths import Layout
from ..settings import Settings
from ..stack import Stack

MEMO_FORMAT = 1
# Libraries whose version changes what a render gives (their package's __init__ is enough:
# an upgrade rewrites it).
_LIBRARIES = ("jinja2", "yaml", "markupsafe")
_PACKAGE = Path(__file__).resolve().parent.parent       # tasks/


def cached_stack(settings: Settings) -> Stack:
    """``load_stack(settings)``, from the memo when every input is unchanged."""
    path = memo_path(settings)
    stack = _load(path, _key(settings))
    if stack is not None:
        return stack
    from .inputs import recording
    from .stack_loader import load_stack
    with recording() as inputs:
        stack = load_stack(settings)
    if not stack.problems and not inputs.volatile:
        _save(path, _key(settings), inputs.paths, inputs.environ, stack)
    return stack


def memo_path(settings: Settings) -> Path:
    """One memo per settings (a cross build keeps the target's and the build machine's)."""
    digest = hashlib.sha256(repr(settings).encode()).hexdigest()[:24]
    return Layout.of(settings).stack_memo(digest)


def memo_templates(settings: Settings) -> set[str]:
    """The compiled templates the settings' memo was rendered with (none without a memo)."""
    try:
        with open(memo_path(settings), "rb") as fh:
            header, _body = marshal.loads(fh.read())
        return set(header.get("templates", ()))
    except (OSError, ValueError, EOFError, TypeError, AttributeError):
        return set()


def _key(settings: Settings) -> str:
    return f"{MEMO_FORMAT}|{sys.version}|{sys.executable}|{settings!r}"


def _code_files() -> dict[str, Any]:
    """The files of the code that rendered: this package's loaded modules and the libraries."""
    files: list[str] = []
    for name, module in list(sys.modules.items()):
        top = name.partition(".")[0]
        if top == _PACKAGE.name or name in _LIBRARIES:
            where = getattr(module, "__file__", None)
            if where and (top != _PACKAGE.name or Path(where).resolve().is_relative_to(_PACKAGE)):
                files.append(where)
    return {f: file_version(f) for f in sorted(files)}


def _load(path: Path, key: str) -> Stack | None:
    """The memo's stack when its key matches and every recorded input is unchanged."""
    try:
        with open(path, "rb") as fh:
            header, body = marshal.loads(fh.read())
    except (OSError, ValueError, EOFError, TypeError):
        return None
    try:
        if header["key"] != key:
            return None
        environ = os.environ
        for name, value in header["environ"].items():
            if environ.get(name) != value:
                return None
        for where, version in header["paths"].items():
            if file_version(where) != version:
                return None
        stack = pickle.loads(body)
    except Exception:  # noqa: BLE001 - a damaged or foreign memo is only a miss
        return None
    return stack if isinstance(stack, Stack) else None


def _save(path: Path, key: str, paths: dict[str, Any], environ: dict[str, str | None], stack: Stack) -> None:
    """Best effort: a memo that cannot be written costs the next call a render."""
    from .template_cache import used_keys
    header = {"key": key, "environ": dict(environ), "paths": {**paths, **_code_files()},
              "templates": sorted(used_keys())}
    try:
        data = marshal.dumps((header, pickle.dumps(stack, protocol=pickle.HIGHEST_PROTOCOL)))
        write_bytes_atomic(path, data)
    except Exception:  # noqa: BLE001 - an unwritable memo (a full disk, a value pickle refuses) is no error
        pass
