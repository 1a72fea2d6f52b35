"""The build machine's side of a build: the toolchain, and the tools `build:` requirements name.

`{{ compiler('c') }}` renders to `gcc_<target>`; here such names resolve to the selected
toolchain (the `toolchain` setting), and plain tools (make, perl...) to programs on the
build machine. A missing tool is an error naming the package that provides it.

Two toolchains:

- ``gnu``: Debian's cross compiler (`aarch64-linux-gnu-gcc` ...), used by name. Its
  binaries need the glibc of Debian's cross sysroot (2.36; `__libc_start_main` makes every
  executable need GLIBC_2.34). The native default.
- ``zig``: `zig cc` / `zig c++` from the ``ziglang`` Python package, targeting
  ``<arch>-linux-gnu.<glibc>``: Zig links against stubs of that glibc release, so a binary
  references only symbol versions up to it (a newer function is an undefined symbol at
  link time, which is also what configure's link tests see). The cross default. C++ links
  Zig's LLVM libc++/libc++abi *statically* (no libstdc++.so.6 or libc++.so at run time).
  Compile installs wrapper scripts with conda-forge's names into the build prefix
  (`aarch64-conda-linux-gnu-cc`, `-c++`, `-cpp`, `-ar`, `-ranlib`, `-ld`, ...; the binutils
  ones, `-nm`, `-strip`, `-objdump` ..., run Debian's aarch64 binutils) and
  `x86_64-conda-linux-gnu-cc` ... for the build machine (its gcc). Zig keeps its libc
  stubs, crt files and libc++ in the `zig_cache` setting (per user, shared by all caches).
"""
from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import re
import shlex
import shutil
import subprocess
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Callable

from .errors import CondoitError
from .fsutil import file_version, write_json_atomic
from .model import Recipe, spec_name
from .paths import Layout
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
# cross-python_<subdir>: conda-forge's cross-python setup, which the engine does itself (tasks/crosspython.py)
IMPLIED = re.compile(r"^(sysroot|kernel-headers|binutils|ld_impl|libgcc|libstdcxx|_openmp_mutex|"
                     r"c-compiler|cxx-compiler|fortran-compiler|c-stdlib|compiler-rt|cross-python)([_-].*)?$")
COMPILER_NAME = re.compile(r"^(?P<lang>[a-z+]+)_(?P<platform>linux-[a-z0-9_]+)$")


@dataclass(frozen=True)
class BuildTools:
    """What the build requirements resolved to."""

    system: tuple[str, ...]          # build-machine commands found (for the signature)
    stack: tuple[str, ...]           # build requirements built by recipes of the stack
    toolchain: Toolchain | None = field(default=None, compare=False)   # CC, CXX ... of this build


def triplet_tool(triplet: str, tool: str) -> str:
    return f"{triplet}-{tool}"


def debian_cross_package(triplet: str, stem: str) -> str:
    return f"{stem}-{triplet.replace('_', '-')}"


@lru_cache(maxsize=None)
def tool_version(command: str, memo: Path | None = None) -> str:
    """First line of `command --version` (part of compile signatures, cached per process).

    ``memo``: see ``_remembered`` (a no-op `doit` runs no process).
    """
    return _remembered(memo, command, shutil.which(command), lambda: _ask_version(command))


def _remembered(memo: Path | None, key: str, program: str | None, ask: Callable[[], str]) -> str:
    """``ask()``, or its earlier answer for the same binary: ``memo`` (``Layout.tool_versions``)
    keeps each answer with the ``fsutil.file_version`` of the file ``program`` resolves to; a
    changed, moved or re-linked binary (or another one first on PATH) is asked again."""
    real = os.path.realpath(program) if program else ""
    version = file_version(real) if real else None
    if memo is None or version is None:
        return ask()
    seen = [program, real, list(version)]
    known = _read_memo(memo)
    entry = known.get(key)
    if isinstance(entry, dict) and entry.get("binary") == seen:
        return str(entry.get("version", ""))
    answer = ask()
    known[key] = {"binary": seen, "version": answer}
    try:
        write_json_atomic(memo, known)
    except OSError:   # a read-only cache: asked again next time
        pass
    return answer


