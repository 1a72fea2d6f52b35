"""Issue 11: the zig toolchain (glibc 2.17 symbols), selected per stack; checked on every ELF file.

Real zig (the `ziglang` package), real qemu, real doit builds of small recipes: C and C++
wrappers that build programs running under qemu with only GLIBC_2.17 symbols; a recipe that
uses a newer glibc function fails the package stage naming the file and the symbols; a C++
recipe builds, links (libc++ statically) and runs; switching the toolchain re-runs compile
and the later stages of every recipe, and nothing before compile.
"""
from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from conftest import require_cross_toolchain
from doit_runner import run_doit, write_recipe
from relocate_support import run_aarch64
from tasks.errors import CondoitError
from tasks.glibc_report import package_floor
from tasks.relocate.elf import describe, parse
from tasks.settings import load_settings, with_changes
from tasks.toolchain import select_toolchain, toolchain_identity, resolve_build_requirements

pytestmark = pytest.mark.usefixtures("cross_toolchain")

GLIBC_LIBS = {"libc.so.6", "libm.so.6", "libdl.so.2", "libpthread.so.0", "librt.so.1", "ld-linux-aarch64.so.1"}


# --- settings -----------------------------------------------------------------------------------

def test_zig_is_the_cross_default_and_sets_max_glibc(tmp_path, monkeypatch):
    for key in [k for k in os.environ if k.startswith("CONDOIT_")]:
        monkeypatch.delenv(key)
    s = load_settings({}, root=tmp_path)
    assert (s.toolchain, s.toolchain_kind, s.glibc, s.max_glibc) == ("auto", "zig", "2.17", "2.17")
    gnu = load_settings({"toolchain": "gnu"}, root=tmp_path)
    assert (gnu.toolchain_kind, gnu.max_glibc) == ("gnu", "")          # Debian's gcc: floor declared, no limit
    assert load_settings({"toolchain": "gnu", "max_glibc": "2.36"}, root=tmp_path).max_glibc == "2.36"
    assert load_settings({"max_glibc": "none"}, root=tmp_path).max_glibc == ""
    assert load_settings({"glibc": "2.28"}, root=tmp_path).max_glibc == "2.28"
    assert load_settings({"target": "linux-64"}, root=tmp_path).toolchain_kind == "gnu"  # native: system gcc
    assert load_settings({"target": "linux-64", "toolchain": "zig"}, root=tmp_path).toolchain_kind == "zig"
    with pytest.raises(CondoitError, match="unknown toolchain 'clang'"):
        load_settings({"toolchain": "clang"}, root=tmp_path)
    with pytest.raises(CondoitError, match="glibc '2.x'"):
        load_settings({"glibc": "2.x"}, root=tmp_path)


def test_toolchain_setting_layers(tmp_path, monkeypatch):
    """defaults < pyproject < condoit.yaml < CONDOIT_* < doit variables."""
    for key in [k for k in os.environ if k.startswith("CONDOIT_")]:
        monkeypatch.delenv(key)
    (tmp_path / "pyproject.toml").write_text('[tool.condoit]\ntoolchain = "gnu"\nglibc = "2.28"\n')
    assert load_settings({}, root=tmp_path).toolchain == "gnu"
    (tmp_path / "recipes").mkdir()
    (tmp_path / "recipes" / "condoit.yaml").write_text("toolchain: zig\nglibc: '2.24'\n")
    assert (load_settings({}, root=tmp_path).toolchain, load_settings({}, root=tmp_path).glibc) == ("zig", "2.24")
    monkeypatch.setenv("CONDOIT_TOOLCHAIN", "gnu")
    assert load_settings({}, root=tmp_path).toolchain == "gnu"
    assert load_settings({"toolchain": "zig"}, root=tmp_path).toolchain == "zig"


