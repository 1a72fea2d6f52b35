"""git, hg and svn sources from repositories the tests make; a missing client is a clear error."""
from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from sources_helpers import is_current, make_context, make_recipe, run_stage
from tasks.model import Source
from tasks.stamps import stamp_result

GIT = ["git", "-c", "user.name=Test", "-c", "user.email=test@localhost", "-c", "init.defaultBranch=main",
       "-c", "advice.detachedHead=false"]


def sh(*argv: str | Path, cwd: Path | None = None) -> str:
    return subprocess.run([str(a) for a in argv], cwd=cwd, check=True, capture_output=True, text=True).stdout.strip()


@pytest.fixture
def git_repo(tmp_path) -> Path:
    """main: v1.0 tagged (VERSION=1.0), then a later commit (VERSION=2.0-dev)."""
    repo = tmp_path / "upstream.git"
    repo.mkdir()
    sh(*GIT, "init", "-q", cwd=repo)
    (repo / "VERSION").write_text("1.0\n")
    sh(*GIT, "add", "VERSION", cwd=repo)
    sh(*GIT, "commit", "-q", "-m", "one", cwd=repo)
    sh(*GIT, "tag", "-a", "v1.0", "-m", "release 1.0", cwd=repo)
    (repo / "VERSION").write_text("2.0-dev\n")
    sh(*GIT, "commit", "-q", "-am", "two", cwd=repo)
    return repo


def fetch_and_extract(tmp: Path, source: Source):
    recipe = make_recipe(tmp, sources=(source,))
    ctx = make_context(tmp, recipe)
    assert run_stage("download", recipe, ctx) is None
    assert run_stage("extract", recipe, ctx) is None
    return recipe, ctx, ctx.layout.work("pkg", "extract")


def test_git_source_at_a_tag(tmp_path, git_repo):
    tagged = sh("git", "rev-parse", "v1.0^{commit}", cwd=git_repo)
    recipe, ctx, tree = fetch_and_extract(tmp_path, Source(kind="git", git_url=str(git_repo), git_tag="v1.0"))
    assert stamp_result(ctx.layout.stamp("pkg", "download")) == {"sources": [{"kind": "git", "commit": tagged}]}
    assert (tree / "VERSION").read_text() == "1.0\n"
    assert sh(*GIT, "describe", "--tags", cwd=tree) == "v1.0"            # .git kept for build scripts
    assert sh("git", "remote", "get-url", "origin", cwd=tree) == str(git_repo)
    assert is_current("extract", recipe, ctx)


def test_git_head_rev_and_depth(tmp_path, git_repo):
    head = sh("git", "rev-parse", "HEAD", cwd=git_repo)
    _, _, tree = fetch_and_extract(tmp_path / "head", Source(kind="git", git_url=git_repo.as_uri()))
    assert (tree / "VERSION").read_text() == "2.0-dev\n"
    first = sh("git", "rev-parse", "HEAD~1", cwd=git_repo)
    _, _, tree = fetch_and_extract(tmp_path / "rev", Source(kind="git", git_url=str(git_repo), git_rev=first))
    assert (tree / "VERSION").read_text() == "1.0\n"
    _, ctx, tree = fetch_and_extract(tmp_path / "shallow", Source(kind="git", git_url=git_repo.as_uri(),
                                                                  git_tag="main", git_depth=1))
    assert (tree / "VERSION").read_text() == "2.0-dev\n"
    assert stamp_result(ctx.layout.stamp("pkg", "download"))["sources"][0]["commit"] == head


def test_git_unknown_tag_is_a_stage_error(tmp_path, git_repo):
    recipe = make_recipe(tmp_path, sources=(Source(kind="git", git_url=str(git_repo), git_tag="v9.9"),))
    failure = run_stage("download", recipe, make_context(tmp_path, recipe))
    assert "[pkg] stage 'download' failed: git: cannot fetch 'v9.9'" in failure and str(git_repo) in failure


def test_git_tree_digest_ignores_git_metadata(tmp_path, git_repo):
    _, ctx, tree = fetch_and_extract(tmp_path, Source(kind="git", git_url=str(git_repo), git_tag="v1.0"))
    before = stamp_result(ctx.layout.stamp("pkg", "extract"))["tree"]
    _, ctx2, _ = fetch_and_extract(tmp_path / "again", Source(kind="git", git_url=str(git_repo), git_tag="v1.0"))
    assert stamp_result(ctx2.layout.stamp("pkg", "extract"))["tree"] == before


def test_hg_source_at_a_tag(tmp_path):
    repo = tmp_path / "hgrepo"
    repo.mkdir()
    hg = ["hg", "--config", "ui.username=Test <test@localhost>"]
    sh(*hg, "init", cwd=repo)
    (repo / "VERSION").write_text("1.0\n")
    sh(*hg, "add", "VERSION", cwd=repo)
    sh(*hg, "commit", "-m", "one", cwd=repo)
    sh(*hg, "tag", "1.0", cwd=repo)
    (repo / "VERSION").write_text("2.0\n")
    sh(*hg, "commit", "-m", "two", cwd=repo)
    _, ctx, tree = fetch_and_extract(tmp_path / "t", Source(kind="hg", hg_url=str(repo), hg_tag="1.0"))
    assert (tree / "VERSION").read_text() == "1.0\n"
    assert len(stamp_result(ctx.layout.stamp("pkg", "download"))["sources"][0]["node"]) == 40


def test_svn_source_at_a_revision(tmp_path):
    server = tmp_path / "svnrepo"
    sh("svnadmin", "create", server)
    wc = tmp_path / "wc"
    sh("svn", "checkout", "-q", server.as_uri(), wc)
    (wc / "VERSION").write_text("r1\n")
    sh("svn", "add", "-q", wc / "VERSION")
    sh("svn", "commit", "-q", "-m", "one", wc)
    (wc / "VERSION").write_text("r2\n")
    sh("svn", "commit", "-q", "-m", "two", wc)
    _, ctx, tree = fetch_and_extract(tmp_path / "t", Source(kind="svn", svn_url=server.as_uri(), svn_rev="1",
                                                            svn_ignore_externals=True))
    assert (tree / "VERSION").read_text() == "r1\n"
    assert stamp_result(ctx.layout.stamp("pkg", "download"))["sources"][0]["revision"] == "1"


@pytest.mark.parametrize("kind,field,program", [("git", "git_url", "git"), ("hg", "hg_url", "hg"),
                                                ("svn", "svn_url", "svn")])
def test_missing_client_is_a_clear_error(tmp_path, monkeypatch, kind, field, program):
    empty = tmp_path / "empty-bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    assert shutil.which(program) is None
    recipe = make_recipe(tmp_path, sources=(Source(kind=kind, **{field: "https://example.invalid/repo"}),))
    failure = run_stage("download", recipe, make_context(tmp_path, recipe))
    assert "[pkg] stage 'download' failed:" in failure and f"{field} source" in failure
    assert f"needs the `{program}` program, which is not installed" in failure
    assert "Traceback" not in failure
