"""The environment of build.sh: conda-build's variables plus what a cross build needs.

Nothing from the user's shell leaks in except what cannot change the result (HOME, TERM).
"""
from __future__ import annotations

import os
import shlex
from pathlib import Path

from .crosspython import cross_python, python_version, uses_python
from .model import Recipe
from .settings import Settings
from .toolchain import select_toolchain

SYSTEM_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
ARCH = {"linux-aarch64": "aarch64", "linux-64": "64", "linux-32": "32", "linux-ppc64le": "ppc64le",
        "linux-armv7l": "armv7l"}


def build_environment(recipe: Recipe, settings: Settings, *, src_dir: Path, prefix: Path,
                      build_prefix: Path, pkg_hash: str, build_string: str,
                      source_date_epoch: int) -> dict[str, str]:
    """All variables build.sh sees (also written into the re-entry script)."""
    target, build = settings.target_platform, settings.build_platform
    toolchain = select_toolchain(settings)
    host_triplet, build_triplet = toolchain.host, toolchain.build
    p, s = str(prefix), str(src_dir)
    env: dict[str, str] = {
        "PATH": f"{build_prefix}/bin:{SYSTEM_PATH}",
        "HOME": os.environ.get("HOME", "/root"),
        "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8", "TZ": "UTC", "SHELL": "/bin/bash",
        "TERM": os.environ.get("TERM", "dumb"),
        "CONDA_BUILD": "1", "CONDA_BUILD_STATE": "BUILD",
        "SRC_DIR": s, "PREFIX": p, "BUILD_PREFIX": str(build_prefix),
        "RECIPE_DIR": str(recipe.recipe_dir),
        "PKG_NAME": recipe.name, "PKG_VERSION": recipe.version,
        "PKG_BUILDNUM": str(recipe.build.number), "PKG_BUILD_STRING": build_string,
        "PKG_HASH": pkg_hash,
        "CPU_COUNT": str(settings.cpu_count), "MAKEFLAGS": f"-j{settings.cpu_count}",
        "ARCH": ARCH.get(target, target.split("-")[-1]),
        "SUBDIR": target, "target_platform": target, "build_platform": build,
        "HOST": host_triplet, "BUILD": build_triplet, "CONDA_TOOLCHAIN_HOST": host_triplet,
        "CONDA_TOOLCHAIN_BUILD": build_triplet,
        "CONDA_BUILD_CROSS_COMPILATION": "1" if settings.cross else "0",
        "PKG_CONFIG_PATH": f"{p}/lib/pkgconfig:{p}/share/pkgconfig",
        "PKG_CONFIG_LIBDIR": f"{p}/lib/pkgconfig:{p}/share/pkgconfig",
        "LD_RUN_PATH": f"{p}/lib",
        "SOURCE_DATE_EPOCH": str(source_date_epoch),
        "CFLAGS": f"-ftree-vectorize -fPIC -fstack-protector-strong -O2 -pipe -isystem {p}/include "
                  # debug info and __FILE__ name no work or cache path (reproducible bytes)
                  f"-ffile-prefix-map={s}=/usr/local/src/conda/{recipe.name}-{recipe.version} "
                  f"-ffile-prefix-map={p}=/usr/local/src/conda-prefix",
        "CPPFLAGS": f"-DNDEBUG -D_FORTIFY_SOURCE=2 -O2 -isystem {p}/include",
        "LDFLAGS": toolchain.ldflags(p),
        "CMAKE_ARGS": toolchain.cmake_args(p, build_prefix),
    }
    env["CXXFLAGS"] = env["CFLAGS"] + " -fvisibility-inlines-hidden"
    env["FFLAGS"] = env["CFLAGS"]
    env["DEBUG_CFLAGS"] = env["CFLAGS"].replace("-O2", "-Og -g")
    env.update(toolchain.tool_variables())
    if settings.cross or toolchain.kind == "zig":
        env["CONDA_BUILD_SYSROOT"] = toolchain.sysroot(build_prefix)
    if settings.cross:
        env["QEMU_LD_PREFIX"] = f"/usr/{toolchain.system_host}"   # runs target programs under qemu
    if uses_python(recipe):
        # conda-build's names; in a cross build $PYTHON is the build machine's python set up
        # to build for the target (tasks/crosspython.py), natively it is the host's own
        py_ver = python_version(recipe, settings)
        cross = cross_python(recipe, settings, prefix, build_prefix)
        if cross is not None:
            env.update(cross.environment(env.get("CC"), env.get("CPPFLAGS", "")))
        # conda-build's pip settings: nothing from the index, no dependencies, no isolation
        # (pip's double negative), build tools from the host prefix
        env.update({"PIP_NO_INDEX": "True", "PIP_NO_DEPENDENCIES": "True", "PIP_IGNORE_INSTALLED": "True",
                    "PIP_NO_BUILD_ISOLATION": "False", "PIP_DISABLE_PIP_VERSION_CHECK": "True"})
        env.update({
            "PY_VER": py_ver, "PY3K": "1" if py_ver.startswith("3") else "0",
            "PYTHON": f"{p}/bin/python", "STDLIB_DIR": f"{p}/lib/python{py_ver}",
            "SP_DIR": f"{p}/lib/python{py_ver}/site-packages", "CONDA_PY": py_ver.replace(".", ""),
        })
    env["NPY_VER"] = settings.numpy
    for item in recipe.build.script_env:
        key, _, value = item.partition("=")
        if value or key in os.environ:
            env[key] = value if value else os.environ[key]
    return env


def reentry_script(env: dict[str, str], script: Path, src_dir: Path) -> str:
    """A script that re-enters the exact build environment (like conda-build's conda_build.sh)."""
    lines = ["#!/bin/bash", "# Re-enter the build environment of this recipe.",
             "# `bash this_script` re-runs the build; `bash this_script --shell` opens a shell.",
             'if [ -z "${CONDOIT_REENTERED:-}" ]; then exec env -i CONDOIT_REENTERED=1 bash "$0" "$@"; fi']
    for key in sorted(env):
        lines.append(f"export {key}={shlex.quote(env[key])}")
    lines.append(f"cd {shlex.quote(str(src_dir))}")
    lines.append('if [ "${1:-}" = "--shell" ]; then exec bash --norc -i; fi')
    lines.append(f"exec bash -x -e {shlex.quote(str(script))}")
    return "\n".join(lines) + "\n"