def _read_memo(memo: Path) -> dict[str, Any]:
    try:
        data = json.loads(memo.read_text())
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _ask_version(command: str) -> str:
    try:
        out = subprocess.run([command, "--version"], capture_output=True, text=True, timeout=20)
    except (OSError, subprocess.SubprocessError):
        return ""
    return (out.stdout or out.stderr).splitlines()[0].strip() if (out.stdout or out.stderr) else ""


# build.sh's tool variables -> the tool name after "<triplet>-" (conda-forge's names for zig)
GNU_TOOLS = {"CC": "gcc", "CXX": "g++", "CPP": "cpp", "AR": "ar", "AS": "as", "LD": "ld", "NM": "nm",
             "RANLIB": "ranlib", "STRIP": "strip", "OBJCOPY": "objcopy", "OBJDUMP": "objdump",
             "READELF": "readelf", "FC": "gfortran", "GFORTRAN": "gfortran", "CXXFILT": "c++filt",
             "ADDR2LINE": "addr2line", "ELFEDIT": "elfedit", "GCC": "gcc", "GXX": "g++",
             "GCC_AR": "gcc-ar", "GCC_NM": "gcc-nm", "GCC_RANLIB": "gcc-ranlib", "SIZE": "size",
             "STRINGS": "strings"}
ZIG_TOOLS = dict(GNU_TOOLS, CC="cc", CXX="c++", CLANG="clang", CLANGXX="clang++")
# wrapper name -> zig subcommand (C and C++ compile with the target; the rest as they are)
ZIG_COMMANDS = {"cc": "cc", "gcc": "cc", "clang": "cc", "cpp": "cc", "c++": "c++", "g++": "c++",
                "clang++": "c++", "ar": "ar", "gcc-ar": "ar", "ranlib": "ranlib", "gcc-ranlib": "ranlib",
                "ld": "ld.lld", "ld.lld": "ld.lld"}
# wrapper name -> the target's binutils program (Zig has none of these)
BINUTILS = ("nm", "gcc-nm", "strip", "objcopy", "objdump", "readelf", "as", "addr2line", "c++filt",
            "size", "strings", "elfedit")
BUILD_MACHINE_TOOLS = ("cc", "gcc", "cpp", "c++", "g++", "ar", "ranlib", "nm", "strip", "ld",
                       "objcopy", "objdump", "readelf", "as")
BUILD_MACHINE_NAMES = {"cc": "gcc", "c++": "g++"}   # Debian has x86_64-linux-gnu-gcc, not -cc

