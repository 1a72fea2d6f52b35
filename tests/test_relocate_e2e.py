"""End to end: cross-compile into the padded host prefix, post_build, package, install with
py-rattler somewhere else, and run the result under qemu."""
from __future__ import annotations

import os
import subprocess

import pytest

from relocate_support import (binfmt_active, compile_c, host_prefix, install, make_package, needs_cross,
                              needs_qemu, new_files, recipe, run_aarch64, settings)
from tasks.relocate import PrefixFile, post_build
from tasks.relocate.elf import describe, parse

pytestmark = [needs_cross, needs_qemu]

LIB = "int demo_value(void) { return 42; }\n"
MAIN = """#include <stdio.h>
int demo_value(void);
const char *datadir = "{prefix}/share";
int main(void) {{ printf("%d %s\\n", demo_value(), datadir); return 0; }}
"""


def build_demo(prefix):
    """What a build.sh would install: a library, a program, a script, a config and a data blob."""
    compile_c(prefix / "lib/libdemo.so.1", LIB, "-shared", "-fPIC", "-Wl,-soname,libdemo.so.1")
    os.symlink(prefix / "lib/libdemo.so.1", prefix / "lib/libdemo.so")  # absolute, as some installs do
    compile_c(prefix / "bin/demo", MAIN.format(prefix=prefix), f"-L{prefix}/lib", "-ldemo",
              f"-Wl,-rpath,{prefix}/lib")
    (prefix / "bin/hello").write_text(f"#!{prefix}/bin/demo\n# runs demo through its shebang\n")
    (prefix / "bin/hello").chmod(0o700)
    (prefix / "etc").mkdir()
    (prefix / "etc/demo.conf").write_text(f"datadir={prefix}/share\n")
    (prefix / "share/demo").mkdir(parents=True)
    (prefix / "share/demo/blob.bin").write_bytes(b"\0\1" + f"{prefix}/share".encode() + b"\0tail")
    return new_files(prefix)


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("e2e")
    prefix = host_prefix(tmp)
    files = build_demo(prefix)
    result = post_build(prefix, files, recipe(tmp), settings(tmp))
    package = make_package(prefix, result, tmp / "channel" / "linux-aarch64")
    return tmp, prefix, result, package


def test_post_build_reports_the_relocation(built):
    tmp, prefix, result, _ = built
    assert len(str(prefix)) == 255
    assert result.problems == ()
    assert result.files == ("bin/demo", "bin/hello", "etc/demo.conf", "lib/libdemo.so", "lib/libdemo.so.1",
                            "share/demo/blob.bin")
    assert result.prefix_files == (
        PrefixFile("bin/demo", str(prefix), "binary"),
        PrefixFile("bin/hello", str(prefix), "text"),
        PrefixFile("etc/demo.conf", str(prefix), "text"),
        PrefixFile("share/demo/blob.bin", str(prefix), "binary"),
    )
    assert result.extra_run_requirements == ("__glibc >=2.34",)
    assert os.readlink(prefix / "lib/libdemo.so") == "libdemo.so.1"
    demo, lib = describe(parse(prefix / "bin/demo")), describe(parse(prefix / "lib/libdemo.so.1"))
    assert demo.search_path == ("$ORIGIN/../lib",)
    assert lib.rpath == ("$ORIGIN",)
    assert (prefix / "bin/demo").stat().st_mode & 0o777 == 0o755
    assert (prefix / "bin/hello").stat().st_mode & 0o777 == 0o755   # was 0700


def test_edited_binary_still_runs_in_the_build_prefix(built):
    _, prefix, _, _ = built
    out = run_aarch64([str(prefix / "bin/demo")])
    assert out.returncode == 0, out.stderr
    assert out.stdout == f"42 {prefix}/share\n"


@pytest.mark.parametrize("length", [40, 200], ids=["short", "longer-than-127"])
def test_installed_elsewhere_it_runs_and_names_the_install_prefix(built, length):
    tmp, build_prefix, _, _ = built
    target = tmp / "install"
    target = target.with_name(target.name + "_" * max(0, length - len(str(target))))
    assert str(target) != str(build_prefix) and len(str(target)) >= length
    installed = install(tmp / "channel", ["demo"], target, tmp / "pkgs")
    assert installed == ["demo"]

    env = {k: v for k, v in os.environ.items() if k != "LD_LIBRARY_PATH"}
    out = run_aarch64([str(target / "bin/demo")], env=env)
    assert out.returncode == 0, out.stderr
    assert out.stdout == f"42 {target}/share\n"
    assert (target / "etc/demo.conf").read_text() == f"datadir={target}/share\n"
    blob = (target / "share/demo/blob.bin").read_bytes()
    assert f"{target}/share\0".encode() in blob and str(build_prefix).encode() not in blob

    shebang = (target / "bin/hello").read_text().splitlines()[0]
    if len(f"#!{target}/bin/demo") <= 127:
        assert shebang == f"#!{target}/bin/demo"
    else:  # the installer shortens it; PATH finds the program
        assert shebang == "#!/usr/bin/env demo"
    if binfmt_active():
        ran = subprocess.run([str(target / "bin/hello")], capture_output=True, text=True,
                             env={**env, "PATH": f"{target}/bin:/usr/bin:/bin"})
        assert ran.returncode == 0, ran.stderr
        assert ran.stdout == f"42 {target}/share\n"


def test_glibc_floor_is_a_real_requirement(built):
    tmp, _, _, _ = built
    import rattler.exceptions
    with pytest.raises(rattler.exceptions.SolverError, match="__glibc"):
        install(tmp / "channel", ["demo"], tmp / "old-system", tmp / "pkgs", glibc="2.17")


def test_install_prefix_longer_than_the_placeholder_is_refused(built):
    """Binary patching can only shorten: a prefix longer than the 255-char placeholder cannot work."""
    tmp, build_prefix, _, _ = built
    target = tmp / ("x" * 120) / ("y" * 120) / "longer"
    assert len(str(target)) > len(str(build_prefix))
    with pytest.raises(Exception, match="cannot be longer than the placeholder"):
        install(tmp / "channel", ["demo"], target, tmp / "pkgs")
