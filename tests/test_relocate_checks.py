"""One package per check that violates it: the problem names the file."""
from __future__ import annotations

import shutil

import pytest

from relocate_support import compile_c, host_prefix, needs_cross, new_files, recipe, settings
from tasks.relocate import post_build
from tasks.relocate.elf import GlibcFloor, glibc_floor

pytestmark = needs_cross

EXTRA = "int extra(void) { return 7; }\n"
APP = """#include <math.h>
#include <stdio.h>
int extra(void);
int main(int argc, char **argv) { printf("%d %f\\n", extra(), sqrt((double)argc)); return 0; }
"""


@pytest.fixture
def overlinked(tmp_path):
    """bin/app needs libextra.so.1, which the package itself does not contain."""
    outside = tmp_path / "elsewhere"
    compile_c(outside / "libextra.so.1", EXTRA, "-shared", "-fPIC", "-Wl,-soname,libextra.so.1")
    shutil.copy(outside / "libextra.so.1", outside / "libextra.so")
    prefix = host_prefix(tmp_path)
    compile_c(prefix / "bin/app", APP, f"-L{outside}", "-lextra", "-lm", f"-Wl,-rpath,{prefix}/lib")
    return tmp_path, prefix


def problems_about(result, path):
    return [p for p in result.problems if p.startswith(f"{path}:")]


def test_overlinking_is_a_problem_naming_the_file_and_library(overlinked):
    tmp, prefix = overlinked
    result = post_build(prefix, new_files(prefix), recipe(tmp), settings(tmp))
    assert len(result.problems) == 1
    assert result.problems[0].startswith("bin/app: needs libextra.so.1, which neither this package")
    # libc, libm (the target's C library) are not reported
    assert not any("libm" in p or "libc" in p for p in result.problems + result.warnings)


def test_a_run_requirement_providing_the_library_satisfies_it(overlinked):
    tmp, prefix = overlinked
    result = post_build(prefix, new_files(prefix), recipe(tmp, run=["extra"]), settings(tmp),
                        dependency_files={"extra": ["lib/libextra.so.1", "include/extra.h"]})
    assert result.problems == ()


def test_library_only_in_the_host_prefix_is_overlinking(overlinked):
    tmp, prefix = overlinked
    result = post_build(prefix, new_files(prefix), recipe(tmp), settings(tmp),
                        host_prefix_files=["lib/libextra.so.1"])
    assert problems_about(result, "bin/app") == [
        "bin/app: overlinking: needs libextra.so.1, which only the host prefix provides (lib/libextra.so.1); "
        "add the package that provides it to requirements/run"]


def test_missing_dso_whitelist_allows_it(overlinked):
    tmp, prefix = overlinked
    result = post_build(prefix, new_files(prefix), recipe(tmp, missing_dso_whitelist=("**/libextra.so*",)),
                        settings(tmp))
    assert result.problems == ()
    assert result.warnings == ("bin/app: needs libextra.so.1: allowed by build/missing_dso_whitelist",)


def test_library_in_the_package_but_off_the_search_path_is_a_warning(tmp_path):
    prefix = host_prefix(tmp_path)
    compile_c(prefix / "opt/libextra.so.1", EXTRA, "-shared", "-fPIC", "-Wl,-soname,libextra.so.1")
    shutil.copy(prefix / "opt/libextra.so.1", prefix / "opt/libextra.so")
    compile_c(prefix / "bin/app", APP, f"-L{prefix}/opt", "-lextra", "-lm")
    (prefix / "opt/libextra.so").unlink()
    result = post_build(prefix, new_files(prefix), recipe(tmp_path), settings(tmp_path))
    assert result.problems == ()
    assert "bin/app: needs libextra.so.1, found at opt/libextra.so.1 (this package) but its search path " \
           "covers lib: it may not load" in result.warnings


def test_glibc_floor_becomes_a_run_requirement(overlinked):
    tmp, prefix = overlinked
    assert glibc_floor(prefix / "bin/app") == GlibcFloor("2.34", "__libc_start_main")
    result = post_build(prefix, new_files(prefix), recipe(tmp, missing_dso_whitelist=("*",)),
                        settings(tmp, max_glibc="2.36"))
    assert result.extra_run_requirements == ("__glibc >=2.34",)
    assert result.problems == ()


def test_glibc_floor_above_max_glibc_names_file_and_symbol(overlinked):
    tmp, prefix = overlinked
    compile_c(prefix / "lib/libold.so", "#include <stdio.h>\nvoid old(void) { puts(\"old\"); }\n",
              "-shared", "-fPIC")
    result = post_build(prefix, new_files(prefix), recipe(tmp, missing_dso_whitelist=("*",)),
                        settings(tmp, max_glibc="2.17"))
    assert result.problems == ("bin/app: needs glibc 2.34 (symbol __libc_start_main@GLIBC_2.34), "
                               "newer than max_glibc 2.17",)
    assert glibc_floor(prefix / "lib/libold.so") == GlibcFloor("2.17", "__cxa_finalize")


def test_wrong_arch_elf_is_a_problem(tmp_path):
    prefix = host_prefix(tmp_path)
    compile_c(prefix / "lib/libnative.so", EXTRA, "-shared", "-fPIC", cc="gcc")
    compile_c(prefix / "lib/libright.so", EXTRA, "-shared", "-fPIC")
    result = post_build(prefix, new_files(prefix), recipe(tmp_path), settings(tmp_path))
    assert len(result.problems) == 1
    assert result.problems[0].startswith("lib/libnative.so: ELF file for X86_64 (64-bit), but the package is for "
                                         "linux-aarch64 (AARCH64, 64-bit)\n    hint: built with the build machine's "
                                         "compiler: compile with $CC/$CXX")


def test_foreign_elf_outside_binary_relocation_is_left_alone_with_a_warning(tmp_path):
    prefix = host_prefix(tmp_path)
    compile_c(prefix / "share/firmware/x86.so", EXTRA, "-shared", "-fPIC", f"-Wl,-rpath,{prefix}/lib", cc="gcc")
    before = (prefix / "share/firmware/x86.so").read_bytes()
    result = post_build(prefix, new_files(prefix), recipe(tmp_path, binary_relocation=("lib/*", "bin/*")),
                        settings(tmp_path))
    assert result.problems == ()
    assert result.warnings[0].startswith("share/firmware/x86.so: ELF file for X86_64")
    assert (prefix / "share/firmware/x86.so").read_bytes() == before


def test_elf_in_a_noarch_package_is_a_problem(tmp_path):
    prefix = host_prefix(tmp_path)
    compile_c(prefix / "lib/libx.so", EXTRA, "-shared", "-fPIC")
    result = post_build(prefix, new_files(prefix), recipe(tmp_path, noarch="generic"), settings(tmp_path))
    assert result.problems == ("lib/libx.so: ELF file in a noarch: generic package",)
    assert result.extra_run_requirements == ()
