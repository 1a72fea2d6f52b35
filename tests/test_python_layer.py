"""Issue 10, end to end: the shipped Python layer (python, its C libraries, pip/setuptools/
wheel and the other noarch packages, cffi, pyyaml, markupsafe, psutil) cross-built once
(the session fixture ``python_layer`` in conftest.py), installed by py-rattler into a prefix
unlike the build prefix and used there under qemu; then what edits re-run."""
from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from conftest import PYTHON_LAYER_TARGETS, PythonLayerBuild
from doit_runner import ROOT, run_doit
from tasks.envs import create_env
from tasks.paths import Layout
from tasks.settings import load_settings

IMPORTS = ("import ssl, sqlite3, zlib, bz2, lzma, ctypes, readline, curses, decimal, uuid, pyexpat, "
           "yaml, cffi, markupsafe, psutil, requests; print(ssl.OPENSSL_VERSION)")
# python, pip, requests, pyyaml and cffi (the list) and the two other extensions the
# import line needs
SPECS = ("python", "pip", "requests", "pyyaml", "cffi", "markupsafe", "psutil")
QEMU_ENV = {"PATH": "/usr/bin:/bin", "QEMU_LD_PREFIX": "/usr/aarch64-linux-gnu", "LC_ALL": "C.UTF-8"}
LAYER = ("setuptools", "pip", "flit-core", "wheel", "idna", "certifi", "charset-normalizer", "urllib3",
         "requests", "pycparser", "cffi", "cython", "pyyaml", "markupsafe", "psutil")


def settings_of(cache: Path, recipes: Path = ROOT / "recipes"):
    return load_settings({"cache": str(cache), "recipes": str(recipes)}, root=ROOT)


@pytest.fixture(scope="module")
def layer_env(python_layer: PythonLayerBuild, tmp_path_factory) -> Path:
    """The packages installed with py-rattler into a fresh prefix whose path is nothing like
    the padded build prefix."""
    prefix = tmp_path_factory.mktemp("installed") / "a" / "py-layer-env"
    create_env(list(SPECS), prefix, settings_of(python_layer.cache))
    return prefix


def target(prefix: Path, program: str, *args: str) -> subprocess.CompletedProcess:
    """Run an installed program (aarch64 python or a script whose shebang names it) under qemu."""
    proc = subprocess.run([str(prefix / "bin" / program), *args], capture_output=True, text=True,
                          env=QEMU_ENV, timeout=600)
    assert proc.returncode == 0, f"{program} {' '.join(args)}:\n{proc.stdout[-2000:]}\n{proc.stderr[-3000:]}"
    return proc


def test_every_package_of_the_layer_is_built_tested_and_indexed(python_layer):
    print(f"\nbuild of the Python layer: {python_layer.seconds:.0f} s ({len(python_layer.run.ran)} tasks ran)")
    if python_layer.cold:          # both pythons were built in this run
        assert {"compile:python@linux-64", "compile:python", "test:python"} <= python_layer.run.ran
    layout = Layout.of(settings_of(python_layer.cache))
    untested = [name for name in (*LAYER, "python") if not layout.stamp(name, "test").is_file()]
    assert untested == [], untested
    channel = python_layer.cache / "channel"
    noarch = {p.name.rsplit("-", 2)[0] for p in (channel / "noarch").glob("*.conda")}
    assert {"setuptools", "pip", "wheel", "flit-core", "idna", "certifi", "charset-normalizer", "urllib3",
            "requests", "pycparser", "cython"} <= noarch, noarch
    repodata = json.loads((channel / "linux-aarch64" / "repodata.json").read_text())
    compiled = {r["name"]: r for r in repodata["packages.conda"].values()}
    for name in ("cffi", "pyyaml", "markupsafe", "psutil"):
        depends = compiled[name]["depends"]     # python's run_exports pin the ABI
        assert any(d.startswith("python_abi 3.11") and "cp311" in d for d in depends), (name, depends)
        assert compiled[name]["subdir"] == "linux-aarch64"
    assert any(d.startswith("libffi") for d in compiled["cffi"]["depends"]), compiled["cffi"]["depends"]
    assert any(d.startswith("yaml") for d in compiled["pyyaml"]["depends"]), compiled["pyyaml"]["depends"]


def test_test_stage_log_shows_the_aarch64_python_importing_the_package(python_layer):
    layout = Layout.of(settings_of(python_layer.cache))
    for name, module in (("requests", "requests"), ("cffi", "_cffi_backend"), ("pyyaml", "yaml._yaml")):
        log = layout.log(name, "test").read_text()
        assert re.search(r"python 3\.11\.2 on aarch64 at \S+/bin/python", log), log[-3000:]
        assert f"import: {module}" in log, log[-3000:]


