"""RPATH/RUNPATH relocation: the rules, the ELF reader and edits against lief's reading, and binaries
that still run afterwards."""
from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from relocate_support import (SYSROOT, compile_c, host_prefix, needs_cross, needs_qemu, new_files, recipe,
                              run_aarch64, settings)
from tasks.relocate import post_build
from tasks.relocate.elf import describe, is_elf, parse, relative_search_path, search_dirs

P = "/build/_h_env_placehold"
LIB = "int demo_value(void) { return 42; }\n"
MAIN = """#include <stdio.h>
int demo_value(void);
int main(void) { printf("%d\\n", demo_value()); return 0; }
"""


def test_search_path_rules():
    new, dropped = relative_search_path([f"{P}/lib", "/usr/local/lib", "$ORIGIN/../libexec", "rel/dir"],
                                        "bin/tool", P, ["lib/"])
    assert new == ("$ORIGIN/../lib", "$ORIGIN/../libexec")
    assert dropped == ("/usr/local/lib", "rel/dir")
    assert relative_search_path([], "lib/libx.so", P, ["lib/"]) == (("$ORIGIN",), ())
    assert relative_search_path([], "lib/python3.11/site-packages/m.so", P, ["lib/", "/opt/vendor/lib"]) == \
        (("$ORIGIN/../..", "/opt/vendor/lib"), ())
    assert relative_search_path([f"{P}/lib/R/lib"], "lib/R/bin/exec/R", P, ["lib/", "lib/R/lib/"]) == \
        (("$ORIGIN/../../lib", "$ORIGIN/../../.."), ())


def test_search_dirs_resolve_origin_relative_to_the_file():
    assert search_dirs(["$ORIGIN/../lib", "${ORIGIN}", "/usr/lib", f"{P}/lib64", "$ORIGIN/../../.."],
                       "bin/tool", P) == ("lib", "bin", "lib64")


@pytest.fixture
def project(tmp_path):
    def build(*link_args, cc="aarch64-linux-gnu-gcc"):
        prefix = host_prefix(tmp_path)
        compile_c(prefix / "lib/libdemo.so", LIB, "-shared", "-fPIC", cc=cc)
        compile_c(prefix / "bin/demo", MAIN, f"-L{prefix}/lib", "-ldemo", *link_args, cc=cc)
        return prefix
    return build


@needs_cross
def test_entries_outside_the_prefix_are_dropped_with_a_warning(tmp_path):
    prefix = host_prefix(tmp_path)
    compile_c(prefix / "lib/libdemo.so", LIB, "-shared", "-fPIC")
    compile_c(prefix / "bin/demo", MAIN, f"-L{prefix}/lib", "-ldemo", f"-Wl,-rpath,{prefix}/lib",
              "-Wl,-rpath,/opt/elsewhere/lib")
    result = post_build(prefix, new_files(prefix), recipe(tmp_path), settings(tmp_path))
    assert describe(parse(prefix / "bin/demo")).runpath == ("$ORIGIN/../lib",)
    assert "bin/demo: RUNPATH entry /opt/elsewhere/lib is neither in the prefix nor $ORIGIN-relative " \
           "(dropped)" in result.warnings
    assert result.problems == ()


@needs_cross
def test_build_rpaths_are_added_in_order(tmp_path, project):
    prefix = project()
    result = post_build(prefix, new_files(prefix), recipe(tmp_path, rpaths=("lib/", "lib/plugins/")),
                        settings(tmp_path))
    assert describe(parse(prefix / "bin/demo")).rpath == ("$ORIGIN/../lib", "$ORIGIN/../lib/plugins")
    assert describe(parse(prefix / "lib/libdemo.so")).rpath == ("$ORIGIN", "$ORIGIN/plugins")
    assert result.problems == ()