# The C/C++ wrapper. Zig emits debug info unless told not to, and its crt files and libc++
# (built once into its cache) carry debug info naming Zig's install and the directory of the
# call that built them: a link without -g strips it (lld --strip-debug; Zig strips all), so the
# bytes do not depend on where or when the cache was filled. Zig refuses linker options it does
# not implement, even harmless ones: in `-Wl,` lists, GNU ld's `-stats` is dropped and `-lc`
# (both in ncurses' shared-library rule) is passed to the driver instead. Zig takes a `.so`
# input for a shared library: an object file named so (readline's and bash's shobj-conf name
# their PIC objects `*.so`) is linked through a `.o` symlink instead. Queries
# (`-print-search-dirs`, libtool's) get the target without the glibc suffix, which clang's own
# triple parser refuses; `-dumpmachine` answers HOST.
# A compile to an object (`-c`) goes through ccache when the toolchain has a compiler cache: the
# wrapper calls ccache with itself as the compiler (CONDOIT_IN_CCACHE: the inner call runs zig).
# condoit compiles every package at the same padded path, so after a patch edit the sources it
# did not change hit the cache. Depend mode (the compiler's own -MD file) runs no preprocessor on
# a miss; the tree is a fresh copy, so the header ctime/mtime checks are relaxed (the content is
# still hashed); the compiler is named by the zig binary's file version and the wrappers' digest,
# not the wrapper's mtime. Every compile of C or C++ to an object writes a dependency file (a
# scratch one when the build asks for none), cache or not: zig's object bytes differ with and
# without one. `zig cc -c a.c b.c` writes only a.o (ziglang/zig#7547): the wrapper compiles
# several sources without -o one call at a time, as gcc and clang do in one.
COMPILER_WRAPPER = """#!/bin/sh
# condoit's zig toolchain ({what}); written by tasks/toolchain.py, do not edit.
ZIG_GLOBAL_CACHE_DIR={cache}; ZIG_LOCAL_CACHE_DIR={cache}
export ZIG_GLOBAL_CACHE_DIR ZIG_LOCAL_CACHE_DIR
set -f
target={target} link=yes debug=no n=$# sources=0 ccache_dir={ccache_dir}
for arg in "$@"; do
  case "$arg" in
    -dumpmachine) echo {host}; exit 0 ;;
    -print-*|--print-*) link=no target={query_target} ;;
    -c) link=no compile=${{compile:-yes}} ;;
    -S|-E|-M|-MM|-fsyntax-only|-v|--version|-dumpversion|-dumpfullversion) link=no compile=no ;;
    -MD|-MMD) deps=given ;;
    -g0|-ggdb0) debug=no ;;
    -g|-g[123]|-ggdb*|-gdwarf*|-gline-tables-only) debug=yes ;;
    -Wl,*,-stats|-Wl,*,-stats,*|-Wl,-stats,*|-Wl,-stats|-Wl,-lc|-Wl,-lc,*|-Wl,*,-lc|-Wl,*,-lc,*)
      items=${{arg#-Wl,}} arg=-Wl IFS=,
      for item in $items; do
        case "$item" in
          -stats) ;;
          -lc) set -- "$@" -lc ;;
          *) arg="$arg,$item" ;;
        esac
      done
      unset IFS
      [ "$arg" = -Wl ] && continue ;;
    -o|-o?*) output=yes ;;
    [!-]*.s) deps=none sources=$((sources + 1)) ;;      # plain assembly: clang warns that -MD is unused
    [!-]*.c|[!-]*.cc|[!-]*.cpp|[!-]*.cxx|[!-]*.c++|[!-]*.C|[!-]*.S|[!-]*.m|[!-]*.i|[!-]*.ii) sources=$((sources + 1)) ;;
    *.so)
      if [ -f "$arg" ] && [ "$(od -An -j16 -N1 -tu1 "$arg" 2>/dev/null | tr -d ' ')" = 1 ]; then
        [ -n "${{objdir:-}}" ] || objdir=$(mktemp -d "${{TMPDIR:-/tmp}}/condoit-zig-objects.XXXXXX")
        case "$arg" in /*) real=$arg ;; *) real=$PWD/$arg ;; esac
        arg="$objdir/$#-${{arg##*/}}.o"
        ln -s "$real" "$arg"
      fi ;;
  esac
  set -- "$@" "$arg"
done
shift "$n"
if [ "$link" = yes ] && [ "$debug" = no ]; then set -- "$@" -Wl,--strip-debug; fi
if [ "${{compile:-}}" = yes ] && [ "$sources" -gt 1 ] && [ -z "${{output:-}}" ]; then
  for source in "$@"; do    # zig cc -c compiles only the first of several sources: one call each
    case "$source" in [!-]*.[cCSsmi]|[!-]*.cc|[!-]*.cpp|[!-]*.cxx|[!-]*.c++|[!-]*.ii) ;; *) continue ;; esac
    (
      n=$#
      for arg in "$@"; do
        case "$arg" in [!-]*.[cCSsmi]|[!-]*.cc|[!-]*.cpp|[!-]*.cxx|[!-]*.c++|[!-]*.ii) [ "$arg" = "$source" ] || continue ;; esac
        set -- "$@" "$arg"
      done
      shift "$n"
      exec "$0" "$@"
    ) || exit $?
  done
  exit 0
fi
if [ "${{compile:-}}" = yes ] && [ -z "${{CONDOIT_IN_CCACHE:-}}" ]; then
  if [ -n "$ccache_dir" ]; then
    CCACHE_DIR=$ccache_dir CCACHE_COMPILERTYPE=clang CCACHE_COMPILERCHECK={ccache_check} CCACHE_DEPEND=1
    CCACHE_SLOPPINESS=include_file_ctime,include_file_mtime CONDOIT_IN_CCACHE=1
    export CCACHE_DIR CCACHE_COMPILERTYPE CCACHE_COMPILERCHECK CCACHE_DEPEND CCACHE_SLOPPINESS CONDOIT_IN_CCACHE
    set -- {ccache} "$0" "$@"
  else
    set -- {zig} {command} -target "$target" -g0{extra} "$@"
  fi
  if [ -n "${{deps:-}}" ]; then exec "$@"; fi
  depfile="${{TMPDIR:-/tmp}}/condoit-deps-$$.d"
  "$@" -MD -MF "$depfile"
  status=$?
  rm -f "$depfile"
  exit "$status"
fi
if [ -z "${{objdir:-}}" ]; then exec {zig} {command} -target "$target" -g0{extra} "$@"; fi
{zig} {command} -target "$target" -g0{extra} "$@"
status=$?
rm -rf "$objdir"
exit "$status"
"""
TOOL_WRAPPER = """#!/bin/sh
# condoit's zig toolchain ({what}); written by tasks/toolchain.py, do not edit.
ZIG_GLOBAL_CACHE_DIR={cache}; ZIG_LOCAL_CACHE_DIR={cache}
export ZIG_GLOBAL_CACHE_DIR ZIG_LOCAL_CACHE_DIR
exec {zig} {command} "$@"
"""
EXEC_WRAPPER = """#!/bin/sh
# condoit's zig toolchain ({what}); written by tasks/toolchain.py, do not edit.
exec {program} "$@"
"""
# What the wrappers do enters compile signatures (a changed wrapper re-runs compile).
WRAPPERS_DIGEST = hashlib.sha256((COMPILER_WRAPPER + TOOL_WRAPPER + EXEC_WRAPPER + repr(ZIG_COMMANDS)
                                  + repr(BINUTILS)).encode()).hexdigest()[:16]


