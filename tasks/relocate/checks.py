"""Checks of the built ELF files: right machine, every DT_NEEDED provided, glibc floor.

Each finding names the file. Findings are problems (the package stage fails) unless the
recipe allowed them: build/missing_dso_whitelist for libraries, files left out of
build/binary_relocation for foreign binaries.
"""
from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass, field
from typing import Iterable, Mapping, Sequence

from .elf import TARGET_MACHINES, ElfInfo, GlibcFloor, version_key
from .globs import matches

# What conda-build's Linux sysroot whitelist holds: the C library of the target system.
GLIBC_LIBRARIES = frozenset({
    "libc.so.6", "libm.so.6", "libdl.so.2", "libpthread.so.0", "librt.so.1", "libutil.so.1",
    "libresolv.so.2", "libnsl.so.1", "libanl.so.1", "libcrypt.so.1", "libBrokenLocale.so.1",
    "libmvec.so.1", "libthread_db.so.1", "libc_malloc_debug.so.0", "libnss_files.so.2",
    "libnss_dns.so.2", "libnss_compat.so.2",
    "ld-linux-aarch64.so.1", "ld-linux-x86-64.so.2", "ld64.so.2", "ld-linux.so.2",
    "ld-linux-armhf.so.3", "ld64.so.1",
})
# The GCC runtime of the system cross toolchain this stack builds with. conda-forge gets
# these from libgcc-ng/libstdcxx-ng; no package of this stack provides them, so like the
# C library they are the target system's (a run requirement that ships them also counts).
TOOLCHAIN_RUNTIME = frozenset({"libgcc_s.so.1", "libstdc++.so.6"})
SYSTEM_LIBRARIES = GLIBC_LIBRARIES | TOOLCHAIN_RUNTIME

PYTHON_EXTENSION = re.compile(r"(^|/)(site-packages|lib-dynload)/.*\.so$|\.cpython-\d+[^/]*\.so$")
SELF = "this package"
MAX_SYMBOLS_SHOWN = 8
HOST = "host prefix"


@dataclass(frozen=True)
class Finding:
    path: str
    message: str
    problem: bool = True                # False: reported as a warning

    def __str__(self) -> str:
        return f"{self.path}: {self.message}"


@dataclass(frozen=True)
class Library:
    path: str                           # relative path of the providing file
    provider: str                       # package name, SELF or HOST


@dataclass(frozen=True)
class LibraryIndex:
    """Where each library file name can be found: the package, its run requirements, the host."""

    by_name: Mapping[str, tuple[Library, ...]] = field(default_factory=dict)

    @classmethod
    def build(cls, own: Iterable[str], dependencies: Mapping[str, Sequence[str]] = {},
              host: Iterable[str] = ()) -> LibraryIndex:
        found: dict[str, list[Library]] = {}
        sources = [(SELF, own), *dependencies.items(), (HOST, host)]
        for provider, files in sources:
            for rel in files:
                found.setdefault(posixpath.basename(rel.rstrip("/")), []).append(Library(rel, provider))
        return cls({k: tuple(v) for k, v in found.items()})

    def find(self, soname: str) -> tuple[Library, ...]:
        return self.by_name.get(posixpath.basename(soname), ())


def check_arch(path: str, info: ElfInfo, target_platform: str, allowed: bool = False) -> Finding | None:
    """An ELF file for another machine cannot run on the target."""
    expected = TARGET_MACHINES.get(target_platform)
    if expected is None or (info.machine, info.bits) == expected:
        return None
    return Finding(path, f"ELF file for {info.machine} ({info.bits}-bit), but the package is for "
                         f"{target_platform} ({expected[0]}, {expected[1]}-bit)"
                         + (" (left alone: not in build/binary_relocation)" if allowed else
                            "\n    hint: " + wrong_arch_hint(path)),
                   problem=not allowed)


def wrong_arch_hint(path: str) -> str:
    """How a file for the build machine got into a target package, and the fix."""
    if PYTHON_EXTENSION.search(path):
        return ("a Python extension built with the build machine's compiler and python: build it with "
                "`$PYTHON -m pip install . --no-deps --no-build-isolation` ($PYTHON is the cross "
                "environment's python, which compiles with $CC for the target), never `python` or "
                "`pip` from PATH outside the build prefix, and put python in requirements/host")
    return ("built with the build machine's compiler: compile with $CC/$CXX (the cross compilers "
            "build.sh gets), and pass --host=$HOST --build=$BUILD to configure")


def check_linkage(path: str, info: ElfInfo, dirs: Sequence[str], index: LibraryIndex,
                  whitelist: Sequence[str] = ()) -> tuple[Finding, ...]:
    """Every DT_NEEDED must come from the package, a run requirement or the system (overlinking)."""
    findings: list[Finding] = []
    for soname in info.needed:
        if soname in SYSTEM_LIBRARIES:
            continue
        candidates = index.find(soname)
        runtime = [c for c in candidates if c.provider != HOST]
        if any(posixpath.dirname(c.path) in dirs for c in runtime):
            continue
        names = [soname, f"$RPATH/{soname}", *(c.path for c in candidates)]
        if any(matches(n, whitelist) for n in names):
            findings.append(Finding(path, f"needs {soname}: allowed by build/missing_dso_whitelist", False))
        elif runtime:
            where = ", ".join(f"{c.path} ({c.provider})" for c in runtime)
            searched = ", ".join(dirs) or "no directory of the prefix"
            findings.append(Finding(path, f"needs {soname}, found at {where} but its search path "
                                          f"covers {searched}: it may not load", False))
        elif candidates:
            where = ", ".join(c.path for c in candidates)
            findings.append(Finding(path, f"overlinking: needs {soname}, which only the host prefix provides "
                                          f"({where}); add the package that provides it to requirements/run"))
        else:
            findings.append(Finding(path, f"needs {soname}, which neither this package, its run requirements "
                                          f"nor the target system provide (build/missing_dso_whitelist "
                                          f"allows it)"))
    return tuple(findings)


def check_glibc(path: str, floor: GlibcFloor | None, max_glibc: str) -> Finding | None:
    """A configured maximum glibc turns every newer symbol version into an error that names
    the file, each such symbol and its version (newest first)."""
    if floor is None or not max_glibc or floor.key <= version_key(max_glibc):
        return None
    newer = floor.above(max_glibc) or ((floor.symbol, floor.version),)
    shown = ", ".join(f"{s}@GLIBC_{v}" if s else f"GLIBC_{v}" for s, v in newer[:MAX_SYMBOLS_SHOWN])
    more = f" and {len(newer) - MAX_SYMBOLS_SHOWN} more" if len(newer) > MAX_SYMBOLS_SHOWN else ""
    noun = "symbol" if len(newer) == 1 else "symbols"
    return Finding(path, f"needs glibc {floor.version} ({noun} {shown}{more}), newer than max_glibc {max_glibc}")


def glibc_requirement(floors: Iterable[GlibcFloor | None]) -> str | None:
    """The run requirement the newest floor asks for, e.g. ``__glibc >=2.34``."""
    present = [f for f in floors if f is not None]
    if not present:
        return None
    return f"__glibc >={max(present, key=lambda f: f.key).version}"
