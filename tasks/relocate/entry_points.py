"""Python entry-point scripts (build/entry_points: ``cmd = module:function``) in bin/.

The script is conda-build's template with a shebang to the host prefix's python; the
installer patches the prefix (and shortens the shebang) like any text prefix file.
noarch: python packages get none: the installer writes them from info/link.json.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

_ENTRY_POINT = re.compile(r"^\s*([\w\-.]+)\s*=\s*([\w.]+)\s*:\s*([\w.]+)\s*$")

TEMPLATE = """\
#!{python}
# -*- coding: utf-8 -*-
import re
import sys

from {module} import {import_name}

if __name__ == '__main__':
    sys.argv[0] = re.sub(r'(-script\\.pyw?|\\.exe)?$', '', sys.argv[0])
    sys.exit({function}())
"""


@dataclass(frozen=True)
class EntryPoint:
    command: str
    module: str
    function: str                        # may be dotted: Class.method

    @property
    def path(self) -> str:
        return f"bin/{self.command}"


def parse(spec: str) -> EntryPoint:
    match = _ENTRY_POINT.match(spec)
    if match is None:
        raise ValueError(f"entry point {spec!r} is not 'command = module:function'")
    return EntryPoint(*match.groups())


def is_valid(spec: str) -> bool:
    return _ENTRY_POINT.match(spec) is not None


def script(entry_point: EntryPoint, python: str) -> str:
    return TEMPLATE.format(python=python, module=entry_point.module,
                           import_name=entry_point.function.split(".")[0], function=entry_point.function)


def write(prefix: Path, specs: Sequence[str], python: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Write one script per spec; returns (relative paths written, problems)."""
    written: list[str] = []
    problems: list[str] = []
    for spec in specs:
        try:
            entry_point = parse(spec)
        except ValueError as exc:
            problems.append(f"build/entry_points: {exc}")
            continue
        target = prefix / entry_point.path
        target.parent.mkdir(parents=True, exist_ok=True)
        if target.is_symlink():
            target.unlink()
        target.write_text(script(entry_point, python))
        target.chmod(0o775)
        written.append(entry_point.path)
    return tuple(written), tuple(problems)