def conda_triplet(triplet: str) -> str:
    """Debian's `aarch64-linux-gnu` -> conda-forge's `aarch64-conda-linux-gnu`."""
    arch, _, rest = triplet.partition("-")
    return f"{arch}-conda-{rest}"


@lru_cache(maxsize=None)
def zig_binary() -> Path | None:
    """The zig executable of the installed ``ziglang`` package (not imported: no side effect;
    looked up once per process: every recipe's compile signature asks)."""
    spec = importlib.util.find_spec("ziglang")
    if spec is None or spec.origin is None:
        return None
    binary = Path(spec.origin).parent / "zig"
    return binary if binary.is_file() else None


@lru_cache(maxsize=None)
def zig_version(binary: str, memo: Path | None = None) -> str:
    """Zig's version (``memo``: see ``_remembered``; every `doit` call hashes it)."""
    return _remembered(memo, "zig version", binary or None, lambda: _ask_zig_version(binary))


def _ask_zig_version(binary: str) -> str:
    """The ``ziglang`` package's version when the binary is that package's (its metadata:
    `zig version` costs a process), else asked."""
    import importlib.metadata
    try:
        dist = importlib.metadata.distribution("ziglang")
        if Path(binary).resolve().is_relative_to(Path(dist.locate_file("ziglang")).resolve()):
            return dist.version
    except (importlib.metadata.PackageNotFoundError, OSError):
        pass
    try:
        out = subprocess.run([binary, "version"], capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.SubprocessError):
        return ""
    return out.stdout.strip()


MISSING_ZIG = ("the zig toolchain needs the `ziglang` Python package (a dependency of condoit: "
               "`bash scripts/setup.sh`, or pip install ziglang); or choose `toolchain: gnu`")


