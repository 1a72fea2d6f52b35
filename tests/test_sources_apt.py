"""The Debian source fallback, with the real apt-get, on bzip2 1.0.8 (needs deb-src entries)."""
from __future__ import annotations

import socket

import pytest

from sources_helpers import make_context, make_recipe, run_stage
from tasks.fetch.apt import DebianSource, debian_source, upstream_part
from tasks.fetch.base import FetchError
from tasks.model import Source
from tasks.stamps import stamp_result

BZIP2_SHA256 = "ab5a03176ee106d3f0fa90e381da478ddae405918153cca248e682cd0c4a2269"

@pytest.fixture(autouse=True)
def quick_retries(monkeypatch):
    from tasks.fetch import http
    monkeypatch.setattr(http, "BACKOFF", 0.01)


needs_apt = pytest.mark.usefixtures("debian_apt")  # fails, not skips, off Debian


def unreachable_url(name: str) -> str:
    """A loopback URL nobody listens on: the recipe's own URL fails fast, as offline."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{s.getsockname()[1]}/{name}"


def bzip2_recipe(tmp, sha256: str, extra: dict | None = None):
    source = Source(kind="url", url=(unreachable_url("bzip2-1.0.8.tar.gz"),), sha256=sha256)
    return make_recipe(tmp, "bzip2", "1.0.8", sources=(source,),
                       extra={"debian_source": "bzip2"} if extra is None else extra)


def test_upstream_part_of_debian_versions():
    assert upstream_part("1.0.8-5") == "1.0.8"
    assert upstream_part("1:3.0.20-1~deb12u2") == "3.0.20"
    assert upstream_part("5.36.0-7+deb12u3") == "5.36.0"
    assert upstream_part("1.2.13.dfsg-1") == "1.2.13.dfsg"
    assert upstream_part("20230101") == "20230101"


def test_extra_key_forms():
    assert debian_source({"debian_source": "bzip2"}, "1.0.8") == DebianSource("bzip2", "1.0.8")
    assert debian_source({"debian_source": {"package": "xz-utils", "version": "5.4.1"}}, "9") == \
        DebianSource("xz-utils", "5.4.1")
    assert debian_source({}, "1") is None
    with pytest.raises(FetchError, match="must be a Debian source package name"):
        debian_source({"debian_source": ["bzip2"]}, "1")


@needs_apt
def test_debian_orig_tarball_with_matching_sha256_is_accepted(tmp_path):
    recipe = bzip2_recipe(tmp_path, BZIP2_SHA256)
    ctx = make_context(tmp_path, recipe)
    assert run_stage("download", recipe, ctx) is None, ctx.layout.log("bzip2", "download").read_text()
    assert ctx.layout.download(BZIP2_SHA256).is_file()
    assert stamp_result(ctx.layout.stamp("bzip2", "download")) == {
        "sources": [{"kind": "url", "sha256": BZIP2_SHA256, "name": "bzip2-1.0.8.tar.gz"}]}
    assert "taken from apt-get source bzip2=" in ctx.layout.log("bzip2", "download").read_text()
    assert run_stage("extract", recipe, ctx) is None
    assert (ctx.layout.work("bzip2", "extract") / "bzlib.c").is_file()     # hoisted like upstream's


@needs_apt
def test_debian_file_with_another_sha256_is_rejected(tmp_path):
    wrong = "0" * 64
    recipe = bzip2_recipe(tmp_path, wrong)
    ctx = make_context(tmp_path, recipe)
    failure = run_stage("download", recipe, ctx)
    assert failure is not None
    assert f"bzip2_1.0.8.orig.tar.gz): sha256 mismatch: expected {wrong}, got {BZIP2_SHA256}" in failure
    assert not ctx.layout.download(BZIP2_SHA256).exists()
    assert not [p for p in ctx.layout.downloads.glob("*") if p.is_file()]


@needs_apt
def test_unknown_debian_version_is_reported(tmp_path):
    recipe = bzip2_recipe(tmp_path, BZIP2_SHA256, extra={"debian_source": {"package": "bzip2", "version": "0.9"}})
    failure = run_stage("download", recipe, make_context(tmp_path, recipe))
    assert "Debian source package bzip2 (upstream version 0.9): apt has only version(s)" in failure


def test_without_the_extra_key_there_is_no_fallback(tmp_path):
    recipe = bzip2_recipe(tmp_path, BZIP2_SHA256, extra={})
    failure = run_stage("download", recipe, make_context(tmp_path, recipe))
    assert "could not fetch bzip2-1.0.8.tar.gz" in failure and "apt-get" not in failure


# zlib: Debian repacks 1.2.13 as 1.2.13.dfsg, so its .orig is not the upstream tarball.
ZLIB_UPSTREAM_SHA256 = "b3a24de97a8fdbc835b9833169501030b8977031bcb54b3b3ac13740f846ab30"
ZLIB_DFSG_SHA256 = "71feb7947e3c00ef125f83b79a4e529bde31171e5babe48b391f06758d1ab0a1"


def zlib_recipe(tmp, repack_sha256: str | None):
    source = Source(kind="url", url=(unreachable_url("zlib-1.2.13.tar.gz"),), sha256=ZLIB_UPSTREAM_SHA256)
    debian = {"package": "zlib", "version": "1.2.13.dfsg"}
    if repack_sha256:
        debian["sha256"] = repack_sha256
    return make_recipe(tmp, "zlib", "1.2.13", sources=(source,), extra={"debian_source": debian})


def test_declared_repack_form():
    value = {"package": "zlib", "version": "1.2.13.dfsg", "sha256": ZLIB_DFSG_SHA256.upper()}
    assert debian_source({"debian_source": value}, "1.2.13") == \
        DebianSource("zlib", "1.2.13.dfsg", ZLIB_DFSG_SHA256)
    with pytest.raises(FetchError, match="sha256 must be 64 hex digits"):
        debian_source({"debian_source": {**value, "sha256": "abc"}}, "1.2.13")


@needs_apt
def test_declared_repack_is_accepted_with_its_own_hash(tmp_path):
    recipe = zlib_recipe(tmp_path, ZLIB_DFSG_SHA256)
    ctx = make_context(tmp_path, recipe)
    assert run_stage("download", recipe, ctx) is None, ctx.layout.log("zlib", "download").read_text()
    assert stamp_result(ctx.layout.stamp("zlib", "download"))["sources"][0]["sha256"] == ZLIB_DFSG_SHA256
    assert "Debian's repack with sha256 71feb79" in ctx.layout.log("zlib", "download").read_text()
    assert not ctx.layout.download(ZLIB_UPSTREAM_SHA256).exists()   # never filed as the upstream file
    assert run_stage("extract", recipe, ctx) is None
    assert (ctx.layout.work("zlib", "extract") / "zlib.h").is_file()


@needs_apt
@pytest.mark.parametrize("declared", [None, "1" * 64], ids=["undeclared", "another-hash"])
def test_repack_without_its_declared_hash_is_rejected(tmp_path, declared):
    """Undeclared, Debian's repack is checked against upstream's hash; declared, against
    exactly the declared one: either way a file with another hash is refused."""
    recipe = zlib_recipe(tmp_path, declared)
    ctx = make_context(tmp_path, recipe)
    failure = run_stage("download", recipe, ctx)
    assert f"sha256 mismatch: expected {declared or ZLIB_UPSTREAM_SHA256}, got {ZLIB_DFSG_SHA256}" in failure
    assert not [p for p in ctx.layout.downloads.glob("*") if p.is_file()]