def test_installed_layer_imports_every_module_under_qemu(layer_env):
    proc = target(layer_env, "python", "-c", IMPORTS)
    assert proc.stdout.startswith("OpenSSL 3.0.20"), proc.stdout
    machine = target(layer_env, "python", "-c", "import platform, yaml, yaml._yaml as y, _cffi_backend, markupsafe._speedups, "
                                                "psutil._psutil_linux as p; print(platform.machine(), "
                                                "yaml.__with_libyaml__, y.__file__, p.__file__)")
    arch, libyaml, yaml_ext, psutil_ext = machine.stdout.split()
    assert (arch, libyaml) == ("aarch64", "True")
    assert yaml_ext.startswith(str(layer_env)) and yaml_ext.endswith(".cpython-311-aarch64-linux-gnu.so")
    assert psutil_ext.endswith(".abi3.so")          # psutil 5.9.6 builds for the stable ABI
    assert "aarch64" in subprocess.run(["file", "-L", yaml_ext], capture_output=True, text=True).stdout


def test_console_scripts_of_noarch_packages_run(layer_env):
    # written by py-rattler from info/link.json at install time, shebang to the installed python
    assert target(layer_env, "pip", "--version").stdout.startswith("pip 23.2.1 from " + str(layer_env))
    normalizer = target(layer_env, "normalizer", "--version")
    assert "3.3.2" in normalizer.stdout + normalizer.stderr
    assert (layer_env / "bin" / "pip").read_text().startswith(f"#!{layer_env}/bin/python")


def test_purelib_is_inside_the_install_prefix(layer_env):
    out = target(layer_env, "python", "-c", "import sysconfig, requests, yaml; print(sysconfig.get_paths()"
                                            "['purelib']); print(requests.__file__); print(yaml.__file__)")
    purelib, requests_file, yaml_file = out.stdout.split()
    assert purelib == f"{layer_env}/lib/python3.11/site-packages"
    assert requests_file.startswith(purelib) and yaml_file.startswith(purelib)


def test_python_variant_change_leaves_recipes_without_python_alone(python_layer):
    run = run_doit(ROOT / "recipes", python_layer.cache, "build:xz", "build:openssl", python="3.12")
    assert run.returncode == 0, run.output[-3000:]
    assert run.ran == frozenset(), sorted(run.ran)
    assert {"compile:xz", "compile:openssl", "test:openssl"} <= run.uptodate
    # the variant did reach the recipes that use python (their host python is now 3.12.*)
    assert "requirement 'python 3.12.*'" in run.output and "recipes/cffi/meta.yaml" in run.output


def test_editing_a_pure_python_recipe_reruns_only_its_own_stages(python_layer, tmp_path):
    """idna's summary edited in a copy of the stack: its package is remade, the C libraries,
    python and the other packages stay up to date; reverting gives back the same bytes.
    (Runs last: it replaces idna's package in the session's channel, then restores it.)"""
    recipes = tmp_path / "recipes"
    shutil.copytree(ROOT / "recipes", recipes)
    channel = python_layer.cache / "channel" / "noarch"
    (before,) = channel.glob("idna-3.4-*.conda")
    original = before.read_bytes()
    meta = recipes / "idna" / "meta.yaml"
    text = meta.read_text()
    meta.write_text(text.replace("summary: '", "summary: 'Edited: ", 1))

    try:
        edited = run_doit(recipes, python_layer.cache, *PYTHON_LAYER_TARGETS)
        assert edited.returncode == 0, edited.output[-4000:]
        print(f"\nafter an about/summary edit of idna: {sorted(edited.ran)}")
        assert {"package:idna", "index:idna", "test:idna"} <= edited.ran
        per_recipe = {name.split(":", 1)[1] for name in edited.ran if ":" in name}
        assert per_recipe - {"idna", "requests"} == set(), sorted(edited.ran)
        assert {name for name in edited.ran if ":" not in name} <= {"channel"}, sorted(edited.ran)
        assert not any(t.startswith(("compile:", "download:", "extract:", "patch:")) for t in edited.ran), \
            sorted(edited.ran)
        assert {"compile:python", "compile:requests", "compile:cffi", "test:pyyaml"} <= edited.uptodate
        (after,) = channel.glob("idna-3.4-*.conda")
        assert after.read_bytes() != original
    finally:        # the session's cache gets its package back, whatever failed above
        meta.write_text(text)
        reverted = run_doit(recipes, python_layer.cache, *PYTHON_LAYER_TARGETS)
    assert reverted.returncode == 0, reverted.output[-4000:]
    assert not any(t.startswith("compile:") for t in reverted.ran), sorted(reverted.ran)
    (restored,) = channel.glob("idna-3.4-*.conda")
    assert restored.read_bytes() == original      # reproducible: the same package again
