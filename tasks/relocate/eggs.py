"""setuptools egg installs made conda-friendly (conda-build's ``remove_easy_install_pth``).

An ``easy-install.pth`` would clobber the one of every other package, so it goes. An egg
directory is flattened into site-packages (its EGG-INFO becomes ``<egg>-info``) unless
build/preserve_egg_dir asks to keep it; a kept egg dir or a zipped egg gets its own
``<name>.pth`` so Python still finds it.
"""
from __future__ import annotations

import fnmatch
import posixpath
import shutil
from pathlib import Path
from typing import Sequence


def site_packages(python_version: str) -> str:
    return f"lib/python{'.'.join(python_version.split('.')[:2])}/site-packages"


def _write_pth(prefix: Path, sp: str, egg: str) -> str:
    rel = f"{sp}/{egg.split('-')[0]}.pth"
    (prefix / rel).write_text(f"./{egg}\n")
    return rel


def handle_eggs(prefix: Path, files: Sequence[str], python_version: str,
                preserve: bool) -> tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]:
    """Returns (new file list, log lines, problems); files move on disk accordingly."""
    sp = site_packages(python_version)
    top = {f[len(sp) + 1:].split("/")[0] for f in files if f.startswith(sp + "/")}
    eggs = sorted(name for name in top if fnmatch.fnmatch(name, "*-py*.egg"))
    out = list(files)
    log: list[str] = []
    problems: list[str] = []
    pth = f"{sp}/easy-install.pth"
    if pth in out:
        (prefix / pth).unlink(missing_ok=True)
        out.remove(pth)
        log.append(f"{pth}: removed (it would clobber other packages' copy)")
    for egg in eggs:
        egg_rel = f"{sp}/{egg}"
        if (prefix / egg_rel).is_file() or preserve:
            out.append(_write_pth(prefix, sp, egg))
            log.append(f"{egg_rel}: kept, found through {egg.split('-')[0]}.pth")
            continue
        moved = _flatten(prefix, sp, egg, out, problems)
        if moved:
            log.append(f"{egg_rel}: flattened into {sp}")
    return tuple(sorted(dict.fromkeys(out))), tuple(log), tuple(problems)


def _flatten(prefix: Path, sp: str, egg: str, files: list[str], problems: list[str]) -> bool:
    """Move an egg dir's contents up into site-packages, updating ``files`` in place."""
    egg_rel = f"{sp}/{egg}"
    members = [f for f in files if f.startswith(egg_rel + "/")]
    renames: dict[str, str] = {}
    for rel in members:
        inner = rel[len(egg_rel) + 1:]
        head, _, tail = inner.partition("/")
        if head == "__pycache__":  # compiled for the egg's layout: dropped, as conda-build does
            renames[rel] = ""
            continue
        new_head = f"{egg}-info" if head == "EGG-INFO" else head
        renames[rel] = posixpath.join(sp, new_head, tail) if tail else f"{sp}/{new_head}"
    clashes = sorted(new for new in renames.values() if new and (prefix / new).exists() and new not in members)
    if clashes:
        problems.append(f"{egg_rel}: flattening it would overwrite {', '.join(clashes)}; "
                        f"set build/preserve_egg_dir: true or remove the file in the build script")
        return False
    for old, new in renames.items():
        files.remove(old)
        if new:
            (prefix / new).parent.mkdir(parents=True, exist_ok=True)
            (prefix / old).replace(prefix / new)
            files.append(new)
    shutil.rmtree(prefix / egg_rel, ignore_errors=True)
    return True
