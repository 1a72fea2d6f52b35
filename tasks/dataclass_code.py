"""The methods ``@dataclass`` writes for the engine's classes, compiled once like bytecode.

Why: for every class, ``dataclasses`` writes the source of its methods (``__init__``,
``__repr__``, ``__eq__``, ``__hash__``, and for a frozen class ``__setattr__`` and
``__delattr__``) and compiles each with ``exec``. The engine makes about 70 such classes on
every doit call: 25-30 ms, a tenth of a cold build's own CPU and of a no-op, two thirds of it
in the compiler.

How: the setup script runs ``python -m tasks.dataclass_code``, which imports the engine with
every source text ``dataclasses`` passes to ``exec`` recorded, and writes text -> code object
to ``CACHE`` (marshal, beside the engine's bytecode). ``use_compiled_dataclass_code`` (called
by dodo.py before the engine loads) gives the ``dataclasses`` module an ``exec`` of its own
that runs the cached code object for a text it has seen and compiles any other, exactly as
the builtin would (same flags, same file name). The key is the whole text, so an edited class
only misses; a missing, damaged or other-Python file is ignored; a build never writes it.
"""
from __future__ import annotations

import builtins
import dataclasses
import marshal
import os
import sys
from typing import Any

CACHE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "__pycache__",
                     f"dataclass-code.{sys.implementation.cache_tag}.marshal")
FORMAT = 1


class _CachedExec:
    """``exec`` for the dataclasses module: compiled code comes from ``codes`` when it can."""

    def __init__(self, codes: dict[str, Any]) -> None:
        self.codes = codes
        self.hits = 0
        self.compiled = 0

    def __call__(self, source: Any, globals: dict | None = None, locals: dict | None = None, /) -> None:
        if isinstance(source, str):
            code = self.codes.get(source)
            if code is None:
                # dont_inherit: no __future__ flags of this module (the builtin gives dataclasses' own: none)
                code = self.codes[source] = compile(source, "<string>", "exec", dont_inherit=True)
                self.compiled += 1
            else:
                self.hits += 1
            source = code
        builtins.exec(source, globals, locals)


def _read(path: str) -> dict[str, Any]:
    try:
        with open(path, "rb") as fh:
            header, codes = marshal.loads(fh.read())
    except (OSError, ValueError, EOFError, TypeError):
        return {}
    if header != (FORMAT, sys.version) or not isinstance(codes, dict):
        return {}
    return codes


def use_compiled_dataclass_code(path: str = CACHE) -> _CachedExec:
    """Make ``@dataclass`` run cached code objects from now on in this process (see above)."""
    current = getattr(dataclasses, "exec", None)
    if isinstance(current, _CachedExec):
        return current
    hook = _CachedExec(_read(path))
    dataclasses.exec = hook      # type: ignore[attr-defined]  # a module global shadows the builtin there
    return hook


def write_cache(hook: _CachedExec, path: str = CACHE) -> int:
    """Write what ``hook`` has seen (replacing the file whole); returns the number of texts."""
    from .fsutil import write_bytes_atomic
    from pathlib import Path
    write_bytes_atomic(Path(path), marshal.dumps(((FORMAT, sys.version), hook.codes)), mode=0o644)
    return len(hook.codes)


def _import_engine() -> list[str]:
    """Import every module of the engine; returns those that could not be imported (and why)."""
    import importlib
    import pkgutil
    package = sys.modules[__package__]
    failed = []
    for info in pkgutil.walk_packages(package.__path__, prefix=f"{__package__}."):
        try:
            importlib.import_module(info.name)
        except Exception as exc:  # noqa: BLE001 - an optional dependency missing here only loses its entries
            failed.append(f"{info.name}: {type(exc).__name__}: {exc}")
    return failed


def main(argv: list[str] | None = None) -> None:
    """``python -m tasks.dataclass_code [PATH]``: record the engine's dataclass methods, write
    them to PATH (default: ``CACHE``)."""
    args = sys.argv[1:] if argv is None else argv
    path = args[0] if args else CACHE
    hook = use_compiled_dataclass_code(path=os.devnull)     # start empty: no stale entries are kept
    failed = _import_engine()
    count = write_cache(hook, path)
    print(f"dataclass code: {count} methods compiled into {path}")
    for line in failed:
        print(f"  not imported (its classes are compiled when used): {line}")


if __name__ == "__main__":
    from tasks.dataclass_code import main as run     # the package's module, not __main__: one hook class
    run()
