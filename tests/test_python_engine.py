"""The engine's Python conventions: noarch: python layout, .pyc, the cross python environment,
a wrong-architecture extension, and what build.sh sees. Real compilers, real pythons."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path


from relocate_support import compile_c, host_prefix, needs_cross, new_files, recipe, settings
from tasks.buildenv import build_environment
from tasks.crosspython import CrossPython, build_python_specs, cross_python, find_sysconfigdata, host_platform, prepare
from tasks.model import Recipe, Requirements
from tasks.paths import Layout
from tasks.relocate import post_build
from tasks import testfiles

SP = "lib/python3.11/site-packages"
EXTENSION = """#include <stddef.h>
int PyInit_fast(void) { return 0; }
"""


def write(path: Path, text: str, mode: int = 0o644) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    path.chmod(mode)


def python_recipe(tmp_path: Path, **build) -> Recipe:
    return recipe(tmp_path, "demo", host=("python", "pip"), run=("python",), **build)


def test_noarch_python_layout_moves_site_packages_and_scripts_and_drops_bytecode(tmp_path):
    prefix = host_prefix(tmp_path)
    write(prefix / SP / "demo/__init__.py", "VALUE = 1\n")
    write(prefix / SP / "demo/__pycache__/__init__.cpython-311.pyc", "x")
    write(prefix / SP / "demo-1.0.dist-info/METADATA", "Name: demo\n")
    write(prefix / "bin/demo-cli", "#!/usr/bin/env python\nprint(1)\n", 0o755)     # an entry point: dropped
    write(prefix / "bin/demo-tool", "#!/bin/sh\necho tool\n", 0o755)              # a plain script: kept
    write(prefix / "share/demo/data.txt", "data\n")
    result = post_build(prefix, new_files(prefix), python_recipe(tmp_path, noarch="python",
                                                                 entry_points=("demo-cli = demo:main",)),
                        settings(tmp_path))
    assert result.problems == ()
    assert result.files == ("python-scripts/demo-tool", "share/demo/data.txt",
                            "site-packages/demo-1.0.dist-info/METADATA", "site-packages/demo/__init__.py")
    assert (prefix / "site-packages/demo/__init__.py").read_text() == "VALUE = 1\n"
    assert not (prefix / "lib").exists() and not (prefix / "bin").exists()
    assert any("bin/demo-cli: removed (an entry point" in line for line in result.log)
    assert result.extra_run_requirements == ()       # no glibc floor in noarch


def test_arch_specific_python_package_gets_checked_hash_bytecode_without_build_paths(tmp_path):
    prefix = host_prefix(tmp_path)
    write(prefix / SP / "demo/__init__.py", "def answer():\n    return 42\n")
    write(prefix / SP / "demo/broken.py", "print 'python 2'\n")         # conda-build leaves it without .pyc
    result = post_build(prefix, new_files(prefix), python_recipe(tmp_path), settings(tmp_path, python="3.11"))
    assert result.problems == ()
    pyc = f"{SP}/demo/__pycache__/__init__.cpython-311.pyc"
    assert pyc in result.files and f"{SP}/demo/__pycache__/broken.cpython-311.pyc" not in result.files
    data = (prefix / pyc).read_bytes()
    assert int.from_bytes(data[4:8], "little") == 0b11               # PEP 552: hash-based, checked
    assert str(prefix).encode() not in data and str(tmp_path).encode() not in data
    assert not [p for p in result.prefix_files if p.path == pyc]
    assert any(".pyc compiled by" in line for line in result.log)


@needs_cross
def test_x86_64_extension_in_an_aarch64_package_is_refused_with_the_fix(tmp_path):
    prefix = host_prefix(tmp_path)
    name = f"{SP}/fast.cpython-311-x86_64-linux-gnu.so"
    compile_c(prefix / name, EXTENSION, "-shared", "-fPIC", cc="gcc")     # the build machine's compiler
    write(prefix / SP / "fast_helpers.py", "X = 1\n")
    result = post_build(prefix, new_files(prefix), python_recipe(tmp_path), settings(tmp_path))
    assert len(result.problems) == 1, result.problems
    problem = result.problems[0]
    assert problem.startswith(f"{name}: ELF file for X86_64 (64-bit), but the package is for linux-aarch64")
    assert "a Python extension built with the build machine's compiler and python" in problem
    assert "$PYTHON -m pip install . --no-deps --no-build-isolation" in problem


def test_test_imports_say_which_python_imports_what(tmp_path):
    from tasks.model import TestSpec
    r = Recipe(name="demo", version="1", recipe_dir=tmp_path, meta_path=tmp_path / "meta.yaml",
               test=TestSpec(imports=("json", "email.mime")))
    script = testfiles.test_files(r)["run_test.py"].decode()
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert proc.stdout.splitlines()[0].startswith(f"python {sys.version.split()[0]} on x86_64 at ")
    assert "import: email.mime" in proc.stdout and "email/mime/__init__.py" in proc.stdout


def test_failure_hint_tells_a_missing_host_package_from_a_missing_stdlib_module(tmp_path):
    from tasks.pyhints import build_failure_hint
    log = tmp_path / "compile.log"
    log.write_text("Traceback (most recent call last):\nModuleNotFoundError: No module named 'Cython'\n")
    assert "cannot import `Cython`: add the package that provides it to requirements/host" in build_failure_hint(log)
    log.write_text("ImportError: No module named '_sqlite3'\n")
    assert ("`_sqlite3`, a module of the standard library: the stack's python was built without it (it needs "
            "sqlite in the python recipe's requirements/host)") in build_failure_hint(log)
    log.write_text("error: command 'gcc' failed\n")
    assert build_failure_hint(log) == ""


# -- the cross python environment, on the engine's own python standing for both ------------
def fake_target_python(prefix: Path, build_prefix: Path) -> None:
    """A host prefix whose python is a stand-in (the test needs no aarch64 python to check the
    environment's shape) with aarch64 sysconfig data, and a build prefix with a real python."""
    xy = f"{sys.version_info[0]}.{sys.version_info[1]}"
    (build_prefix / "bin").mkdir(parents=True)
    (build_prefix / "bin" / f"python{xy}").symlink_to(sys.executable)
    write(prefix / "bin" / f"python{xy}", "not a program\n", 0o755)
    (prefix / "bin/python").symlink_to(f"python{xy}")
    data = prefix / f"lib/python{xy}/_sysconfigdata__linux_aarch64-linux-gnu.py"
    write(data, "build_time_vars = " + repr({
        "EXT_SUFFIX": ".cpython-311-aarch64-linux-gnu.so", "SOABI": "cpython-311-aarch64-linux-gnu",
        "INCLUDEPY": f"{prefix}/include/python{xy}", "CC": "cc", "LDSHARED": "cc -shared", "MULTIARCH": "aarch64-linux-gnu",
        "HOST_GNU_TYPE": "aarch64-unknown-linux-gnu"}) + "\n")
    write(prefix / f"lib/python{xy}/_sysconfigdata__linux_x86_64-linux-gnu.py", "build_time_vars = {}\n")
    write(prefix / f"lib/python{xy}/site-packages/hostonly.py", "WHERE = 'host site-packages'\n")


def test_cross_python_env_builds_for_the_target_and_installs_into_the_host_prefix(tmp_path):
    xy = f"{sys.version_info[0]}.{sys.version_info[1]}"
    s = settings(tmp_path, python=xy)
    layout = Layout.of(s)
    prefix, build_prefix = layout.host_prefix("demo"), layout.build_prefix("demo")
    fake_target_python(prefix, build_prefix)
    r = python_recipe(tmp_path)
    cross = cross_python(r, s, prefix, build_prefix)
    assert cross == CrossPython(xy, prefix, build_prefix, "_sysconfigdata__linux_aarch64-linux-gnu", "linux-aarch64")
    prepare(cross)
    env = build_environment(r, s, src_dir=tmp_path, prefix=prefix, build_prefix=build_prefix, pkg_hash="h0",
                            build_string="h0_0", source_date_epoch=0)
    assert env["PYTHON"] == f"{prefix}/bin/python" and env["SP_DIR"] == f"{prefix}/lib/python{xy}/site-packages"
    assert env["_PYTHON_HOST_PLATFORM"] == "linux-aarch64"
    assert env["LDSHARED"] == f"{env['CC']} -shared"
    probe = ("import sys, sysconfig, hostonly; print(sys.prefix); print(sys.executable); "
             "print(sysconfig.get_config_var('EXT_SUFFIX')); print(sysconfig.get_platform()); "
             "print(sysconfig.get_paths()['purelib']); print(sysconfig.get_paths()['scripts']); print(hostonly.WHERE)")
    out = subprocess.run([env["PYTHON"], "-c", probe], env=env, capture_output=True, text=True, check=True).stdout
    assert out.splitlines() == [str(prefix), f"{prefix}/bin/python", ".cpython-311-aarch64-linux-gnu.so",
                                "linux-aarch64", f"{prefix}/lib/python{xy}/site-packages", f"{prefix}/bin",
                                "host site-packages"]
    # python on PATH (the build prefix's) is the same cross python
    out = subprocess.run(["python", "-c", "import sys; print(sys.prefix)"], env=env, capture_output=True,
                         text=True, check=True).stdout
    assert out.strip() == str(prefix)


def test_native_builds_and_recipes_without_python_get_no_cross_setup(tmp_path):
    s = settings(tmp_path)
    native = settings(tmp_path, target_platform="linux-64")
    layout = Layout.of(s)
    fake_target_python(layout.host_prefix("demo"), layout.build_prefix("demo"))
    args = (layout.host_prefix("demo"), layout.build_prefix("demo"))
    assert cross_python(python_recipe(tmp_path), native, *args) is None
    assert cross_python(recipe(tmp_path, "demo"), s, *args) is None
    assert build_python_specs(python_recipe(tmp_path), s, {"python"}) == ("python 3.11.*",)
    assert build_python_specs(python_recipe(tmp_path), native, {"python"}) == ()
    with_build = Recipe(name="x", version="1", recipe_dir=tmp_path, meta_path=tmp_path / "meta.yaml",
                        requirements=Requirements(build=("python",), host=("python",)))
    assert build_python_specs(with_build, s, {"python"}) == ()
    assert host_platform("linux-64") == "linux-x86_64" and host_platform("linux-aarch64") == "linux-aarch64"
    assert find_sysconfigdata(layout.host_prefix("demo"), f"{sys.version_info[0]}.{sys.version_info[1]}",
                              "linux-aarch64") == "_sysconfigdata__linux_aarch64-linux-gnu"


def test_link_json_of_a_noarch_python_package(tmp_path):
    from tasks.stages.package import link_json
    r = python_recipe(tmp_path, noarch="python", entry_points=("demo-cli = demo.cli:main",))
    assert json.loads(json.dumps(link_json(r))) == {
        "noarch": {"type": "python", "entry_points": ["demo-cli = demo.cli:main"]}, "package_metadata_version": 1}
