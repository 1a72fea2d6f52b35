"""Real tools for the relocate tests: cross compiler, qemu, a minimal package writer, py-rattler.

Packages are written with the package stage's writer (tasks/condapkg.py).
"""
from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
from pathlib import Path
from typing import Iterable, Sequence

import pytest

from tasks.condapkg import IndexMeta, PrefixEntry, create_archive, write_info
from tasks.model import Build, Recipe, Requirements
from tasks.paths import Layout
from tasks.prefix_files import copy_files
from tasks.relocate import PostBuildResult
from tasks.settings import Settings

CROSS_CC = "aarch64-linux-gnu-gcc"
SYSROOT = Path("/usr/aarch64-linux-gnu")
BINFMT = Path("/proc/sys/fs/binfmt_misc/qemu-aarch64")

# Without the toolchain these tests fail (setup is incomplete); they never skip.
needs_cross = pytest.mark.usefixtures("cross_toolchain")
needs_qemu = pytest.mark.usefixtures("cross_toolchain")


def binfmt_active() -> bool:
    """Whether the kernel runs aarch64 ELF files (and scripts with aarch64 interpreters) directly."""
    try:
        return BINFMT.read_text().startswith("enabled")
    except OSError:
        return False


def host_prefix(tmp_path: Path, name: str = "demo") -> Path:
    """The 255-character padded host prefix the stages use, under a tmp cache."""
    prefix = Layout(tmp_path / "cache").host_prefix(name)
    prefix.mkdir(parents=True)
    return prefix


def settings(tmp_path: Path, **changes) -> Settings:
    values = dict(root=tmp_path, recipes_dir=tmp_path / "recipes", cache_dir=tmp_path / "cache",
                  target_platform="linux-aarch64", build_platform="linux-64")
    values.update(changes)
    return Settings(**values)


def recipe(tmp_path: Path, name: str = "demo", *, run: Sequence[str] = (), host: Sequence[str] = (),
           link_scripts: dict[str, str] | None = None, **build) -> Recipe:
    from tasks.model import Frozen
    return Recipe(name=name, version="1.0", recipe_dir=tmp_path, meta_path=tmp_path / "meta.yaml",
                  build=Build(**build), requirements=Requirements(host=tuple(host), run=tuple(run)),
                  link_scripts=Frozen(link_scripts or {}))


def compile_c(out: Path, source: str, *args: str, cc: str = CROSS_CC, name: str = "src.c") -> Path:
    """Compile one C source (text) to ``out`` with ``cc``."""
    out.parent.mkdir(parents=True, exist_ok=True)
    src = out.parent / f".{out.name}.{name}"
    src.write_text(source)
    subprocess.run([cc, "-o", str(out), str(src), *args], check=True, capture_output=True)
    src.unlink()
    return out


def run_aarch64(argv: Sequence[str], env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    """Run an aarch64 program: directly through binfmt_misc, else under qemu with the sysroot."""
    env = {"PATH": "/usr/bin:/bin", **(env or {})}
    cmd = list(argv) if binfmt_active() else ["qemu-aarch64", "-L", str(SYSROOT), *argv]
    return subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=60)


def new_files(prefix: Path) -> list[str]:
    out = []
    for root, dirs, files in os.walk(prefix):
        for name in files + [d for d in dirs if os.path.islink(os.path.join(root, d))]:
            out.append(os.path.relpath(os.path.join(root, name), prefix))
    return sorted(out)


def make_package(prefix: Path, result: PostBuildResult, out_dir: Path, *, name: str = "demo",
                 version: str = "1.0", subdir: str = "linux-aarch64", depends: Iterable[str] = ()) -> Path:
    """A .tar.bz2 conda package of ``result.files``, written by the package stage's writer."""
    stage = out_dir / f".stage-{name}"
    shutil.rmtree(stage, ignore_errors=True)
    copy_files(prefix, stage, result.files)
    index = IndexMeta(name=name, version=version, build="h0_0", build_number=0, subdir=subdir,
                      depends=tuple(sorted(set(depends) | set(result.extra_run_requirements))),
                      license="MIT", timestamp=1700000000000)
    entries = [PrefixEntry(p.path, p.placeholder, p.file_mode) for p in result.prefix_files]
    info_files = write_info(stage, index, result.files, entries, {}, no_link=result.no_link)
    out_dir.mkdir(parents=True, exist_ok=True)
    out = out_dir / f"{index.stem}.tar.bz2"
    create_archive(stage, result.files, info_files, out, stem=index.stem, fmt=".tar.bz2",
                   mtime=1700000000)
    shutil.rmtree(stage)
    return out


def install(channel: Path, specs: Sequence[str], target: Path, pkgs_cache: Path, *,
            glibc: str = "2.36", platform: str = "linux-aarch64") -> list[str]:
    """Index ``channel``, solve ``specs`` for ``platform`` with __glibc ``glibc``, install into ``target``."""
    import rattler
    from rattler import BuildString, Channel, GenericVirtualPackage, PackageName, Version

    async def go() -> list[str]:
        await rattler.index.index_fs(channel, write_zst=False, write_shards=False)
        virtual = [GenericVirtualPackage(PackageName(n), Version(v), BuildString("0"))
                   for n, v in (("__glibc", glibc), ("__unix", "0"), ("__linux", "6.1"))]
        records = await rattler.solve(sources=[Channel(channel.as_uri())], specs=list(specs),
                                      platforms=[platform, "noarch"], virtual_packages=virtual)
        await rattler.install(records, target, cache_dir=pkgs_cache, platform=rattler.Subdir(platform),
                              show_progress=False)
        return [r.name.normalized for r in records]

    return asyncio.run(go())
