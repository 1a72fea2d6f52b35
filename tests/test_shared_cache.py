"""The shared stage cache (tasks/sharedcache/) between two caches ("machines"), through a real
S3 server (SeaweedFS on loopback) and through a directory."""
from __future__ import annotations

import json
import shutil
import threading
import time
from pathlib import Path

import pytest

from doit_runner import run_doit
from shared_servers import BUCKET, channel_files, environment, free_port, seaweedfs, small_stack

from tasks.sharedcache.localdir import LocalDirStore
from tasks.sharedcache.s3 import S3Store

NATIVE = {"target": "linux-64"}


@pytest.fixture(scope="module")
def s3(tmp_path_factory):
    work = tmp_path_factory.mktemp("s3")
    with seaweedfs(work) as server, environment(server.env):
        yield server


@pytest.fixture(scope="module")
def stack(tmp_path_factory) -> Path:
    return small_stack(tmp_path_factory.mktemp("stack"))


def _machine(stack: Path, tmp: Path, name: str) -> tuple[Path, Path]:
    """Another machine: its own checkout path of the recipes and its own cache."""
    recipes = tmp / name / "recipes"
    shutil.copytree(stack, recipes)
    return recipes, tmp / name / "cache"


def _build(recipes: Path, cache: Path, **variables: str):
    started = time.monotonic()
    run = run_doit(recipes, cache, "build", **NATIVE, **variables)
    assert run.returncode == 0, run.output
    return run, time.monotonic() - started


def _shared_run(stamp: Path) -> str:
    return json.loads(stamp.read_text())["run"].get("shared", "")


@pytest.fixture(scope="module")
def machine_a(s3, stack, tmp_path_factory):
    """Machine A builds the stack and publishes it to s3://condoit-test/team."""
    tmp = tmp_path_factory.mktemp("machines")
    recipes, cache = _machine(stack, tmp, "a")
    run, seconds = _build(recipes, cache, shared_cache=f"s3://{BUCKET}/team")
    return tmp, cache, run, seconds


def test_second_machine_restores_instead_of_compiling(s3, stack, machine_a):
    tmp, cache_a, run_a, built_s = machine_a
    assert "compile:greet" in run_a.ran and "restored" not in run_a.output
    assert any(k.startswith("team/entries/package/") for k in s3.keys("team/"))
    recipes_b, cache_b = _machine(stack, tmp, "b")
    run_b, restored_s = _build(recipes_b, cache_b, shared_cache=f"s3://{BUCKET}/team")
    print(f"machine A built the stack in {built_s:.1f} s; machine B restored it in {restored_s:.1f} s")
    for job in ("download:greet", "compile:greet", "package:greet", "compile:note", "package:note", "test:greet"):
        assert f"condoit: {job} restored from the shared cache" in run_b.output, run_b.output
    # no compile ran on B: no build tree, no host prefix; its stamps say the results were restored
    assert not (cache_b / "prefix").exists() and not (cache_b / "work" / "greet" / "linux-64").exists()
    assert _shared_run(cache_b / "stamps" / "greet" / "linux-64" / "compile.json") == "record"
    assert _shared_run(cache_b / "stamps" / "greet" / "linux-64" / "package.json") == "restored"
    packages = channel_files(cache_b)
    assert packages and packages == channel_files(cache_a)
    # B's next run is a no-op
    again = run_doit(recipes_b, cache_b, "build", **NATIVE, shared_cache=f"s3://{BUCKET}/team")
    assert again.returncode == 0 and not again.ran, again.output


def test_an_edit_after_a_restore_compiles_what_the_package_needs(s3, stack, machine_a, tmp_path):
    """B restored compile:note as a result only; an about: edit re-makes package:note, which
    needs compile's files: compile runs first, then the package (not in the shared cache)."""
    tmp, _cache_a, _run, _s = machine_a
    recipes, cache = _machine(stack, tmp_path, "c")
    _build(recipes, cache, shared_cache=f"s3://{BUCKET}/team")
    meta = recipes / "note" / "meta.yaml"
    meta.write_text(meta.read_text() + "about: {summary: edited on C}\n")
    run, _ = _build(recipes, cache, shared_cache=f"s3://{BUCKET}/team")
    assert "compile:note" in run.ran and "package:note" in run.ran, run.output
    assert "restored from the shared cache without its files" in run.output, run.output
    assert "compile:greet" not in run.ran


