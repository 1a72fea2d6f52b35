"""Script shebangs that keep working after the package moves.

A shebang into the host prefix is fine when the file is patched at install time: the
installer replaces the prefix and, when the line gets longer than the kernel's limit,
shortens it to ``#!/usr/bin/env <name>`` itself. Everything else is settled here:
interpreters of the build prefix (or, in bin/, a Python outside the prefix, as conda-build
does) are pointed at the host prefix, and a shebang that would not be patched, or is too
long, becomes ``#!/usr/bin/env <name>``.
"""
from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Callable, Sequence

# Linux's historic BINPRM_BUF_SIZE: longer shebang lines are cut (and installers shorten them).
MAX_SHEBANG = 127
_SHEBANG = re.compile(r"^#!\s*(/\S*)(.*)$")
_PYTHON = re.compile(r"^python(\d+(\.\d+)*)?w?$")


@dataclass(frozen=True)
class Shebang:
    interpreter: str                    # absolute path
    rest: str = ""                      # the arguments, with their leading blank

    @property
    def line(self) -> str:
        return f"#!{self.interpreter}{self.rest}"

    @property
    def name(self) -> str:
        return posixpath.basename(self.interpreter)


def parse(line: str) -> Shebang | None:
    match = _SHEBANG.match(line.rstrip("\r\n"))
    return Shebang(match.group(1), match.group(2).rstrip()) if match else None


def env_form(shebang: Shebang) -> Shebang:
    """``#!/usr/bin/env <name> <args>``: found on PATH, any prefix length works."""
    if shebang.interpreter == "/usr/bin/env":
        return shebang
    return Shebang("/usr/bin/env", f" {shebang.name}{shebang.rest}")


def _under(path: str, prefix: str) -> bool:
    return path.startswith(prefix.rstrip("/") + "/")


def rewrite(shebang: Shebang, *, prefix: str, build_prefixes: Sequence[str] = (),
            python_to_prefix: bool = False, patched_at_install: bool = True) -> Shebang:
    """The shebang this script should carry in the package.

    ``python_to_prefix``: a python interpreter outside the host prefix (the build machine's)
    becomes the host prefix's ``bin/python``. ``patched_at_install``: the file is recorded
    as a text prefix file, so the installer rewrites and shortens a shebang into the prefix.
    """
    if any(_under(shebang.interpreter, b) for b in build_prefixes if b):
        shebang = replace(shebang, interpreter=f"{prefix}/bin/{shebang.name}")
    elif python_to_prefix and _PYTHON.match(shebang.name) and not _under(shebang.interpreter, prefix):
        shebang = replace(shebang, interpreter=f"{prefix}/bin/python")
    if _under(shebang.interpreter, prefix):
        return shebang if patched_at_install else env_form(shebang)
    return env_form(shebang) if len(shebang.line) > MAX_SHEBANG else shebang


def fix_file(path: Path, patched_at_install: Callable[[bytes], bool], **options) -> str | None:
    """Rewrite the first line of ``path`` if needed; returns 'old -> new' when it changed.

    ``patched_at_install(data)`` tells whether the installer will patch this file (it
    depends on the file's mode, so it gets the new content).
    """
    data = path.read_bytes()
    if not data.startswith(b"#!"):
        return None
    end = data.find(b"\n")
    first, body = (data, b"") if end == -1 else (data[:end], data[end:])
    try:
        old = parse(first.decode("utf-8"))
    except UnicodeDecodeError:
        return None
    if old is None:
        return None
    crlf = b"\r" if first.endswith(b"\r") else b""
    # Decide with the content as it would be with a prefix shebang, then settle the form.
    candidate = rewrite(old, patched_at_install=True, **options)
    candidate_data = candidate.line.encode() + crlf + body
    new = rewrite(old, patched_at_install=patched_at_install(candidate_data), **options)
    if new == old:
        return None
    mode = path.stat().st_mode & 0o7777
    path.chmod(mode | 0o200)  # a read-only script is still ours to fix
    path.write_bytes(new.line.encode() + crlf + body)
    path.chmod(mode)
    return f"{old.line} -> {new.line}"
