"""Issue 11: the shipped stack with the default toolchain (zig, glibc 2.17) runs on glibc 2.17.

The shipped stack is built once per session (`doit -n 2 -P process build`, tests/conftest.py)
with the recipes' own tests (under qemu); then every package in the channel is read back: the newest GLIBC_ symbol version among its
ELF files is 2.17 and the package declares `__glibc >=2.17`. The same openssl recipe with
`toolchain=gnu` (Debian's gcc) still builds, passes its tests and declares glibc 2.34.
"""
from __future__ import annotations

import subprocess
import time

import pytest

from conftest import clone_cache
from doit_runner import ROOT, run_doit
from tasks.envs import create_env
from tasks.glibc_report import channel_floors, table
from tasks.settings import load_settings

RECIPES = ("bzip2", "xz", "libffi", "ncurses", "readline", "openssl")
QEMU_ENV = {"PATH": "/usr/bin:/bin", "QEMU_LD_PREFIX": "/usr/aarch64-linux-gnu"}


@pytest.fixture(scope="module")
def stack(python_layer):
    """The session's `doit -n 2 -P process build` of the shipped stack (tests/conftest.py)."""
    done = python_layer.run.ran | python_layer.run.uptodate
    assert {f"test:{name}" for name in RECIPES} <= done, sorted(done)
    return python_layer.cache


def test_every_package_needs_at_most_glibc_2_17(stack):
    floors = channel_floors([stack / "channel" / "linux-aarch64"])
    print("\n" + table(floors))
    names = {f.archive.rsplit("-", 2)[0] for f in floors}
    assert set(RECIPES) | {"python", "cffi", "pyyaml", "markupsafe", "psutil"} <= names, names
    for floor in floors:
        name = floor.archive.rsplit("-", 2)[0]
        assert floor.elf_files > 0 or name == "python_abi", floor      # python_abi: metadata only
        if floor.elf_files:
            assert floor.version == "2.17", f"{floor.archive}: {floor.file} needs {floor.floor}"
            assert floor.declared == ("__glibc >=2.17",), floor


def test_openssl_installs_for_a_glibc_2_17_system_and_runs(stack, tmp_path):
    settings = load_settings({"cache": str(stack), "recipes": str(ROOT / "recipes")}, root=ROOT)
    assert settings.max_glibc == "2.17"          # the solve offers __glibc 2.17 only
    prefix = tmp_path / "env"
    create_env(["openssl"], prefix, settings)
    out = subprocess.run([prefix / "bin" / "openssl", "version"], capture_output=True, text=True, env=QEMU_ENV)
    assert out.returncode == 0 and out.stdout.startswith("OpenSSL 3.0.20"), out.stderr


def test_openssl_with_debian_gcc_still_builds(stack, tmp_path):
    """toolchain=gnu: only openssl's compile and later stages run; its floor is glibc 2.34.
    On a clone of the session's cache: the others read the zig-built openssl."""
    stack = clone_cache(stack, tmp_path / "gnu" / "cache")
    started = time.monotonic()
    run = run_doit(ROOT / "recipes", stack, "build:openssl", "toolchain=gnu", timeout=3000)
    print(f"\n`doit build:openssl toolchain=gnu` after zig: {time.monotonic() - started:.0f} s")
    assert run.returncode == 0, run.output[-5000:]
    # the clone's download may be re-verified (a cheap check, no fetch); the tree stages stay
    assert {"compile:openssl", "package:openssl", "index:openssl", "test:openssl"} <= run.ran, run.output
    assert run.ran <= {"download:openssl", "compile:openssl", "package:openssl", "index:openssl", "test:openssl"}
    assert {"extract:openssl", "patch:openssl"} <= run.uptodate, run.output
    (floor,) = channel_floors(sorted((stack / "channel" / "linux-aarch64").glob("openssl-*")))
    assert floor.version == "2.34" and floor.declared == ("__glibc >=2.34",), floor
    settings = load_settings({"cache": str(stack), "recipes": str(ROOT / "recipes"), "toolchain": "gnu"}, root=ROOT)
    prefix = tmp_path / "env"
    create_env(["openssl"], prefix, settings)
    out = subprocess.run([prefix / "bin" / "openssl", "version"], capture_output=True, text=True, env=QEMU_ENV)
    assert out.returncode == 0 and out.stdout.startswith("OpenSSL 3.0.20"), out.stderr
