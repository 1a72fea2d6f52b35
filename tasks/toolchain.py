"""The build machine's side of a build: compilers and tools that `build:` requirements name.

`{{ compiler('c') }}` renders to `gcc_<target>`; here such names resolve to the configured
cross (or native) toolchain, and plain tools (make, perl...) to programs on the build
machine. A missing tool is an error naming the Debian package that provides it.
"""
from __future__ import annotations

import re
import shutil
import subprocess
from dataclasses import dataclass
from functools import lru_cache

from .errors import CondoitError
from .model import Recipe, spec_name
from .settings import Settings

# compiler package prefixes (conda-build names) -> (tool suffix, Debian package stem)
COMPILERS: dict[str, tuple[str, str]] = {
    "gcc": ("gcc", "gcc"),
    "c": ("gcc", "gcc"),
    "gxx": ("g++", "g++"),
    "cxx": ("g++", "g++"),
    "gfortran": ("gfortran", "gfortran"),
    "fortran": ("gfortran", "gfortran"),
}
# conda-forge build requirements that a Debian cross toolchain already covers
IMPLIED = re.compile(r"^(sysroot|kernel-headers|binutils|ld_impl|libgcc|libstdcxx|_openmp_mutex|"
                     r"c-compiler|cxx-compiler|fortran-compiler|c-stdlib|compiler-rt)([_-].*)?$")
COMPILER_NAME = re.compile(r"^(?P<lang>[a-z+]+)_(?P<platform>linux-[a-z0-9_]+)$")


@dataclass(frozen=True)
class BuildTools:
    """What the build requirements resolved to."""

    system: tuple[str, ...]          # build-machine commands found (for the signature)
    stack: tuple[str, ...]           # build requirements built by recipes of the stack


def triplet_tool(triplet: str, tool: str) -> str:
    return f"{triplet}-{tool}"


def debian_cross_package(triplet: str, stem: str) -> str:
    return f"{stem}-{triplet.replace('_', '-')}"


@lru_cache(maxsize=None)
def tool_version(command: str) -> str:
    """First line of `command --version` (part of compile signatures, cached per process)."""
    try:
        out = subprocess.run([command, "--version"], capture_output=True, text=True, timeout=20)
    except (OSError, subprocess.SubprocessError):
        return ""
    return (out.stdout or out.stderr).splitlines()[0].strip() if (out.stdout or out.stderr) else ""


def resolve_build_requirements(recipe: Recipe, settings: Settings, stack_packages: set[str]) -> BuildTools:
    """Map every build requirement to a tool of the build machine or a stack recipe."""
    system: list[str] = []
    stack: list[str] = []
    missing: list[str] = []
    for spec in recipe.requirements.build + tuple(s for o in recipe.outputs for s in o.requirements.build):
        name = spec_name(spec)
        match = COMPILER_NAME.match(name)
        if match and match.group("lang") in COMPILERS:
            tool, stem = COMPILERS[match.group("lang")]
            triplet = settings.target_triplet
            command = triplet_tool(triplet, tool)
            if shutil.which(command) is None:
                missing.append(f"{name}: needs `{command}` (apt-get install {debian_cross_package(triplet, stem)})")
            else:
                system.append(command)
            continue
        if IMPLIED.match(name):
            continue
        if name in stack_packages:    # installed into the build prefix, built for the build platform (tasks/plan.py)
            stack.append(name)
            continue
        if name in settings.system_tools:
            command, package = settings.system_tools[name]
            if shutil.which(command) is None:
                missing.append(f"{name}: needs `{command}` on the build machine (apt-get install {package})")
            else:
                system.append(command)
            continue
        missing.append(f"{name}: neither a compiler, a known build-machine tool, nor a recipe of the stack; "
                       f"add it to the `system_tools` setting ([tool.condoit] in pyproject.toml or "
                       f"condoit.yaml) as {name} = [command, debian-package]")
    if missing:
        raise CondoitError(f"[{recipe.name}] build requirements cannot be met:\n  " + "\n  ".join(missing))
    return BuildTools(tuple(dict.fromkeys(system)), tuple(dict.fromkeys(stack)))


def toolchain_identity(tools: BuildTools) -> dict[str, str]:
    """Versions of the build-machine tools used (a compiler upgrade re-runs compile)."""
    return {command: tool_version(command) for command in tools.system if command != "true"}