def test_a_tampered_entry_is_refused_and_built_here(s3, stack, machine_a, tmp_path):
    tmp, cache_a, _run, _s = machine_a
    client = s3.client()
    key = next(k for k in s3.keys("team/entries/package/")
               if b'"greet"' in client.get_object(Bucket=BUCKET, Key=k)["Body"].read())
    entry = json.loads(client.get_object(Bucket=BUCKET, Key=key)["Body"].read())
    blob = entry["files"][0]["sha256"]
    # copy the entry to another prefix with the blob replaced by other bytes of the same size
    for k in s3.keys("team/"):
        body = client.get_object(Bucket=BUCKET, Key=k)["Body"].read()
        if k.endswith(blob):
            body = bytes(reversed(body))
        client.put_object(Bucket=BUCKET, Key=k.replace("team/", "tampered/", 1), Body=body)
    recipes, cache = _machine(stack, tmp_path, "d")
    run, _ = _build(recipes, cache, shared_cache=f"s3://{BUCKET}/tampered")
    assert "package:greet: the shared cache's entry is refused" in run.output, run.output
    assert "corrupted or tampered" in run.output
    assert "compile:greet was restored without its files; running it here first" in run.output
    assert "compile:greet" in run.ran and (cache / "prefix").exists()
    # built here, it is the same package as machine A's
    assert channel_files(cache) == channel_files(cache_a)


def test_a_read_only_machine_never_writes(s3, stack, tmp_path):
    recipes, cache = _machine(stack, tmp_path, "e")
    run, _ = _build(recipes, cache, shared_cache=f"s3://{BUCKET}/readonly", shared_write="0")
    assert "compile:greet" in run.ran
    assert s3.keys("readonly/") == []


def test_a_gone_server_costs_only_the_sharing(stack, tmp_path):
    """Nothing listens at the endpoint: every stage says the store failed and runs here."""
    recipes, cache = _machine(stack, tmp_path, "f")
    with environment({"AWS_ENDPOINT_URL": f"http://127.0.0.1:{free_port()}", "AWS_ACCESS_KEY_ID": "x",
                      "AWS_SECRET_ACCESS_KEY": "y", "AWS_DEFAULT_REGION": "us-east-1"}):
        run, _ = _build(recipes, cache, shared_cache=f"s3://{BUCKET}/gone")
    assert "compile:greet" in run.ran and channel_files(cache)
    assert "the shared cache cannot be used" in run.output and "not shared" in run.output, run.output


def test_s3_entries_are_written_once(s3):
    """The conditional put: a second writer of the same signature does not replace the entry."""
    store = S3Store(BUCKET, "once")
    assert store.create("entries/x/sig.json", b"first") is True
    assert store.create("entries/x/sig.json", b"second") is False
    assert store.read("entries/x/sig.json") == b"first"


def test_directory_store_between_two_machines(stack, tmp_path):
    shared = tmp_path / "shared"
    recipes_a, cache_a = _machine(stack, tmp_path, "a")
    _build(recipes_a, cache_a, shared_cache=str(shared))
    recipes_b, cache_b = _machine(stack, tmp_path, "b")
    run, _ = _build(recipes_b, cache_b, shared_cache=f"file://{shared}")
    assert "condoit: compile:greet restored from the shared cache" in run.output
    assert channel_files(cache_b) == channel_files(cache_a)
    assert not list((shared / "tmp").iterdir())   # no partial file left behind


def test_directory_store_concurrent_writers_one_entry(tmp_path):
    store = LocalDirStore(tmp_path / "shared")
    won: list[bool] = []
    threads = [threading.Thread(target=lambda i=i: won.append(store.create("entries/s/x.json", f"w{i}".encode())))
               for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(won) == [False] * 7 + [True]
    assert store.read("entries/s/x.json") in {f"w{i}".encode() for i in range(8)}


def test_a_full_bucket_costs_only_the_sharing_and_shows_nothing_half_written(stack, tmp_path):
    """A SeaweedFS with one volume of 1 MB, filled first: uploads fail; the build succeeds here,
    each failed publish says so, and every entry that is visible has all of its blobs."""
    with seaweedfs(tmp_path / "s3", volume_mb=1, volumes=1) as full, environment(full.env):
        client = full.client()
        for i in range(3):   # fill it (the first megabyte fits, then puts fail)
            try:
                client.put_object(Bucket=BUCKET, Key=f"filler/{i}", Body=bytes(1 << 20))
            except Exception as exc:
                print(f"filler {i}: {str(exc)[:120]}")
                break
        recipes, cache = _machine(stack, tmp_path, "g")
        run, _ = _build(recipes, cache, shared_cache=f"s3://{BUCKET}/full")
        assert "compile:greet" in run.ran and channel_files(cache)
        assert "not shared: cannot write" in run.output, run.output
        keys = set(full.keys("full/"))
        for key in (k for k in keys if k.startswith("full/entries/")):
            entry = json.loads(client.get_object(Bucket=BUCKET, Key=key)["Body"].read())
            for f in entry["files"]:
                if f.get("sha256"):
                    assert f"full/blobs/{f['sha256'][:2]}/{f['sha256']}" in keys, (key, f)