@needs_cross
def test_an_rpath_stays_an_rpath(tmp_path):
    prefix = host_prefix(tmp_path)
    compile_c(prefix / "lib/libdemo.so", LIB, "-shared", "-fPIC")
    compile_c(prefix / "bin/demo", MAIN, f"-L{prefix}/lib", "-ldemo", f"-Wl,-rpath,{prefix}/lib",
              "-Wl,--disable-new-dtags")
    assert describe(parse(prefix / "bin/demo")).rpath == (f"{prefix}/lib",)
    post_build(prefix, new_files(prefix), recipe(tmp_path), settings(tmp_path))
    info = describe(parse(prefix / "bin/demo"))
    assert (info.rpath, info.runpath) == (("$ORIGIN/../lib",), ())


@needs_cross
def test_binary_relocation_false_and_globs_limit_what_is_touched(tmp_path, project):
    prefix = project(f"-Wl,-rpath,{tmp_path}/cache/prefix/demo")
    before = {rel: (prefix / rel).read_bytes() for rel in ("bin/demo", "lib/libdemo.so")}
    post_build(prefix, new_files(prefix), recipe(tmp_path, binary_relocation=False), settings(tmp_path))
    assert {rel: (prefix / rel).read_bytes() for rel in before} == before

    post_build(prefix, new_files(prefix), recipe(tmp_path, binary_relocation=("lib/*.so",)), settings(tmp_path))
    assert (prefix / "bin/demo").read_bytes() == before["bin/demo"]
    assert describe(parse(prefix / "lib/libdemo.so")).rpath == ("$ORIGIN",)


@needs_cross
def test_relocation_is_idempotent(tmp_path, project):
    prefix = project(f"-Wl,-rpath,{tmp_path}/cache/prefix/demo")
    first = post_build(prefix, new_files(prefix), recipe(tmp_path), settings(tmp_path))
    data = (prefix / "bin/demo").read_bytes()
    second = post_build(prefix, new_files(prefix), recipe(tmp_path), settings(tmp_path))
    assert (prefix / "bin/demo").read_bytes() == data
    assert [line for line in second.log if "PATH" in line] == []
    assert first.problems == second.problems == ()


def test_x86_64_elf_is_relocated_and_runs_natively(tmp_path, project):
    assert shutil.which("gcc"), "the native gcc is missing: run scripts/setup.sh"
    prefix = project(f"-Wl,-rpath,{tmp_path}/cache/prefix/demo/_h_env_placehold/lib", cc="gcc")
    compile_c(prefix / "bin/demo", MAIN, f"-L{prefix}/lib", "-ldemo", f"-Wl,-rpath,{prefix}/lib", cc="gcc")
    result = post_build(prefix, new_files(prefix), recipe(tmp_path),
                        settings(tmp_path, target_platform="linux-64"))
    assert result.problems == ()
    assert describe(parse(prefix / "bin/demo")).search_path == ("$ORIGIN/../lib",)
    moved = tmp_path / "moved"
    shutil.copytree(prefix, moved, symlinks=True)
    out = subprocess.run([str(moved / "bin/demo")], capture_output=True, text=True, env={})
    assert out.stdout == "42\n", out.stderr


@needs_cross
@needs_qemu
def test_a_real_library_and_cxx_program_still_run_after_relocation(tmp_path):
    """libstdc++ from the cross sysroot (GNU ld) gets a new RPATH (appended after its .bss); everything
    still loads."""
    prefix = host_prefix(tmp_path)
    (prefix / "lib").mkdir()
    shutil.copy(SYSROOT / "lib/libstdc++.so.6", prefix / "lib/libstdc++.so.6")
    cxx = '#include <iostream>\nint main() { std::cout << "hi " << 6 * 7 << "\\n"; }\n'
    compile_c(prefix / "bin/hello++", cxx,
              f"-Wl,-rpath,{prefix}/lib", cc="aarch64-linux-gnu-g++", name="src.cc")
    result = post_build(prefix, new_files(prefix), recipe(tmp_path), settings(tmp_path))
    assert result.problems == ()
    assert describe(parse(prefix / "lib/libstdc++.so.6")).rpath == ("$ORIGIN",)
    moved = tmp_path / "moved"
    shutil.copytree(prefix, moved, symlinks=True)
    out = run_aarch64([str(moved / "bin/hello++")], env={"LD_DEBUG": "libs"})
    assert out.returncode == 0, out.stderr
    assert out.stdout == "hi 42\n"
    assert f"{moved}/bin/../lib/libstdc++.so.6" in out.stderr   # the package's copy, found by $ORIGIN


