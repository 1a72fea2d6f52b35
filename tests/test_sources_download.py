"""Download stage: content-addressed cache, mirrors, fallbacks, verification, local sources."""
from __future__ import annotations

import hashlib
from pathlib import Path

from sources_helpers import (http_server, is_current, make_context, make_recipe, run_stage,  # noqa: F401
                             sha256, tar_bytes)
from tasks.fetch import http as http_mod
from tasks.model import Source
from tasks.paths import Layout
from tasks.stamps import stamp_result

DATA = tar_bytes({"README": "hello\n"})
GOOD = sha256(DATA)


def url_source(*urls: str, **hashes) -> Source:
    hashes = hashes or {"sha256": GOOD}
    return Source(kind="url", url=tuple(urls), **hashes)


def cached_files(tmp: Path) -> list[str]:
    downloads = Layout(tmp / "cache").downloads
    return sorted(p.name for p in downloads.glob("*") if p.is_file()) if downloads.is_dir() else []


def partials(tmp: Path) -> list[Path]:
    folder = Layout(tmp / "cache").download_partials
    return list(folder.iterdir()) if folder.is_dir() else []


def test_download_enters_cache_by_sha256_and_stamps_content(tmp_path, http_server):
    recipe = make_recipe(tmp_path, sources=(url_source(http_server.add("pkg-1.0.tar.gz", DATA)),))
    ctx = make_context(tmp_path, recipe)
    assert run_stage("download", recipe, ctx) is None
    layout = ctx.layout
    assert layout.download(GOOD).read_bytes() == DATA
    assert stamp_result(layout.stamp("pkg", "download")) == {
        "sources": [{"kind": "url", "sha256": GOOD, "name": "pkg-1.0.tar.gz"}]}
    assert is_current("download", recipe, ctx)


def test_cache_hit_makes_no_request(tmp_path, http_server):
    url = http_server.add("pkg-1.0.tar.gz", DATA)
    first = make_recipe(tmp_path, "first", sources=(url_source(url),))
    second = make_recipe(tmp_path, "second", sources=(url_source(url),))
    ctx = make_context(tmp_path, first, second)
    assert run_stage("download", first, ctx) is None
    assert http_server.total_hits() == 1
    assert run_stage("download", second, ctx) is None
    assert http_server.total_hits() == 1          # second recipe: served from the cache


def test_urls_are_mirrors_tried_in_order_404_falls_back(tmp_path, http_server):
    missing = http_server.url("gone/pkg-1.0.tar.gz")
    good = http_server.add("pkg-1.0.tar.gz", DATA)
    never = http_server.add("never/pkg-1.0.tar.gz", DATA)
    recipe = make_recipe(tmp_path, sources=(url_source(missing, good, never),))
    ctx = make_context(tmp_path, recipe)
    assert run_stage("download", recipe, ctx) is None
    assert http_server.hits == {"/gone/pkg-1.0.tar.gz": 1, "/pkg-1.0.tar.gz": 1}


def test_configured_mirrors_come_first_by_sha256_then_by_name(tmp_path, http_server):
    local_mirror = tmp_path / "mirror"
    local_mirror.mkdir()
    (local_mirror / "pkg-1.0.tar.gz").write_bytes(DATA)      # found by file name
    upstream = http_server.add("upstream/pkg-1.0.tar.gz", DATA)
    recipe = make_recipe(tmp_path, sources=(url_source(upstream),))
    remote_mirror = http_server.url("mirror")                # has nothing: 404 by sha256 and by name
    ctx = make_context(tmp_path, recipe, mirrors=(remote_mirror, str(local_mirror)))
    assert run_stage("download", recipe, ctx) is None
    assert http_server.hits == {f"/mirror/{GOOD}": 1, "/mirror/pkg-1.0.tar.gz": 1}   # upstream never asked
    log = ctx.layout.log("pkg", "download").read_text()
    assert f"fetched from {local_mirror.as_uri()}/pkg-1.0.tar.gz" in log


def test_mirror_by_sha256(tmp_path, http_server):
    http_server.add(f"mirror/{GOOD}", DATA)
    recipe = make_recipe(tmp_path, sources=(url_source(http_server.url("nowhere/pkg.tar.gz")),))
    ctx = make_context(tmp_path, recipe, mirrors=(http_server.url("mirror") + "/",))
    assert run_stage("download", recipe, ctx) is None
    assert http_server.hits == {f"/mirror/{GOOD}": 1}