@dataclass(frozen=True)
class Toolchain:
    """The compilers build.sh gets: their names, flags and (zig) the wrappers behind them."""

    kind: str                  # "gnu" or "zig"
    host: str                  # HOST: aarch64-linux-gnu (gnu), aarch64-conda-linux-gnu (zig)
    build: str                 # BUILD
    system_host: str           # Debian's triplet of the target (binutils, qemu's sysroot)
    system_build: str          # Debian's triplet of the build machine
    cross: bool
    glibc: str = ""            # zig: the glibc release it links against
    zig: str = ""              # zig: the executable
    zig_cache: str = ""        # zig: its cache directory
    ccache: str = ""           # zig: ccache's executable ("": compiles are not cached)
    ccache_dir: str = ""       # zig: ccache's directory (Layout.compiler_cache)

    @property
    def zig_target(self) -> str:
        return f"{self.system_host.split('-')[0]}-linux-gnu.{self.glibc}"

    def tool(self, name: str) -> str:
        return f"{self.host}-{name}"

    def identity(self, memo: Path | None = None) -> dict[str, str]:
        """What the compiled bytes depend on (no path, no machine fact): the compile signature.
        ``memo``: see ``_remembered``."""
        if self.kind == "zig":
            return {"kind": "zig", "zig": zig_version(self.zig, memo), "target": self.zig_target,
                    "wrappers": WRAPPERS_DIGEST}
        return {"kind": "gnu", "target": self.host}

    def tool_variables(self) -> dict[str, str]:
        """CC, CXX, AR ... (names on PATH: the build prefix's wrappers, or Debian's tools)."""
        tools = ZIG_TOOLS if self.kind == "zig" else GNU_TOOLS
        env = {var: self.tool(name) for var, name in tools.items()}
        if self.kind == "zig":   # no Fortran in Zig: Debian's gfortran (its binaries need Debian's glibc)
            env["FC"] = env["GFORTRAN"] = f"{self.system_host}-gfortran"
        if self.kind == "zig" and self.cross:
            env["CC_FOR_BUILD"] = f"{self.build}-cc"
            env["CXX_FOR_BUILD"] = f"{self.build}-c++"
        else:
            env["CC_FOR_BUILD"] = f"{self.system_build}-gcc"
            env["CXX_FOR_BUILD"] = f"{self.system_build}-g++"
        return env

    def sysroot(self, build_prefix: Path) -> str:
        """CONDA_BUILD_SYSROOT: Debian's cross sysroot (gnu); for zig, conda-forge's place in the
        build prefix, which holds no libc (Zig brings its own headers and glibc stubs)."""
        if self.kind == "zig":
            return str(build_prefix / self.host / "sysroot")
        return f"/usr/{self.system_host}"

    def ldflags(self, prefix: str) -> str:
        rpath = f"-Wl,--disable-new-dtags -Wl,-rpath,{prefix}/lib"
        if self.kind == "zig":
            # lld: no -O2 (deprecated) or -rpath-link (unimplemented; both warn on every link);
            # version scripts may name symbols a configuration leaves out, as GNU ld allows
            return (f"-Wl,--sort-common -Wl,--as-needed -Wl,-z,relro -Wl,-z,now -Wl,--undefined-version "
                    f"{rpath} -L{prefix}/lib")
        return (f"-Wl,-O2 -Wl,--sort-common -Wl,--as-needed -Wl,-z,relro -Wl,-z,now "
                f"{rpath} -Wl,-rpath-link,{prefix}/lib -L{prefix}/lib")

    def cmake_args(self, prefix: str, build_prefix: Path) -> str:
        """CMAKE_ARGS as conda-forge's compiler activation writes them."""
        args = [f"-DCMAKE_AR={self.tool('ar')}", f"-DCMAKE_RANLIB={self.tool('ranlib')}", f"-DCMAKE_LINKER={self.tool('ld')}",
                f"-DCMAKE_STRIP={self.tool('strip')}", "-DCMAKE_BUILD_TYPE=Release",
                f"-DCMAKE_INSTALL_PREFIX={prefix}", "-DCMAKE_INSTALL_LIBDIR=lib",
                f"-DCMAKE_PROGRAM_PATH={build_prefix}/bin;{prefix}/bin"]
        if self.cross:
            arch = self.system_host.split("-")[0]
            args += ["-DCMAKE_SYSTEM_NAME=Linux", f"-DCMAKE_SYSTEM_PROCESSOR={arch}",
                     f"-DCMAKE_FIND_ROOT_PATH={prefix};{self.sysroot(build_prefix)}",
                     "-DCMAKE_FIND_ROOT_PATH_MODE_PROGRAM=NEVER", "-DCMAKE_FIND_ROOT_PATH_MODE_LIBRARY=ONLY",
                     "-DCMAKE_FIND_ROOT_PATH_MODE_INCLUDE=ONLY", "-DCMAKE_FIND_ROOT_PATH_MODE_PACKAGE=ONLY"]
        return " ".join(args)

    def ccache_check(self) -> str:
        """ccache's name for the compiler: zig's binary (by file version), target and wrappers."""
        version = file_version(Path(self.zig)) if self.zig else None
        stamp = f"{version[0]}-{version[1]}" if version else "none"
        return f"string:{self.zig}-{stamp}-{self.zig_target}-{WRAPPERS_DIGEST}"

    def install(self, build_prefix: Path) -> list[str]:
        """Write the wrapper scripts into ``build_prefix/bin`` (zig); returns their names."""
        if self.kind != "zig":
            return []
        bindir = build_prefix / "bin"
        bindir.mkdir(parents=True, exist_ok=True)
        (build_prefix / self.host / "sysroot").mkdir(parents=True, exist_ok=True)
        Path(self.zig_cache).mkdir(parents=True, exist_ok=True)
        q = shlex.quote
        what = f"{self.zig_target}"
        scripts: dict[str, str] = {}
        for name, command in ZIG_COMMANDS.items():
            if command in ("cc", "c++"):
                extra = " -E" if name == "cpp" else ""
                scripts[name] = COMPILER_WRAPPER.format(what=f"{name}: zig {command}, {what}", cache=q(self.zig_cache),
                                                        host=self.host, zig=q(self.zig), command=command,
                                                        target=self.zig_target, extra=extra,
                                                        query_target=self.zig_target.rsplit(".", 2)[0],
                                                        ccache=q(self.ccache), ccache_check=q(self.ccache_check()),
                                                        ccache_dir=q(self.ccache_dir) if self.ccache else "''")
            else:
                scripts[name] = TOOL_WRAPPER.format(what=f"{name}: zig {command}", cache=q(self.zig_cache),
                                                    zig=q(self.zig), command=command)
        for name in BINUTILS:
            program = shutil.which(f"{self.system_host}-{name}")
            if program:
                scripts[name] = EXEC_WRAPPER.format(what=f"{name}: {self.system_host}-{name}", program=q(program))
        written = []
        for name, text in scripts.items():
            written.append(_write_script(bindir / self.tool(name), text))
        if self.cross:  # the build machine's compilers under conda-forge's names
            for name in BUILD_MACHINE_TOOLS:
                program = shutil.which(f"{self.system_build}-{BUILD_MACHINE_NAMES.get(name, name)}")
                if program:
                    text = EXEC_WRAPPER.format(what=f"{name} of the build machine", program=q(program))
                    written.append(_write_script(bindir / f"{self.build}-{name}", text))
        return sorted(written)


