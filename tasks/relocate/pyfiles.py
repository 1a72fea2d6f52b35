"""Python files of a package, as conda-build lays them out.

- ``noarch: python``: one package for every platform and Python version, so no ``.pyc``;
  ``lib/pythonX.Y/site-packages/`` becomes ``site-packages/`` and ``bin/`` becomes
  ``python-scripts/`` at the package root, and the installer puts them back for the Python
  it finds (entry-point scripts the build made are dropped: the installer writes them from
  ``info/link.json``).
- Arch-specific packages of a Python: every ``.py`` under ``lib/pythonX.Y/`` gets its
  ``__pycache__/*.cpython-XY.pyc``, compiled by a Python of the package's version (bytecode
  does not depend on the platform, so the build machine's python serves a cross build).
  Hash-checked pycs (PEP 552) without the build path in them: reproducible bytes, and never
  stale whatever the installed files' times.
"""
from __future__ import annotations

import os
import posixpath
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Sequence

SITE_PACKAGES = "site-packages"
SCRIPTS = "python-scripts"


def stdlib_dir(python_version: str) -> str:
    return f"lib/python{'.'.join(python_version.split('.')[:2])}"


def is_bytecode(rel: str) -> bool:
    return rel.endswith((".pyc", ".pyo")) or "/__pycache__/" in f"/{rel}"


def noarch_python_layout(prefix: Path, files: Sequence[str], python_version: str,
                         entry_point_commands: Sequence[str]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Move files into the noarch: python layout in place; returns (new file list, log lines)."""
    sp = f"{stdlib_dir(python_version)}/site-packages/"
    out: list[str] = []
    log: list[str] = []
    dropped_bytecode = 0
    commands = {f"bin/{c}" for c in entry_point_commands}
    for rel in files:
        if is_bytecode(rel):
            _remove(prefix, rel)
            dropped_bytecode += 1
            continue
        if rel in commands:
            _remove(prefix, rel)
            log.append(f"{rel}: removed (an entry point: the installer writes it from info/link.json)")
            continue
        if rel.startswith(sp):
            new = SITE_PACKAGES + "/" + rel[len(sp):]
        elif rel.startswith("bin/"):
            new = SCRIPTS + "/" + rel[len("bin/"):]
        else:
            out.append(rel)
            continue
        (prefix / new).parent.mkdir(parents=True, exist_ok=True)
        os.replace(prefix / rel, prefix / new)
        out.append(new)
    for top in (f"{stdlib_dir(python_version)}/site-packages", stdlib_dir(python_version), "lib", "bin"):
        _remove_empty_tree(prefix / top)
    if dropped_bytecode:
        log.append(f"{dropped_bytecode} bytecode file(s) removed (noarch: python packages ship none)")
    moved = sum(1 for f in out if f.startswith((SITE_PACKAGES + "/", SCRIPTS + "/")))
    log.append(f"noarch: python layout: {moved} file(s) under {SITE_PACKAGES}/ and {SCRIPTS}/")
    return tuple(sorted(out)), tuple(log)


def compile_bytecode(prefix: Path, files: Sequence[str], python_version: str,
                     pythons: Sequence[Path]) -> tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]:
    """Compile the missing .pyc of the package's .py files under lib/pythonX.Y; returns
    (new file list, log lines, problems)."""
    tag = "cpython-" + "".join(python_version.split(".")[:2])
    lib = stdlib_dir(python_version) + "/"
    have = set(files)
    wanted = {rel: _pyc_of(rel, tag) for rel in files
              if rel.startswith(lib) and rel.endswith(".py") and _pyc_of(rel, tag) not in have}
    if not wanted:
        return tuple(files), (), ()
    python = next((p for p in pythons if _runs(p, python_version)), None)
    if python is None:
        return tuple(files), (), (f"{len(wanted)} .py file(s) need bytecode, but no python {python_version} "
                                  f"runs here (looked for {', '.join(map(str, pythons))})",)
    proc = subprocess.run([str(python), "-Wi", "-m", "compileall", "-q", "-l", "--invalidation-mode",
                           "checked-hash", "-s", str(prefix), "-i", "-"],
                          input="\n".join(str(prefix / rel) for rel in sorted(wanted)), text=True,
                          capture_output=True, env={"PATH": os.environ.get("PATH", ""), "LC_ALL": "C.UTF-8"},
                          cwd=prefix)
    made = sorted(pyc for pyc in wanted.values() if (prefix / pyc).is_file())
    log = (f"{len(made)} .pyc compiled by {python} ({tag}, checked-hash)",)
    if proc.returncode != 0:   # a file that does not compile (py2 syntax in tests...): left without, as conda-build
        log += tuple(f"compileall: {line}" for line in (proc.stdout + proc.stderr).strip().splitlines()[-5:])
    return tuple(sorted(have | set(made))), log, ()


def _pyc_of(rel: str, tag: str) -> str:
    head, name = posixpath.split(rel)
    return posixpath.join(head, "__pycache__", f"{name[:-3]}.{tag}.pyc")


def _runs(python: Path, python_version: str) -> bool:
    """Whether ``python`` is a Python of that X.Y (the engine's own is known without a process)."""
    if not python.exists():
        return False
    if Path(sys.executable) == python:
        return f"{sys.version_info[0]}.{sys.version_info[1]}" == ".".join(python_version.split(".")[:2])
    return True


def _remove(prefix: Path, rel: str) -> None:
    path = prefix / rel
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    else:
        path.unlink(missing_ok=True)


def _remove_empty_tree(path: Path) -> None:
    if not path.is_dir() or path.is_symlink():
        return
    for root, _dirs, _files in os.walk(path, topdown=False):
        try:
            os.rmdir(root)
        except OSError:
            pass