def test_toolchain_identity_names_kind_target_and_version_without_paths(tmp_path):
    from tasks.model import Recipe
    recipe = Recipe(name="x", version="1", recipe_dir=tmp_path, meta_path=tmp_path / "meta.yaml")
    settings = load_settings({}, root=tmp_path)
    zig = toolchain_identity(resolve_build_requirements(recipe, settings, set()))["toolchain"]
    assert zig["kind"] == "zig" and zig["target"] == "aarch64-linux-gnu.2.17" and zig["zig"].startswith("0.")
    assert str(settings.zig_cache) not in repr(zig) and "/" not in repr(zig)
    gnu = toolchain_identity(resolve_build_requirements(recipe, with_changes(settings, toolchain="gnu"), set()))
    assert gnu["toolchain"] == {"kind": "gnu", "target": "aarch64-linux-gnu"}
    newer = toolchain_identity(resolve_build_requirements(recipe, with_changes(settings, glibc="2.28"), set()))
    assert newer["toolchain"]["target"] == "aarch64-linux-gnu.2.28"


# --- the wrappers, used directly --------------------------------------------------------------------

@pytest.fixture(scope="module")
def wrappers(tmp_path_factory):
    require_cross_toolchain()
    tmp = tmp_path_factory.mktemp("zig")
    settings = load_settings({"cache": str(tmp / "cache")}, root=tmp)
    toolchain = select_toolchain(settings)
    names = toolchain.install(tmp / "build_prefix")
    env = {"PATH": f"{tmp / 'build_prefix' / 'bin'}:/usr/bin:/bin", "HOME": str(tmp)}
    return tmp, toolchain, names, env


