"""Issue 10: the shipped `python` recipe, cross-compiled for linux-aarch64 with a
build-platform python of the same version built in the same run, installed with py-rattler
into a prefix unlike the build prefix, and run there under qemu."""
from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest

from doit_runner import ROOT, write_recipe
from render_helpers import stack as render_stack
from test_package_metadata import info_files
from tasks.envs import create_env
from tasks.plan import make_plan
from tasks.settings import load_settings

IMPORTS = ("import ssl, sqlite3, zlib, bz2, lzma, ctypes, readline, curses, decimal, uuid, "
           "pyexpat, _ctypes, hashlib; print(ssl.OPENSSL_VERSION)")
QEMU_ENV = {"PATH": "/usr/bin:/bin", "QEMU_LD_PREFIX": "/usr/aarch64-linux-gnu", "LC_ALL": "C.UTF-8"}


@pytest.fixture(scope="module")
def python_build(python_layer) -> Path:
    """The session's build of the shipped stack (tests/conftest.py): a cross build, so
    python@linux-64 was built first, then the aarch64 python."""
    done = python_layer.run.ran | python_layer.run.uptodate
    assert {"compile:python@linux-64", "compile:python", "package:python", "test:python"} <= done, sorted(done)
    return python_layer.cache


@pytest.fixture(scope="module")
def python_env(python_build: Path, tmp_path_factory) -> Path:
    """The aarch64 python installed by py-rattler at a path unlike the padded build prefix."""
    prefix = tmp_path_factory.mktemp("install") / "py-env-not-like-the-build-prefix"
    settings = load_settings({"cache": str(python_build), "recipes": str(ROOT / "recipes")}, root=ROOT)
    create_env(["python"], prefix, settings)
    return prefix


def test_a_recipe_needing_itself_on_the_build_machine_gets_its_build_platform_node(tmp_path):
    """CPython's cross build runs a python of its own version: `python` in its own
    requirements/build is its linux-64 node, not a cycle; natively the selector drops it."""
    root = tmp_path / "recipes"
    write_recipe(root, "lib", 'package: {name: lib, version: "1"}\n')
    write_recipe(root, "interp", """
        package: {name: interp, version: "1"}
        requirements:
          build:
            - interp  # [build_platform != target_platform]
          host: [lib]
        """)
    target = render_stack(root)
    plan = make_plan(target, "linux-aarch64", "linux-64", lambda: render_stack(root, target="linux-64"))
    assert set(plan.needs[("interp", "linux-aarch64")]) == {("lib", "linux-aarch64"), ("interp", "linux-64")}
    assert plan.needs[("interp", "linux-64")] == (("lib", "linux-64"),)
    native = render_stack(root, target="linux-64")
    same = make_plan(native, "linux-64", "linux-64", lambda: native)
    assert same.needs[("interp", "linux-64")] == (("lib", "linux-64"),)


def target_python(prefix: Path, code: str) -> str:
    """Run ``code`` with the installed aarch64 python (qemu through binfmt_misc)."""
    proc = subprocess.run([prefix / "bin" / "python", "-c", code], capture_output=True, text=True,
                          env=QEMU_ENV, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return proc.stdout.strip()


def package_info(cache: Path, name: str, subdir: str = "linux-aarch64") -> dict[str, dict]:
    """info/index.json and info/run_exports.json of the one ``name`` package in the channel."""
    files = info_files(cache, subdir, name)
    return {member: json.loads(files[member]) for member in ("info/index.json", "info/run_exports.json")
            if member in files}


def test_the_installed_aarch64_python_has_every_module(python_env: Path):
    assert "aarch64" in subprocess.run(["file", "-L", python_env / "bin" / "python3.11"],
                                       capture_output=True, text=True).stdout
    assert target_python(python_env, IMPORTS).startswith("OpenSSL 3.0.")


def test_sysconfig_follows_the_install_prefix(python_env: Path, python_build: Path):
    purelib = target_python(python_env, "import sysconfig; print(sysconfig.get_paths()['purelib'])")
    assert purelib == f"{python_env}/lib/python3.11/site-packages"
    # the compiler a later extension build gets: the target's, by its conda name
    cc = target_python(python_env, "import sysconfig; print(sysconfig.get_config_var('CC'))")
    assert cc.split()[0] == "aarch64-conda-linux-gnu-cc", cc
    suffix = target_python(python_env, "import sysconfig; print(sysconfig.get_config_var('EXT_SUFFIX'))")
    assert suffix == ".cpython-311-aarch64-linux-gnu.so"
    # nothing of the build machine: no padded build prefix, build python or work tree
    (data,) = (python_env / "lib" / "python3.11").glob("_sysconfigdata_*.py")
    text = data.read_text()
    assert str(python_env) in text and "placehold" not in text and str(python_build) not in text


def test_package_pins_python_abi_through_run_exports(python_build: Path):
    info = package_info(python_build, "python")
    index = info["info/index.json"]
    assert index["subdir"] == "linux-aarch64" and re.fullmatch(r"h[0-9a-f]{7}_0_cpython", index["build"]), index
    assert not [d for d in index["depends"] if d.startswith("python_abi")], index["depends"]
    assert "python_abi 3.11.* *_cp311" in info["info/run_exports.json"]["weak"]
    abi = package_info(python_build, "python_abi")["info/index.json"]
    assert (abi["version"], abi["build"]) == ("3.11", "2_cp311"), abi


def test_build_platform_python_went_to_linux_64(python_build: Path):
    index = package_info(python_build, "python", "linux-64")["info/index.json"]
    assert index["subdir"] == "linux-64" and index["version"] == "3.11.2", index