def test_is_elf_ignores_symlinks_and_other_files(tmp_path):
    (tmp_path / "t").write_text("#!/bin/sh\n")
    (tmp_path / "l").symlink_to("/bin/sh")
    assert not is_elf(tmp_path / "t") and not is_elf(tmp_path / "l")
    assert is_elf(Path("/bin/sh").resolve())


@needs_cross
def test_a_copy_is_relocated_against_the_original_prefix(tmp_path, project):
    """The package stage relocates a copy; paths are computed for the host prefix it came from."""
    prefix = project()
    compile_c(prefix / "bin/demo", MAIN, f"-L{prefix}/lib", "-ldemo", f"-Wl,-rpath,{prefix}/lib")
    copy = tmp_path / "copy"
    shutil.copytree(prefix, copy, symlinks=True)
    result = post_build(copy, new_files(copy), recipe(tmp_path), settings(tmp_path), placeholder=str(prefix))
    assert result.problems == ()
    assert describe(parse(copy / "bin/demo")).runpath == ("$ORIGIN/../lib",)
    assert describe(parse(prefix / "bin/demo")).runpath == (f"{prefix}/lib",)   # the original is untouched


# --- the reader and the edits without lief -------------------------------------------------------

def _lief_facts(path: Path) -> tuple:
    """What lief says about a file: the facts ``describe`` reports, read through lief's own API."""
    import lief
    binary = lief.ELF.parse(str(path))
    tags = lief.ELF.DynamicEntry.TAG

    def paths(tag):
        entry = binary.get(tags[tag])
        return tuple(p for p in entry.paths if p) if entry is not None else ()
    soname = binary.get(tags.SONAME)
    versions = sorted({a.name for r in binary.symbols_version_requirement for a in r.get_auxiliary_symbols()
                       if a.name.startswith("GLIBC_2")}, key=lambda n: tuple(map(int, n[6:].split("."))))
    return (binary.header.machine_type.name, binary.header.file_type.name, tuple(binary.libraries),
            paths("RPATH"), paths("RUNPATH"), soname.name if soname is not None else None,
            versions[-1][6:] if versions else None)


def _facts(path: Path) -> tuple:
    info = describe(parse(path))
    return (info.machine, info.file_type, info.needed, info.rpath, info.runpath, info.soname,
            info.glibc.version if info.glibc else None)


def test_the_reader_agrees_with_lief_on_real_libraries_and_programs():
    """Debian's aarch64 cross libraries (GNU ld) and the build machine's x86_64 programs."""
    files = [p for p in sorted(SYSROOT.glob("lib/*.so*")) + sorted(Path("/usr/bin").glob("*"))[:80]
             if is_elf(p)]
    assert len(files) > 40, files
    differ = [(p, _facts(p), _lief_facts(p)) for p in files if _facts(p) != _lief_facts(p)]
    assert differ == []
    assert any(_facts(p)[3] or _facts(p)[4] for p in files)        # some carry a search path


def test_the_glibc_floor_names_the_symbols_lief_names():
    import lief
    path = SYSROOT / "lib/libstdc++.so.6"
    floor = describe(parse(path)).glibc
    binary = lief.ELF.parse(str(path))
    expected = {s.name: s.symbol_version.symbol_version_auxiliary.name[6:] for s in binary.imported_symbols
                if s.symbol_version is not None and s.symbol_version.has_auxiliary_version
                and s.symbol_version.symbol_version_auxiliary.name.startswith("GLIBC_2")}
    assert dict(floor.needs) == expected and floor.version in expected.values()
    assert floor.symbol == min(n for n, v in expected.items() if v == floor.version)


def test_a_truncated_file_is_unreadable_not_an_error(tmp_path):
    data = (SYSROOT / "lib/libm.so.6").read_bytes()
    (tmp_path / "cut.so").write_bytes(data[:200])
    assert parse(tmp_path / "cut.so") is None