def sh(cmd: str, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(["bash", "-c", cmd], cwd=cwd, env=env, capture_output=True, text=True, timeout=600)


def test_wrappers_have_conda_forge_names(wrappers):
    _, toolchain, names, _ = wrappers
    assert toolchain.host == "aarch64-conda-linux-gnu"
    for tool in ("cc", "gcc", "c++", "g++", "cpp", "ar", "ranlib", "nm", "strip", "ld", "objdump", "readelf"):
        assert f"aarch64-conda-linux-gnu-{tool}" in names
    assert {"x86_64-conda-linux-gnu-cc", "x86_64-conda-linux-gnu-c++"} <= set(names)   # CC_FOR_BUILD
    env = toolchain.tool_variables()
    assert (env["CC"], env["CXX"], env["AR"], env["CC_FOR_BUILD"]) == (
        "aarch64-conda-linux-gnu-cc", "aarch64-conda-linux-gnu-c++", "aarch64-conda-linux-gnu-ar",
        "x86_64-conda-linux-gnu-cc")


def test_c_library_and_program_need_only_glibc_2_17_and_run(wrappers):
    tmp, toolchain, _, env = wrappers
    work = tmp / "c"
    (work / "lib").mkdir(parents=True)
    (work / "lib.c").write_text("#include <sys/auxv.h>\n#include <string.h>\n"
                                "unsigned long hw(void) { return getauxval(AT_HWCAP) != 0; }\n"
                                "size_t len(const char *s) { return strlen(s); }\n")
    (work / "main.c").write_text('#include <stdio.h>\nunsigned long hw(void); unsigned long len(const char *);\n'
                                 'int main(int c, char **v) { printf("%lu %d\\n", hw(), len(v[0]) > 0); return 0; }\n')
    ldflags = toolchain.ldflags(str(work))
    out = sh(f"aarch64-conda-linux-gnu-cc -O2 -fPIC -fstack-protector-strong -D_FORTIFY_SOURCE=2 -shared "
             f"-Wl,-soname,libhw.so.1 -o libhw.so.1 lib.c {ldflags} -Wl,-stats,-lc && ln -sf libhw.so.1 libhw.so && "
             f"aarch64-conda-linux-gnu-cc -O2 -o main main.c -L. -lhw -Wl,-rpath,{work} {ldflags}", work, env)
    assert out.returncode == 0, out.stderr
    assert "warning" not in out.stderr, out.stderr          # no flag of ours makes zig complain
    for name in ("libhw.so.1", "main"):
        info = describe(parse(work / name))
        assert info.machine == "AARCH64"
        assert info.glibc is not None and info.glibc.version == "2.17", (name, info.glibc)
        assert set(info.needed) <= GLIBC_LIBS | {"libhw.so.1"}
    sections = sh("aarch64-conda-linux-gnu-readelf -S main", work, env).stdout
    assert ".debug_info" not in sections                    # zig's crt debug info (its paths) stripped
    run = run_aarch64([str(work / "main")])
    assert run.returncode == 0 and run.stdout == "1 1\n", run.stderr


def test_cxx_links_libcxx_statically_and_runs(wrappers):
    """C++ with zig: LLVM's libc++/libc++abi linked into each binary, no libstdc++.so.6."""
    tmp, _, _, env = wrappers
    work = tmp / "cxx"
    work.mkdir()
    (work / "main.cpp").write_text(
        "#include <iostream>\n#include <map>\n#include <stdexcept>\n#include <string>\n#include <thread>\n"
        "int main() { std::map<std::string, int> m{{\"a\", 1}};\n"
        "  try { throw std::runtime_error(\"caught\"); } catch (const std::exception &e) { std::cout << e.what(); }\n"
        "  int n = 0; std::thread t([&] { n = m.at(\"a\") + 41; }); t.join();\n"
        "  std::cout << ' ' << n << std::endl; return 0; }\n")
    out = sh("aarch64-conda-linux-gnu-c++ -O2 -fPIC -o main main.cpp", work, env)
    assert out.returncode == 0, out.stderr
    info = describe(parse(work / "main"))
    assert info.glibc.version == "2.17"
    assert set(info.needed) <= GLIBC_LIBS, info.needed      # no libstdc++.so.6, libc++.so, libgcc_s
    run = run_aarch64([str(work / "main")])
    assert run.returncode == 0 and run.stdout == "caught 42\n", run.stderr


def test_a_newer_glibc_function_does_not_link_against_2_17(wrappers):
    """With glibc 2.17 stubs, reallocarray (2.26) is an undefined symbol (configure sees it missing)."""
    tmp, _, _, env = wrappers
    work = tmp / "new"
    work.mkdir()
    (work / "new.c").write_text("#define _GNU_SOURCE\n#include <stdlib.h>\n"
                                "int main(void) { return reallocarray(0, 2, 8) == 0; }\n")
    out = sh("aarch64-conda-linux-gnu-cc -O2 -o new new.c", work, env)
    assert out.returncode != 0 and "reallocarray" in out.stderr, out.stderr


def test_several_sources_in_one_compile_give_one_object_each(wrappers):
    """`cc -c a.c b.c f.s` makes a.o, b.o and f.o as gcc does (zig cc alone writes only a.o);
    a missing source fails the call."""
    tmp, _, _, env = wrappers
    work = tmp / "several"
    work.mkdir()
    (work / "a.c").write_text("int a(void) { return 1; }\n")
    (work / "b.c").write_text("int b(void) { return 2; }\n")
    (work / "f.s").write_text(".text\n.globl f\nf: ret\n")
    out = sh("aarch64-conda-linux-gnu-cc -O2 -c a.c b.c f.s", work, env)
    assert out.returncode == 0, out.stderr
    assert sorted(p.name for p in work.glob("*.o")) == ["a.o", "b.o", "f.o"]
    assert describe(parse(work / "b.o")).machine == "AARCH64"
    missing = sh("aarch64-conda-linux-gnu-cc -c a.c nothere.c", work, env)
    assert missing.returncode != 0 and "nothere.c" in missing.stderr


def test_query_flags_answer(wrappers):
    tmp, _, _, env = wrappers
    assert sh("aarch64-conda-linux-gnu-cc -dumpmachine", tmp, env).stdout == "aarch64-conda-linux-gnu\n"
    dirs = sh("aarch64-conda-linux-gnu-cc -print-search-dirs", tmp, env)
    assert dirs.returncode == 0 and dirs.stdout.startswith("programs:"), dirs.stderr


# --- recipes through doit ----------------------------------------------------------------------------

NEWGLIBC_META = """
package: {{name: newglibc, version: "1.0"}}
source:
  path: {src}
requirements:
  build:
    - {{{{ compiler('c') }}}}
about: {{license: MIT, summary: calls glibc functions newer than 2.17}}
"""
NEWGLIBC_BUILD = """
mkdir -p $PREFIX/bin
$CC $CFLAGS -o $PREFIX/bin/newglibc new.c $LDFLAGS
"""
NEWGLIBC_SRC = ("#define _GNU_SOURCE\n#include <stdlib.h>\n#include <sys/random.h>\n"
                "int main(void) { char b[8]; void *p = reallocarray(0, 2, 8);\n"
                "  return (getrandom(b, sizeof b, 0) == sizeof b && p) ? 0 : 1; }\n")


def test_newer_glibc_symbol_fails_the_package_stage_naming_file_and_symbols(stack_dirs):
    """zig linking against glibc 2.28 stubs, with the limit left at 2.17."""
    require_cross_toolchain()
    recipes, cache = stack_dirs
    src = recipes.parent / "src"
    src.mkdir()
    (src / "new.c").write_text(NEWGLIBC_SRC)
    write_recipe(recipes, "newglibc", NEWGLIBC_META.format(src=src), build_sh=NEWGLIBC_BUILD)
    run = run_doit(recipes, cache, "build:newglibc", glibc="2.28", max_glibc="2.17")
    assert run.returncode != 0
    assert "compile:newglibc" in run.ran and "package:newglibc" in run.ran, run.output
    assert ("bin/newglibc: needs glibc 2.26 (symbols reallocarray@GLIBC_2.26, getrandom@GLIBC_2.25), "
            "newer than max_glibc 2.17") in run.output, run.output
    assert not list((cache / "channel" / "linux-aarch64").glob("newglibc-*"))
    # the same recipe with the default zig toolchain (glibc 2.17) fails earlier, at link time
    default = run_doit(recipes, cache, "build:newglibc")
    assert default.returncode != 0 and "reallocarray" in default.output, default.output


CXX_META = """
package: {{name: cxxdemo, version: "1.0"}}
source:
  path: {src}
requirements:
  build:
    - {{{{ compiler('c') }}}}
    - {{{{ compiler('cxx') }}}}
test:
  commands:
    - cxxdemo | grep -qx 'hello from C++ 42'
    - test -f $PREFIX/lib/libcxxdemo.so
about: {{license: MIT, summary: a C++ library and program}}
"""
CXX_BUILD = """
mkdir -p $PREFIX/bin $PREFIX/lib
$CXX $CXXFLAGS -fPIC -shared -Wl,-soname,libcxxdemo.so -o $PREFIX/lib/libcxxdemo.so lib.cpp $LDFLAGS
$CXX $CXXFLAGS -o $PREFIX/bin/cxxdemo main.cpp $LDFLAGS -lcxxdemo
"""
CXX_SOURCES = {
    "lib.cpp": "#include <string>\n#include <vector>\n#include <stdexcept>\n"
               "std::string greeting(int n) { std::vector<std::string> w{\"hello\", \"from\", \"C++\"};\n"
               "  std::string out; for (auto &s : w) out += s + ' ';\n"
               "  try { if (n < 0) throw std::invalid_argument(\"negative\"); }\n"
               "  catch (const std::invalid_argument &e) { return e.what(); }\n"
               "  return out + std::to_string(n); }\n",
    "main.cpp": "#include <iostream>\n#include <stdexcept>\n#include <string>\nstd::string greeting(int);\n"
                "int main() { try { if (greeting(-1) == \"negative\") throw std::runtime_error(greeting(42)); }\n"
                "  catch (const std::runtime_error &e) { std::cout << e.what() << std::endl; return 0; } return 1; }\n",
}
# Each binary and shared library gets its own static copy of libc++ (with hidden symbols): an
# exception thrown in libcxxdemo.so is not caught as that type in the program (libc++abi
# terminates), so both throw and catch their own. std::string crosses the boundary fine (one
# malloc underneath).


def test_cxx_recipe_builds_links_and_runs(stack_dirs):
    """One C++ recipe: a shared library with a C++ interface and a program using it (std::string
    across the boundary, exceptions on each side), libc++ linked statically by zig, tested
    under qemu by the test stage."""
    require_cross_toolchain()
    recipes, cache = stack_dirs
    src = recipes.parent / "src"
    src.mkdir()
    for name, text in CXX_SOURCES.items():
        (src / name).write_text(text)
    write_recipe(recipes, "cxxdemo", CXX_META.format(src=src), build_sh=CXX_BUILD)
    run = run_doit(recipes, cache, "build:cxxdemo")
    assert run.returncode == 0, run.output
    assert "test:cxxdemo" in run.ran
    (archive,) = (cache / "channel" / "linux-aarch64").glob("cxxdemo-*.conda")
    floor = package_floor(archive)
    assert floor.version == "2.17" and floor.declared == ("__glibc >=2.17",), floor
    prefix_bin = next((cache / "prefix").rglob("bin/cxxdemo"))
    needed = set(describe(parse(prefix_bin)).needed)
    assert needed <= GLIBC_LIBS | {"libcxxdemo.so"}, needed


LIB_META = """
package: {{name: {name}, version: "1.0"}}
source:
  path: {src}
requirements:
  build:
    - {{{{ compiler('c') }}}}
  host: [{host}]
test:
  commands:
    - {name} | grep -qx '{name} 7'
about: {{license: MIT, summary: toolchain switch}}
"""
LIB_BUILD = """
mkdir -p $PREFIX/bin
$CC $CFLAGS -o $PREFIX/bin/$PKG_NAME main.c $LDFLAGS
"""


def test_switching_the_toolchain_reruns_compile_and_later_stages_of_every_recipe(stack_dirs):
    require_cross_toolchain()
    recipes, cache = stack_dirs
    for name, host in (("one", ""), ("two", "one")):
        src = recipes.parent / f"src-{name}"
        src.mkdir()
        (src / "main.c").write_text(f'#include <stdio.h>\nint main(void) {{ printf("{name} %d\\n", 7); return 0; }}\n')
        write_recipe(recipes, name, LIB_META.format(name=name, src=src, host=host), build_sh=LIB_BUILD)
    later = {f"{stage}:{name}" for stage in ("compile", "package", "index", "test") for name in ("one", "two")}
    before = {f"{stage}:{name}" for stage in ("download", "extract", "patch") for name in ("one", "two")}

    first = run_doit(recipes, cache, "build:two")
    assert first.returncode == 0 and later | before <= first.ran, first.output
    floors = {n: package_floor(next((cache / "channel" / "linux-aarch64").glob(f"{n}-*"))) for n in ("one", "two")}
    assert {n: f.declared for n, f in floors.items()} == {"one": ("__glibc >=2.17",), "two": ("__glibc >=2.17",)}

    gnu = run_doit(recipes, cache, "build:two", toolchain="gnu")
    assert gnu.returncode == 0, gnu.output
    assert gnu.ran == later, gnu.output                      # nothing before compile
    assert before <= gnu.uptodate
    floor = package_floor(next((cache / "channel" / "linux-aarch64").glob("two-*")))
    assert floor.declared == ("__glibc >=2.34",), floor      # Debian's gcc: glibc 2.36's __libc_start_main

    again = run_doit(recipes, cache, "build:two", toolchain="gnu")
    assert again.returncode == 0 and again.ran == frozenset(), again.output

    newer = run_doit(recipes, cache, "build:two", glibc="2.28")   # zig again, another glibc
    assert newer.returncode == 0, newer.output
    assert {"compile:one", "compile:two"} <= newer.ran and not (before & newer.ran), newer.output
