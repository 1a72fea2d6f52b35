"""Issue 12 on the shipped stack: `doit installer` from installer/construct.yaml (python, pip,
openssl, requests, pyyaml, cffi), then the installer run like a user would (`sh ... -b -p`),
the stack's aarch64 python importing what it holds, under qemu."""
from __future__ import annotations

import subprocess
import time

import pytest

from conftest import clone_cache
from doit_runner import ROOT, run_doit

QEMU_ENV = {"PATH": "/usr/bin:/bin", "QEMU_LD_PREFIX": "/usr/aarch64-linux-gnu", "HOME": "/root", "LC_ALL": "C.UTF-8"}


@pytest.fixture(scope="module")
def shipped_installer(python_layer, tmp_path_factory):
    cache = clone_cache(python_layer.cache, tmp_path_factory.mktemp("installer") / "cache")
    started = time.monotonic()
    run = run_doit(ROOT / "recipes", cache, "installer", timeout=3000)
    print(f"\n`doit installer` on the built Python layer: {time.monotonic() - started:.0f} s")
    assert run.returncode == 0, run.output[-5000:]
    (installer,) = (cache / "installer").glob("CondoitPython-*-Linux-aarch64.sh")
    return cache, installer


@pytest.mark.parametrize("where", ["a", "much/longer/path/of/a/user/who/likes/deep/directories/condoit-python"])
def test_the_shipped_installer_puts_python_and_pip_on_an_aarch64_machine(shipped_installer, tmp_path, where):
    cache, installer = shipped_installer
    sha = (installer.parent / (installer.name + ".sha256")).read_text().split()[0]
    assert len(sha) == 64
    prefix = tmp_path / where
    started = time.monotonic()
    done = subprocess.run(["sh", str(installer), "-b", "-p", str(prefix)], capture_output=True, text=True,
                          env=QEMU_ENV, timeout=900)
    print(f"\n`sh {installer.name} -b -p ...` ({installer.stat().st_size / 1e6:.1f} MB): "
          f"{time.monotonic() - started:.1f} s")
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]

    def run(*args: object) -> str:
        out = subprocess.run([str(a) for a in args], capture_output=True, text=True, env=QEMU_ENV, timeout=300)
        assert out.returncode == 0, f"{args}: {out.stdout[-2000:]}{out.stderr[-2000:]}"
        return out.stdout

    lines = run(prefix / "bin" / "python", "-c",
                "import ssl, sqlite3, requests, yaml, cffi, sys, sysconfig; "
                "print(sys.prefix); print(sysconfig.get_paths()['purelib']); "
                "print(yaml.__with_libyaml__, ssl.OPENSSL_VERSION)").splitlines()
    assert lines[0] == str(prefix) and lines[1].startswith(str(prefix)), lines
    assert lines[2].startswith("True OpenSSL 3.0.20"), lines
    assert str(prefix) in run(prefix / "bin" / "pip", "--version")
    assert run(prefix / "bin" / "openssl", "version").startswith("OpenSSL 3.0.20")
    # a console script the installer wrote from a noarch package's entry points
    # (charset-normalizer, which requests needs)
    assert "3.3.2" in run(prefix / "bin" / "normalizer", "--version")
    assert (prefix / "bin" / "normalizer").read_text().startswith(f"#!{prefix}/bin/python") or \
        "exec" in (prefix / "bin" / "normalizer").read_text().splitlines()[1]
    assert (prefix / "conda-meta" / "history").is_file()
    assert any(p.name.startswith("requests-") for p in (prefix / "conda-meta").glob("*.json"))
