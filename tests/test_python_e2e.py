"""The Python layer end to end: doit builds python for both platforms, then a noarch: python
package and a C extension on top of it (tests/python_recipes), and refuses bad input."""
from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path

import pytest


# -- end to end: doit builds python (both platforms), then packages on top of it ------------
# The python stack takes long to build cold (python and its libraries for linux-aarch64 and
# linux-64): one module-scoped cache serves every test below. CONDOIT_TEST_PYTHON_CACHE
# names an existing cache to reuse instead (stamps are portable: finished stages stay done).
RECIPES = Path(__file__).resolve().parent / "python_recipes"


@pytest.fixture(scope="module")
def py_stack(tmp_path_factory, python_layer):
    """(recipes root, cache): the shipped recipes plus tests/python_recipes, side by side, and
    a clone of the session's cache of the shipped stack (signatures are portable: python and
    its libraries are up to date there; only the test recipes build)."""
    from conftest import clone_cache
    from doit_runner import ROOT
    root = tmp_path_factory.mktemp("pystack")
    recipes = root / "recipes"
    recipes.mkdir()
    for d in sorted((ROOT / "recipes").iterdir()) + sorted(RECIPES.iterdir()):
        if (d / "meta.yaml").is_file():
            (recipes / d.name).symlink_to(d)
    return recipes, clone_cache(python_layer.cache, root / "cache")


def doit_build(py_stack, *targets: str, timeout: int = 5400):
    from doit_runner import run_doit
    recipes, cache = py_stack
    started = time.monotonic()
    run = run_doit(recipes, cache, *targets, timeout=timeout)
    print(f"\n`doit {' '.join(targets)}`: {time.monotonic() - started:.1f} s")
    return run


@pytest.fixture(scope="module")
def built(py_stack):
    run = doit_build(py_stack, "build:fastext", "build:pydemo")
    assert run.returncode == 0, run.output[-6000:]
    return run


def package_members(archive: Path) -> dict[str, bytes]:
    """Every file of a .conda package (both inner tarballs): name -> bytes."""
    from test_reproducible import read_archive
    return {name: data for name, data in read_archive(archive).items() if not name.startswith("@")}


def test_plan_builds_python_for_the_build_machine_and_noarch_once(py_stack):
    from doit_runner import run_doit
    run = run_doit(*py_stack, "list", "--all")
    assert run.returncode == 0, run.output
    names = {line.split()[0] for line in run.stdout.splitlines() if line.strip()}
    assert {"compile:python@linux-64", "compile:fastext", "compile:pydemo"} <= names
    assert "compile:pydemo@linux-64" not in names and "compile:fastext@linux-64" not in names


def test_extension_is_cross_compiled_for_the_target_abi(built, py_stack):
    recipes, cache = py_stack
    [archive] = (cache / "channel/linux-aarch64").glob("fastext-1.0-*.conda")
    files = package_members(archive)
    [ext] = [n for n in files if n.endswith(".so")]
    assert ext == "lib/python3.11/site-packages/fastext/_speed.cpython-311-aarch64-linux-gnu.so"
    assert files[ext][18:20] == (183).to_bytes(2, "little")            # e_machine: EM_AARCH64
    assert "lib/python3.11/site-packages/fastext/__pycache__/cli.cpython-311.pyc" in files
    assert files["bin/fast-answer"].startswith(b"#!/")
    assert b"/bin/python" in files["bin/fast-answer"].splitlines()[0]
    compile_log = (cache / "logs/fastext/linux-aarch64/compile.log").read_text()
    assert "aarch64-conda-linux-gnu-cc" in compile_log
    test_log = (cache / "logs/fastext/linux-aarch64/test.log").read_text()
    assert "on aarch64 at" in test_log and "import: fastext._speed" in test_log
    assert "fast-answer: 42 on aarch64" in test_log


def test_noarch_python_package_layout_and_link_json(built, py_stack):
    recipes, cache = py_stack
    assert not list((cache / "channel/linux-aarch64").glob("pydemo-*"))
    [archive] = (cache / "channel/noarch").glob("pydemo-1.0-*.conda")
    files = package_members(archive)
    assert "site-packages/pydemo/__init__.py" in files
    assert not [n for n in files if n.endswith(".pyc") or n.startswith(("lib/", "bin/"))]
    assert json.loads(files["info/link.json"])["noarch"] == {"type": "python",
                                                            "entry_points": ["pydemo-hello = pydemo:hello"]}
    assert json.loads(files["info/index.json"])["noarch"] == "python"
    test_log = (cache / "logs/pydemo/linux-aarch64/test.log").read_text()
    assert "hello from pydemo on aarch64" in test_log


@pytest.mark.parametrize("platform", ["linux-aarch64", "linux-64"])
def test_noarch_package_installs_into_both_platforms_prefixes(built, py_stack, tmp_path, platform):
    """py-rattler links site-packages/ under the prefix's python and writes the entry point."""
    from tasks.envs import create_env
    from tasks.settings import load_settings
    recipes, cache = py_stack
    from doit_runner import ROOT
    settings = load_settings({"cache": str(cache), "recipes": str(recipes), "target": platform}, root=ROOT)
    prefix = tmp_path / "elsewhere" / "env"
    create_env(["pydemo"], prefix, settings, platform=platform, what="a test prefix")
    assert (prefix / "lib/python3.11/site-packages/pydemo/__init__.py").is_file()
    script = prefix / "bin/pydemo-hello"
    assert script.read_text().startswith(f"#!{prefix}/bin/python")
    out = subprocess.run([str(script)], capture_output=True, text=True, timeout=120,
                         env={"PATH": "/usr/bin:/bin", "QEMU_LD_PREFIX": "/usr/aarch64-linux-gnu"})
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == f"hello from pydemo on {'aarch64' if platform == 'linux-aarch64' else 'x86_64'}"


def test_a_build_needing_a_module_the_host_lacks_names_it(built, py_stack):
    recipes, cache = py_stack
    run = doit_build(py_stack, "build:needsmod", timeout=1200)
    assert run.returncode != 0
    assert "[needsmod] stage 'compile' failed: build script exited with status 1" in run.output
    assert "No module named 'condoit_missing_build_helper'" in run.output
    assert ("hint: the build's python cannot import `condoit_missing_build_helper`: add the package that "
            "provides it to requirements/host") in run.output
    assert "logs/needsmod/linux-aarch64/compile.log" in run.output
    assert not list((cache / "channel").glob("*/needsmod-*"))


def test_wrong_arch_extension_fails_the_package_stage_and_publishes_nothing(py_stack):
    recipes, cache = py_stack
    run = doit_build(py_stack, "build:badext", timeout=600)
    assert run.returncode != 0
    assert "[badext] stage 'package' failed" in run.output
    assert ("lib/python3.11/site-packages/bad.cpython-311-x86_64-linux-gnu.so: ELF file for X86_64 (64-bit), "
            "but the package is for linux-aarch64") in run.output
    assert "a Python extension built with the build machine's compiler" in run.output
    assert not list((cache / "channel").glob("*/badext-*"))