def _write_script(path: Path, text: str) -> str:
    path.write_text(text)
    path.chmod(0o755)
    return path.name


@lru_cache(maxsize=None)
def ccache_program() -> str | None:
    """ccache on PATH, looked up once per process (every recipe's toolchain asks)."""
    return shutil.which("ccache")


def compiler_cache(settings: Settings) -> dict[str, str]:
    """The Toolchain fields of the compiler cache: ccache and its directory, when the
    ``compiler_cache`` setting is on and ccache is installed (the setup script installs it)."""
    program = ccache_program() if settings.compiler_cache else None
    if not program:
        return {}
    return {"ccache": program, "ccache_dir": str(Layout.of(settings).compiler_cache)}


def select_toolchain(settings: Settings) -> Toolchain:
    """The toolchain of the `toolchain` setting (`auto`: zig when cross compiling, else gnu)."""
    kind = settings.toolchain_kind
    system_host, system_build = settings.target_triplet, settings.build_triplet
    if kind == "zig":
        binary = zig_binary()
        return Toolchain("zig", conda_triplet(system_host), conda_triplet(system_build), system_host,
                         system_build, settings.cross, glibc=settings.glibc,
                         zig=str(binary) if binary else "", zig_cache=str(settings.zig_cache),
                         **compiler_cache(settings))
    return Toolchain("gnu", system_host, system_build, system_host, system_build, settings.cross)


