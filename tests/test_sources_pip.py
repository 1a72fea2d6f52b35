"""The package index origin (``extra: {pip_sdist: NAME}``), with the real pip, on six 1.16.0.

The recipe's own URL is a loopback port nobody listens on (as on a machine that reaches
only the registries); pip fetches the sdist, and the url kind accepts it only by sha256.
"""
from __future__ import annotations

import socket
import tarfile

import pytest

from sources_helpers import make_context, make_recipe, run_stage
from tasks.fetch.base import FetchError
from tasks.fetch.pip_sdist import PipSdist, PipSdistFallback, pip_sdist
from tasks.model import Source
from tasks.stamps import stamp_result

SIX_SHA256 = "1e61c37477a1626458e36f7b1d82aa5c9b094fa4802892072e49de9c60c4c926"   # six-1.16.0.tar.gz


@pytest.fixture(autouse=True)
def quick_retries(monkeypatch):
    from tasks.fetch import http
    monkeypatch.setattr(http, "BACKOFF", 0.01)


def unreachable_url(name: str) -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{s.getsockname()[1]}/{name}"


def six_recipe(tmp, sha256: str, extra: dict | None = None):
    source = Source(kind="url", url=(unreachable_url("six-1.16.0.tar.gz"),), sha256=sha256)
    return make_recipe(tmp, "six", "1.16.0", sources=(source,),
                       extra={"pip_sdist": "six"} if extra is None else extra)


def test_extra_key_forms():
    assert pip_sdist({"pip_sdist": "six"}, "1.16.0") == PipSdist("six", "1.16.0")
    assert pip_sdist({"pip_sdist": {"name": "ruamel.yaml", "version": "0.18.6"}}, "9") == \
        PipSdist("ruamel.yaml", "0.18.6")
    assert pip_sdist({}, "1") is None
    assert "must be a distribution name" in PipSdistFallback().check(["six"])
    assert "must be a distribution name" in PipSdistFallback().check("six; rm -rf /")
    with pytest.raises(FetchError, match="must be a distribution name"):
        pip_sdist({"pip_sdist": {"version": "1"}}, "1")


def test_sdist_with_matching_sha256_is_accepted(tmp_path):
    recipe = six_recipe(tmp_path, SIX_SHA256)
    ctx = make_context(tmp_path, recipe)
    assert run_stage("download", recipe, ctx) is None, ctx.layout.log("six", "download").read_text()
    cached = ctx.layout.download(SIX_SHA256)
    with tarfile.open(cached) as tar:
        assert "six-1.16.0/six.py" in tar.getnames()
    assert stamp_result(ctx.layout.stamp("six", "download")) == {
        "sources": [{"kind": "url", "sha256": SIX_SHA256, "name": "six-1.16.0.tar.gz"}]}
    log = ctx.layout.log("six", "download").read_text()
    assert "taken from pip download six==1.16.0 (six-1.16.0.tar.gz)" in log
    assert "--no-binary six" in log
    assert run_stage("extract", recipe, ctx) is None
    assert (ctx.layout.work("six", "extract") / "six.py").is_file()      # hoisted like the sdist's top dir


def test_sdist_with_another_sha256_fails_the_download_with_both_hashes_and_the_fix(tmp_path):
    wrong = "0" * 64
    recipe = six_recipe(tmp_path, wrong)
    ctx = make_context(tmp_path, recipe)
    failure = run_stage("download", recipe, ctx)
    assert failure is not None
    assert "[six]" in failure or "six" in failure.split("\n", 1)[0]
    assert f"pip download six==1.16.0 (six-1.16.0.tar.gz): sha256 mismatch: expected {wrong}, got {SIX_SHA256}" \
        in failure
    assert "correct source/sha256 in meta.yaml" in failure
    assert not ctx.layout.download(SIX_SHA256).exists()
    assert not [p for p in ctx.layout.downloads.glob("*") if p.is_file()]
    assert not ctx.layout.stamp("six", "download").exists()


def test_unknown_version_names_pip_and_the_requirement(tmp_path):
    recipe = six_recipe(tmp_path, SIX_SHA256, extra={"pip_sdist": {"name": "six", "version": "0.0.0.404"}})
    failure = run_stage("download", recipe, make_context(tmp_path, recipe))
    assert "the source distribution six==0.0.0.404 (pip download): pip could not download it" in failure


def test_without_the_extra_key_pip_is_not_asked(tmp_path):
    recipe = six_recipe(tmp_path, SIX_SHA256, extra={})
    failure = run_stage("download", recipe, make_context(tmp_path, recipe))
    assert "could not fetch six-1.16.0.tar.gz" in failure and "pip download" not in failure


def test_an_archive_known_only_by_its_hash_is_a_url_source_fetched_by_pip(tmp_path):
    """`source: {fn, sha256}` without url (an sdist only the index serves): not "no source"."""
    from tasks.fetch import SOURCE_KINDS, select_kind
    assert select_kind({"fn": "six-1.16.0.tar.gz", "sha256": SIX_SHA256}) is SOURCE_KINDS["url"]
    assert select_kind({"folder": "x"}) is SOURCE_KINDS["none"]
    source = Source(kind="url", fn="six-1.16.0.tar.gz", sha256=SIX_SHA256)
    recipe = make_recipe(tmp_path, "six", "1.16.0", sources=(source,), extra={"pip_sdist": "six"})
    ctx = make_context(tmp_path, recipe)
    assert run_stage("download", recipe, ctx) is None, ctx.layout.log("six", "download").read_text()
    assert ctx.layout.download(SIX_SHA256).is_file()
    without = make_recipe(tmp_path / "b", "six", "1.16.0", sources=(source,), extra={})
    failure = run_stage("download", without, make_context(tmp_path / "b", without))
    assert "could not fetch six-1.16.0.tar.gz" in failure and "no URL given" in failure