@pytest.fixture(scope="module")
def zig_cc(tmp_path_factory):
    """condoit's default toolchain (zig cc, linked by lld), as build.sh gets it."""
    from conftest import require_cross_toolchain
    from tasks.settings import load_settings
    from tasks.toolchain import select_toolchain
    require_cross_toolchain()
    tmp = tmp_path_factory.mktemp("zig")
    toolchain = select_toolchain(load_settings({"cache": str(tmp / "cache")}, root=tmp))
    toolchain.install(tmp / "build_prefix")
    path = f"{tmp / 'build_prefix' / 'bin'}:/usr/bin:/bin"

    def cc(out: Path, source: str, *args: str) -> Path:
        out.parent.mkdir(parents=True, exist_ok=True)
        src = out.parent / f".{out.name}.c"
        src.write_text(source)
        proc = subprocess.run(["aarch64-conda-linux-gnu-cc", "-O2", "-o", str(out), str(src), *args],
                              env={"PATH": path, "HOME": str(tmp)}, capture_output=True, text=True)
        assert proc.returncode == 0, proc.stderr
        src.unlink()
        return out
    return cc


POST_BUILD_PROBE = """
import sys
from pathlib import Path
sys.path.insert(0, sys.argv[1])
sys.path.insert(0, sys.argv[1] + "/tests")
from relocate_support import new_files, recipe, settings
from tasks.relocate import post_build
prefix, tmp = Path(sys.argv[2]), Path(sys.argv[3])
result = post_build(prefix, new_files(prefix), recipe(tmp), settings(tmp))
print("problems", list(result.problems))
print("lief imported", "lief" in sys.modules)
"""


DLOPEN_MAIN = """#include <dlfcn.h>
#include <stdio.h>
int main(int argc, char **argv) {
    void *lib = dlopen(argv[1], RTLD_NOW);
    if (!lib) { fprintf(stderr, "%s\\n", dlerror()); return 1; }
    printf("%d\\n", ((int (*)(void)) dlsym(lib, "demo_value"))());
    return 0;
}
"""


@needs_cross
@needs_qemu
def test_zig_binaries_are_relocated_without_lief_and_still_run(tmp_path, zig_cc):
    """Files linked without -rpath get RPATH $ORIGIN... appended (a library's dependency is
    then found through it), a long RUNPATH is overwritten; lief is never imported."""
    from tasks.relocate.elfread import read
    prefix = host_prefix(tmp_path)
    zig_cc(prefix / "lib/libdep.so", "int dep_value(void) { return 40; }\n", "-shared", "-fPIC")
    zig_cc(prefix / "lib/libdemo.so", "int dep_value(void);\nint demo_value(void) { return dep_value() + 2; }\n",
           "-shared", "-fPIC", f"-L{prefix}/lib", "-ldep")
    zig_cc(prefix / "bin/demo", MAIN, f"-L{prefix}/lib", "-ldemo", f"-Wl,-rpath,{prefix}/lib")
    zig_cc(prefix / "bin/loader", DLOPEN_MAIN, "-ldl")
    files = ("bin/demo", "bin/loader", "lib/libdemo.so", "lib/libdep.so")
    before = {rel: (prefix / rel).stat().st_size for rel in files}
    assert [describe(parse(prefix / rel)).search_path == () for rel in files] == [False, True, True, True]
    root = Path(__file__).resolve().parent.parent
    proc = subprocess.run([sys.executable, "-c", POST_BUILD_PROBE, str(root), str(prefix), str(tmp_path)],
                          capture_output=True, text=True, cwd=root)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines() == ["problems []", "lief imported False"], proc.stdout + proc.stderr
    for rel in files:
        assert _facts(prefix / rel) == _lief_facts(prefix / rel), rel      # lief reads our edits alike
        readelf = subprocess.run(["readelf", "-W", "-d", "-l", "-S", str(prefix / rel)], capture_output=True, text=True)
        assert readelf.returncode == 0 and readelf.stderr == "", readelf.stderr
    program = prefix / "bin/demo"
    assert describe(parse(program)).runpath == ("$ORIGIN/../lib",)
    assert program.stat().st_size == before["bin/demo"] and b"_h_env" not in program.read_bytes()
    assert describe(parse(prefix / "bin/loader")).rpath == ("$ORIGIN/../lib",)
    library = prefix / "lib/libdemo.so"
    assert describe(parse(library)).rpath == ("$ORIGIN",)
    assert library.stat().st_size > before["lib/libdemo.so"]              # the tables were appended
    assert read(library).offset_of(read(library).first(5).value) > before["lib/libdemo.so"] - 4096
    moved = tmp_path / "moved"
    shutil.copytree(prefix, moved, symlinks=True)
    out = run_aarch64([str(moved / "bin/demo")])
    assert out.returncode == 0 and out.stdout == "42\n", out.stderr
    out = run_aarch64([str(moved / "bin/loader"), str(moved / "lib/libdemo.so")], env={"LD_DEBUG": "libs"})
    assert out.returncode == 0 and out.stdout == "42\n", out.stderr
    # libdep.so is found through libdemo.so's appended RPATH, the first place searched
    first = out.stderr[out.stderr.index("find library=libdep.so"):].splitlines()[1]
    assert first.endswith(f":{moved}/lib\t\t(RPATH from file {moved}/lib/libdemo.so)"), first