def test_hash_mismatch_rejected_with_both_hashes_and_nothing_cached(tmp_path, http_server):
    wrong = b"not the archive the recipe means"
    url = http_server.add("pkg-1.0.tar.gz", wrong)
    recipe = make_recipe(tmp_path, sources=(url_source(url),))
    ctx = make_context(tmp_path, recipe)
    failure = run_stage("download", recipe, ctx)
    assert failure is not None
    assert "[pkg] stage 'download' failed" in failure
    assert f"{url}: sha256 mismatch: expected {GOOD}, got {sha256(wrong)}" in failure
    assert f"log: {ctx.layout.log('pkg', 'download')}" in failure
    assert "Traceback" not in failure
    assert cached_files(tmp_path) == [] and partials(tmp_path) == []
    assert not ctx.layout.stamp("pkg", "download").exists()
    assert not is_current("download", recipe, ctx)


def test_wrong_copy_then_right_copy(tmp_path, http_server):
    bad = http_server.add("bad/pkg-1.0.tar.gz", b"tampered")
    good = http_server.add("pkg-1.0.tar.gz", DATA)
    recipe = make_recipe(tmp_path, sources=(url_source(bad, good),))
    ctx = make_context(tmp_path, recipe)
    assert run_stage("download", recipe, ctx) is None
    assert cached_files(tmp_path) == [GOOD, f"{GOOD}.json"]


