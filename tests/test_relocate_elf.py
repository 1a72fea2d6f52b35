"""RPATH/RUNPATH relocation with lief: the rules, and binaries that still run afterwards."""
from __future__ import annotations

import shutil
import subprocess
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
def test_lief_edits_a_real_library_and_cxx_program_that_still_run(tmp_path):
    """libstdc++ from the cross sysroot gets a new RPATH (lief adds a segment); everything still loads."""
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