@needs_cross
@needs_qemu
def test_what_the_plain_edits_cannot_do_goes_to_lief(tmp_path):
    """A longer search path, one to remove, and one to add to a file whose last segment ends in a
    large .bss: lief rebuilds these files, and they still run."""
    prefix = host_prefix(tmp_path)
    big = "static char pool[4 << 20];\nint demo_value(void) { pool[7] = 2; return 40 + pool[7]; }\n"
    compile_c(prefix / "lib/libdemo.so", big, "-shared", "-fPIC")
    compile_c(prefix / "lib/libshort.so", LIB, "-shared", "-fPIC", "-Wl,-rpath,$ORIGIN")
    compile_c(prefix / "bin/demo", MAIN, f"-L{prefix}/lib", "-ldemo", "-Wl,-rpath,/opt/elsewhere/lib")
    result = post_build(prefix, new_files(prefix), recipe(tmp_path, rpaths=("lib/", "lib/plugins/")),
                        settings(tmp_path))
    assert result.problems == ()
    assert describe(parse(prefix / "lib/libdemo.so")).rpath == ("$ORIGIN", "$ORIGIN/plugins")   # added
    assert describe(parse(prefix / "lib/libshort.so")).runpath == ("$ORIGIN", "$ORIGIN/plugins")  # longer
    assert describe(parse(prefix / "bin/demo")).runpath == ("$ORIGIN/../lib", "$ORIGIN/../lib/plugins")
    compile_c(prefix / "bin/other", MAIN, f"-L{prefix}/lib", "-ldemo", "-Wl,-rpath,/opt/elsewhere/lib")
    # in a process of its own, as a package stage runs: lief's state after the hundreds of
    # files earlier tests had it parse once made this removal fail with std::bad_alloc
    removal = subprocess.run(
        [sys.executable, "-c", "import sys; from pathlib import Path; sys.path[:0] = sys.argv[1:3];"
         "from test_relocate_elf import post_build, recipe, settings; t = Path(sys.argv[3]);"
         "post_build(Path(sys.argv[4]), ['bin/other'], recipe(t, rpaths=()), settings(t))",
         str(Path(__file__).resolve().parent), str(Path(__file__).resolve().parent.parent), str(tmp_path),
         str(prefix)], capture_output=True, text=True, timeout=300)
    assert removal.returncode == 0, removal.stderr[-3000:]
    assert describe(parse(prefix / "bin/other")).search_path == ()                              # removed
    for rel in ("lib/libdemo.so", "lib/libshort.so", "bin/demo", "bin/other"):
        assert _facts(prefix / rel) == _lief_facts(prefix / rel), rel
    moved = tmp_path / "moved"
    shutil.copytree(prefix, moved, symlinks=True)
    out = run_aarch64([str(moved / "bin/demo")])
    assert out.returncode == 0 and out.stdout == "42\n", out.stderr