def warm_zig_cache(settings: Settings, languages: tuple[str, ...] = ("c", "c++"), run: bool = False) -> dict[str, float]:
    """Build Zig's libc stubs, crt files (C) and libc++ (C++) for the target into its cache,
    as the first compile would; returns the seconds per language (quick when warm). ``run``:
    the hello-worlds must also run (under qemu through binfmt_misc when cross compiling)."""
    import tempfile
    import time
    toolchain = select_toolchain(settings)
    if toolchain.kind != "zig":
        return {}
    if not toolchain.zig:
        raise CondoitError(MISSING_ZIG)
    sources = {"c": ("hello.c", '#include <stdio.h>\nint main(void){puts("hello");return 0;}\n'),
               "c++": ("hello.cpp", '#include <iostream>\n#include <string>\nint main(){std::string s{"hello"};'
                                    'std::cout << s << std::endl;return 0;}\n')}
    times: dict[str, float] = {}
    with tempfile.TemporaryDirectory(prefix="condoit-zig-") as tmp:
        toolchain.install(Path(tmp) / "prefix")
        for lang in languages:
            name, text = sources[lang]
            (Path(tmp) / name).write_text(text)
            started = time.monotonic()
            proc = subprocess.run([str(Path(tmp) / "prefix" / "bin" / toolchain.tool(lang if lang == "c++" else "cc")),
                                   "-O2", "-fPIC", "-o", str(Path(tmp) / f"hello-{lang}"), name],
                                  cwd=tmp, capture_output=True, text=True)
            if proc.returncode != 0:
                raise CondoitError(f"zig {lang} cannot build a hello-world for {toolchain.zig_target}:\n"
                                   f"{proc.stdout}{proc.stderr}")
            times[lang] = time.monotonic() - started
            if run:
                env = dict(os.environ, QEMU_LD_PREFIX=f"/usr/{toolchain.system_host}")
                out = subprocess.run([str(Path(tmp) / f"hello-{lang}")], capture_output=True, text=True, env=env)
                if out.returncode != 0 or out.stdout.strip() != "hello":
                    raise CondoitError(f"the {lang} hello-world zig built for {toolchain.zig_target} does not run: "
                                       f"status {out.returncode}, {out.stdout}{out.stderr}")
    return times


def resolve_build_requirements(recipe: Recipe, settings: Settings, stack_packages: set[str]) -> BuildTools:
    """Map every build requirement to a tool of the build machine or a stack recipe."""
    system: list[str] = []
    stack: list[str] = []
    missing: list[str] = []
    toolchain = select_toolchain(settings)
    for spec in recipe.requirements.build + tuple(s for o in recipe.outputs for s in o.requirements.build):
        name = spec_name(spec)
        match = COMPILER_NAME.match(name)
        if match and match.group("lang") in COMPILERS and toolchain.kind == "zig" \
                and COMPILERS[match.group("lang")][0] != "gfortran":   # Zig has no Fortran: Debian's gfortran
            if not toolchain.zig and MISSING_ZIG not in missing:
                missing.append(MISSING_ZIG)
            continue
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
    return BuildTools(tuple(dict.fromkeys(system)), tuple(dict.fromkeys(stack)), toolchain)


def toolchain_identity(tools: BuildTools, memo: Path | None = None) -> dict[str, object]:
    """The toolchain (kind, target, glibc, Zig's version) and the versions of the build-machine
    tools used: switching toolchains or upgrading a compiler re-runs compile (and, through
    its output, the later stages), nothing before it. ``memo``: see ``tool_version``."""
    identity: dict[str, object] = {command: tool_version(command, memo) for command in tools.system if command != "true"}
    if tools.toolchain is not None:
        identity["toolchain"] = tools.toolchain.identity(memo)
    return identity


def main(argv: list[str] | None = None) -> int:
    """``python -m tasks.toolchain warm``: fill Zig's cache for the configured target (C and C++)."""
    import argparse
    import sys
    from .settings import load_settings
    parser = argparse.ArgumentParser(prog="python -m tasks.toolchain", description=main.__doc__)
    parser.add_argument("command", choices=["warm"])
    parser.add_argument("--lang", action="append", choices=["c", "c++"], help="default: both")
    parser.add_argument("--run", action="store_true", help="run the hello-worlds too (qemu when cross)")
    args = parser.parse_args(argv)
    settings = load_settings()
    try:
        times = warm_zig_cache(settings, tuple(args.lang or ("c", "c++")), run=args.run)
    except CondoitError as exc:
        print(f"condoit: {exc}", file=sys.stderr)
        return 1
    toolchain = select_toolchain(settings)
    if not times:
        print(f"toolchain {toolchain.kind}: nothing to warm")
    for lang, seconds in times.items():
        print(f"zig {lang} for {toolchain.zig_target}: {seconds:.1f} s (cache {toolchain.zig_cache})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
