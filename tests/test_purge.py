"""`doit purge` (tasks/purge.py): what a removed recipe, a version bump and a rebuild left in
the cache goes; every current stage's result stays, so the next build runs nothing."""
from __future__ import annotations

from pathlib import Path

from doit_runner import run_doit, text_recipe, write_recipe
from sources_helpers import http_server, sha256, tar_bytes  # noqa: F401
from tasks.condapkg import channel_packages, parse_archive_name
from tasks.paths import Layout

TARGET = "linux-aarch64"


def sourced(recipes: Path, server, version: str, comment: str = "") -> bytes:
    """``recipes/x``: a noarch recipe whose file comes from a served archive of ``version``."""
    data = tar_bytes({"x.txt": f"x {version}\n"}, top=f"x-{version}")
    server.add(f"x-{version}.tar.gz", data)
    write_recipe(recipes, "x", f"""
        package: {{name: x, version: "{version}"}}
        source:
          url: {server.url(f"x-{version}.tar.gz")}
          sha256: {sha256(data)}
        build:
          noarch: generic
        test:
          commands:
            - grep -qx "x {version}" $PREFIX/share/x.txt
        {comment}
        """, build_sh="mkdir -p $PREFIX/share\ncp x.txt $PREFIX/share/\n")
    return data


def entries(cache: Path, name: str) -> list[Path]:
    return [path for entry, path in Layout(cache, TARGET).recipe_entries() if entry == name]


def test_purge_takes_what_the_stack_left_behind_and_nothing_a_build_reuses(stack_dirs, http_server):
    recipes, cache = stack_dirs
    layout = Layout(cache, TARGET)
    old = sourced(recipes, http_server, "1.0")
    for name in ("a", "gone", "later_skipped"):
        text_recipe(recipes, name)
    first = run_doit(recipes, cache, "build")
    assert first.returncode == 0, first.output
    assert entries(cache, "gone") and entries(cache, "later_skipped")
    unpacked_before = sorted(p.name for p in layout.package_cache.iterdir() if p.is_dir())
    assert any(n.startswith("x-1.0-") for n in unpacked_before), unpacked_before

    # the stack moves on: a version bump, a recipe removed, one skipped on this target
    new = sourced(recipes, http_server, "1.1")
    for path in (recipes / "gone").iterdir():
        path.unlink()
    (recipes / "gone").rmdir()
    meta = recipes / "later_skipped" / "meta.yaml"
    meta.write_text(meta.read_text().replace("build:\n", "build:\n  skip: true  # [aarch64]\n"))
    again = run_doit(recipes, cache, "build")
    assert again.returncode == 0, again.output
    assert "build:later_skipped" not in again.output, again.output
    assert layout.download(sha256(old)).is_file()           # what purge is for: nothing removed it

    looked = run_doit(recipes, cache, "purge", dry_run="1")
    assert looked.returncode == 0, looked.output
    assert "purge would take" in looked.stdout and "(dry_run: nothing was removed)" in looked.stdout, looked.stdout
    assert entries(cache, "gone") and layout.download(sha256(old)).is_file()

    purge = run_doit(recipes, cache, "purge")
    assert purge.returncode == 0, purge.output
    assert "Traceback" not in purge.output, purge.output
    assert looked.stdout.replace("would take", "took").replace(" (dry_run: nothing was removed)", "") == purge.stdout
    assert "of 1 recipe no longer in the stack: gone" in purge.stdout, purge.stdout
    assert "1 download no recipe uses: x-1.0.tar.gz" in purge.stdout, purge.stdout
    assert "1 unpacked package not in the channel" in purge.stdout, purge.stdout
    assert "MiB" in purge.stdout or "KiB" in purge.stdout, purge.stdout

    assert entries(cache, "gone") == []
    assert entries(cache, "later_skipped"), "a recipe skipped for this target keeps its entries"
    assert entries(cache, "a") and entries(cache, "x")
    assert not layout.download(sha256(old)).exists() and not layout.download_meta(sha256(old)).exists()
    assert layout.download(sha256(new)).is_file()
    in_channel = {parse_archive_name(p.name).stem for p in channel_packages(layout.channel)}
    unpacked = {p.name for p in layout.package_cache.iterdir() if p.is_dir()}
    assert unpacked and unpacked <= in_channel, (unpacked, in_channel)

    after = run_doit(recipes, cache, "build")
    assert after.returncode == 0, after.output
    assert after.ran == frozenset(), f"purge removed what a build reuses: {sorted(after.ran)}"
    quiet = run_doit(recipes, cache, "purge")
    assert quiet.returncode == 0 and "purge: nothing to take out of" in quiet.stdout, quiet.output


def test_a_download_a_recipe_file_names_is_kept(stack_dirs, http_server):
    """A sha256 written in a recipe (another platform's source, a comment) keeps its archive."""
    recipes, cache = stack_dirs
    old = sourced(recipes, http_server, "1.0")
    assert run_doit(recipes, cache, "download:x").returncode == 0
    sourced(recipes, http_server, "1.1", comment=f"# the previous release: {sha256(old)}")
    purge = run_doit(recipes, cache, "purge")
    assert purge.returncode == 0, purge.output
    assert "no recipe uses" not in purge.stdout, purge.stdout
    assert Layout(cache, TARGET).download(sha256(old)).is_file()


def test_purge_refuses_while_a_recipe_is_broken(stack_dirs):
    recipes, cache = stack_dirs
    text_recipe(recipes, "a")
    text_recipe(recipes, "old")
    assert run_doit(recipes, cache, "build").returncode == 0
    write_recipe(recipes, "old", "package: {name: old, version: '1.0'\n")      # unclosed mapping
    purge = run_doit(recipes, cache, "purge")
    assert purge.returncode != 0, purge.output
    assert "purge needs every recipe to render" in purge.output, purge.output
    assert "meta.yaml:" in purge.output, purge.output                         # the problem, named
    assert "Traceback" not in purge.output, purge.output
    assert entries(cache, "old"), "a broken recipe's entries were taken for a removed recipe's"