def test_interrupted_download_leaves_nothing_behind(tmp_path, http_server, monkeypatch):
    monkeypatch.setattr(http_mod, "BACKOFF", 0.01)
    url = http_server.add("pkg-1.0.tar.gz", DATA, truncate_at=len(DATA) // 2)
    recipe = make_recipe(tmp_path, sources=(url_source(url),))
    ctx = make_context(tmp_path, recipe)
    failure = run_stage("download", recipe, ctx)
    assert failure is not None and url in failure
    assert http_server.hits["/pkg-1.0.tar.gz"] == http_mod.ATTEMPTS     # a broken body is retried
    assert cached_files(tmp_path) == [] and partials(tmp_path) == []


def test_md5_only_recipe_is_keyed_by_verified_sha256(tmp_path, http_server):
    md5 = hashlib.md5(DATA).hexdigest()
    url = http_server.add("pkg-1.0.tar.gz", DATA)
    recipe = make_recipe(tmp_path, sources=(url_source(url, md5=md5),))
    ctx = make_context(tmp_path, recipe)
    assert run_stage("download", recipe, ctx) is None
    assert ctx.layout.download_alias("md5", md5).read_text().strip() == GOOD
    assert stamp_result(ctx.layout.stamp("pkg", "download"))["sources"][0]["sha256"] == GOOD
    other = make_recipe(tmp_path, "other", sources=(url_source(url, md5=md5),))
    assert run_stage("download", other, make_context(tmp_path, other)) is None
    assert http_server.total_hits() == 1


def test_sha1_mismatch_is_rejected(tmp_path, http_server):
    url = http_server.add("pkg-1.0.tar.gz", DATA)
    recipe = make_recipe(tmp_path, sources=(url_source(url, sha1="0" * 40),))
    failure = run_stage("download", recipe, make_context(tmp_path, recipe))
    assert f"sha1 mismatch: expected {'0' * 40}, got {hashlib.sha1(DATA).hexdigest()}" in failure
    assert cached_files(tmp_path) == []


def test_file_url_and_unsupported_scheme(tmp_path):
    archive = tmp_path / "pkg-1.0.tar.gz"
    archive.write_bytes(DATA)
    recipe = make_recipe(tmp_path, sources=(url_source("ftp://example.invalid/pkg-1.0.tar.gz", archive.as_uri()),))
    ctx = make_context(tmp_path, recipe)
    assert run_stage("download", recipe, ctx) is None
    assert "unsupported URL scheme 'ftp'" in ctx.layout.log("pkg", "download").read_text()
    assert ctx.layout.download(GOOD).is_file()


def test_deleted_cache_file_makes_download_run_again(tmp_path, http_server):
    recipe = make_recipe(tmp_path, sources=(url_source(http_server.add("pkg-1.0.tar.gz", DATA)),))
    ctx = make_context(tmp_path, recipe)
    assert run_stage("download", recipe, ctx) is None
    ctx.layout.download(GOOD).unlink()
    assert not is_current("download", recipe, ctx)


def test_path_source_digest_notices_local_edits(tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    (src / "main.c").write_text("int main(void) { return 0; }\n")
    recipe = make_recipe(tmp_path, sources=(Source(kind="path", path=str(src)),))
    ctx = make_context(tmp_path, recipe)
    assert run_stage("download", recipe, ctx) is None
    assert is_current("download", recipe, ctx)
    (src / "main.c").write_text("int main(void) { return 1; }\n")
    assert not is_current("download", recipe, ctx)
    assert run_stage("download", recipe, ctx) is None
    assert is_current("download", recipe, ctx)


def test_missing_path_source_is_a_stage_error(tmp_path):
    recipe = make_recipe(tmp_path, sources=(Source(kind="path", path=str(tmp_path / "nope")),))
    failure = run_stage("download", recipe, make_context(tmp_path, recipe))
    assert "path source" in failure and "does not exist" in failure


def test_unverifiable_source_is_cached_by_url(tmp_path, http_server):
    url = http_server.add("pkg-1.0.tar.gz", DATA)
    recipe = make_recipe(tmp_path, sources=(Source(kind="url", url=(url,)),))
    ctx = make_context(tmp_path, recipe)
    assert run_stage("download", recipe, ctx) is None
    other = make_recipe(tmp_path, "other", sources=(Source(kind="url", url=(url,)),))
    assert run_stage("download", other, make_context(tmp_path, other)) is None
    assert http_server.total_hits() == 1
    assert "cannot be verified" in ctx.layout.log("pkg", "download").read_text()


def test_partials_of_dead_processes_are_swept(tmp_path, http_server):
    layout = Layout(tmp_path / "cache")
    layout.download_partials.mkdir(parents=True)
    dead = layout.download_partials / "0123456789abcdef.999999999.part"
    dead.write_bytes(b"half")
    recipe = make_recipe(tmp_path, sources=(url_source(http_server.add("pkg-1.0.tar.gz", DATA)),))
    assert run_stage("download", recipe, make_context(tmp_path, recipe)) is None
    assert not dead.exists()


def test_signature_ignores_patches_folder_and_other_sections(tmp_path, http_server):
    url = http_server.add("pkg-1.0.tar.gz", DATA)
    patch = tmp_path / "a.patch"
    patch.write_text("")
    recipe = make_recipe(tmp_path, sources=(url_source(url),))
    ctx = make_context(tmp_path, recipe)
    assert run_stage("download", recipe, ctx) is None
    edited = make_recipe(tmp_path, version="1.0", sources=(
        Source(kind="url", url=(url,), sha256=GOOD, patches=(str(patch),), folder="sub"),),
        extra={"note": "changed"})
    assert is_current("download", edited, make_context(tmp_path, edited))
    moved = make_recipe(tmp_path, sources=(url_source(url, sha256="1" * 64),))
    assert not is_current("download", moved, make_context(tmp_path, moved))


def test_no_traceback_for_connection_refused(tmp_path, monkeypatch):
    import socket
    monkeypatch.setattr(http_mod, "BACKOFF", 0.01)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    recipe = make_recipe(tmp_path, sources=(url_source(f"http://127.0.0.1:{port}/pkg.tar.gz"),))
    failure = run_stage("download", recipe, make_context(tmp_path, recipe))
    assert "connection failed" in failure and "Traceback" not in failure
    assert cached_files(tmp_path) == []


def test_clean_removes_the_cached_archive_and_stamp(tmp_path, http_server):
    recipe = make_recipe(tmp_path, sources=(url_source(http_server.add("pkg-1.0.tar.gz", DATA)),))
    ctx = make_context(tmp_path, recipe)
    assert run_stage("download", recipe, ctx) is None
    ctx.clean("download", "pkg")
    assert cached_files(tmp_path) == [] and not ctx.layout.stamp("pkg", "download").exists()
