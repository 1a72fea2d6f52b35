"""Issue 4/5: the shipped openssl recipe, end to end, from meta.yaml to a package that
py-rattler installs into a new, longer prefix where the aarch64 `openssl` runs (qemu)."""
from __future__ import annotations

import hashlib
import subprocess
import time

import pytest

from conftest import require_cross_toolchain
from doit_runner import ROOT, run_doit
from tasks.envs import create_env
from tasks.settings import load_settings


@pytest.fixture(scope="module")
def openssl_build(tmp_path_factory):
    require_cross_toolchain()
    cache = tmp_path_factory.mktemp("stack") / "cache"
    started = time.monotonic()
    run = run_doit(ROOT / "recipes", cache, "build:openssl", timeout=3000)
    print(f"\ncold `doit build:openssl`: {time.monotonic() - started:.1f} s")
    assert run.returncode == 0, run.output[-5000:]
    return cache, run


def test_openssl_package_is_in_the_indexed_channel(openssl_build):
    cache, run = openssl_build
    assert {"compile:openssl", "package:openssl", "index:openssl", "test:openssl"} <= run.ran
    (archive,) = (cache / "channel" / "linux-aarch64").glob("openssl-3.0.20-*.conda")
    repodata = (cache / "channel" / "linux-aarch64" / "repodata.json").read_text()
    assert archive.name in repodata


def test_second_run_is_all_up_to_date(openssl_build):
    cache, _ = openssl_build
    started = time.monotonic()
    again = run_doit(ROOT / "recipes", cache, "build:openssl")
    elapsed = time.monotonic() - started
    print(f"\nno-op `doit build:openssl`: {elapsed:.2f} s")
    assert again.returncode == 0 and again.ran == frozenset(), again.output
    assert "compile:openssl" in again.uptodate


def test_installed_openssl_runs_from_a_longer_prefix(openssl_build, tmp_path):
    cache, _ = openssl_build
    prefix = tmp_path / ("a-much-longer-install-prefix-than-the-build-used-" * 2) / "env"
    settings = load_settings({"cache": str(cache), "recipes": str(ROOT / "recipes")}, root=ROOT)
    create_env(["openssl"], prefix, settings)
    openssl = prefix / "bin" / "openssl"
    env = {"PATH": "/usr/bin:/bin", "QEMU_LD_PREFIX": "/usr/aarch64-linux-gnu"}  # no LD_LIBRARY_PATH

    version = subprocess.run([openssl, "version"], capture_output=True, text=True, env=env, check=True)
    assert version.stdout.startswith("OpenSSL 3.0.20"), version.stdout

    openssldir = subprocess.run([openssl, "version", "-d"], capture_output=True, text=True, env=env, check=True)
    assert openssldir.stdout.strip() == f'OPENSSLDIR: "{prefix}/ssl"'

    data = tmp_path / "data.bin"
    data.write_bytes(bytes(range(256)) * 4096)
    digest = subprocess.run([openssl, "sha256", "-r", data], capture_output=True, text=True, env=env, check=True)
    host = subprocess.run(["sha256sum", data], capture_output=True, text=True, check=True)
    assert digest.stdout.split()[0] == host.stdout.split()[0] == hashlib.sha256(data.read_bytes()).hexdigest()
    assert "aarch64" in subprocess.run(["file", "-L", openssl], capture_output=True, text=True).stdout
