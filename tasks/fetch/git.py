"""``git_url`` sources: one cached bare repository per URL, commits pinned by id.

The download resolves ``git_rev``/``git_tag`` (or the remote HEAD) to a commit id; the id
is the content identity in the stamp. The work tree is made from the cache (offline),
keeps its ``.git`` (build scripts run ``git describe``) and names the real URL as origin.
"""
from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Any, Mapping

from ..fsutil import remove_tree
from ..model import Source
from ..paths import Layout
from ..stagelog import CommandFailed, StageLog, require_program
from .base import FetchContext, FetchError, Problem, VcsKind, cache_key, locked

ENV = {"GIT_TERMINAL_PROMPT": "0", "GIT_ASKPASS": "true", "LC_ALL": "C"}
QUIET = ["-c", "advice.detachedHead=false", "-c", "init.defaultBranch=main"]


def _git(log: StageLog, *args: str | Path, check: bool = True) -> str:
    return log.run(["git", *QUIET, *args], env=ENV, check=check).stdout.strip()


def repo_dir(layout: Layout, url: str) -> Path:
    return layout.vcs("git", cache_key(url))


def _wanted_ref(ref: str) -> str:
    return f"refs/condoit/wanted/{hashlib.sha256(ref.encode()).hexdigest()[:16]}"


def _pin(commit: str) -> str:
    return f"refs/condoit/pins/{commit}"


REFS = ("git_rev", "git_tag", "git_branch")   # at most one; none means the remote HEAD


class GitKind(VcsKind):
    name = "git"
    selected_by = "git_url"
    keys = {"git_url": "str", "git_rev": "str", "git_tag": "str", "git_branch": "str", "git_depth": "int"}

    def prepare(self, options: dict[str, Any], recipe_dir: Path, problem: Problem) -> dict[str, Any]:
        refs = [k for k in REFS if k in options]
        if len(refs) > 1:
            problem(refs[1], f"more than one git revision: {', '.join(refs)}",
                    "keep one of git_rev, git_tag, git_branch")
        return options

    def fetch(self, source: Source, fctx: FetchContext) -> dict:
        return download_git(source, fctx)

    def cached_path(self, source: Source, fetched: Mapping[str, Any], layout: Layout) -> Path:
        return repo_dir(layout, str(source.get("git_url")))

    def place(self, source: Source, fetched: Mapping[str, Any], into: Path, fctx: FetchContext) -> None:
        place_git(source, fetched, into, fctx)


def wanted_ref(source: Source) -> str:
    return str(next((source.get(k) for k in REFS if source.get(k)), "HEAD"))


def download_git(source: Source, fctx: FetchContext) -> dict:
    """Fetch the wanted ref into the cache and return its commit id."""
    require_program("git", "a git_url source", "git")
    url, log = str(source.get("git_url")), fctx.log
    ref = wanted_ref(source)
    repo = repo_dir(fctx.layout, url)
    with locked(repo):
        if not (repo / "HEAD").is_file():
            fresh = repo.with_name(repo.name + ".init")
            remove_tree(fresh)
            _git(log, "init", "--bare", "-q", fresh)
            _git(log, "-C", fresh, "remote", "add", "origin", url)
            os.replace(fresh, repo)
        depth_value = source.get("git_depth")
        depth = ["--depth", str(depth_value)] if depth_value and depth_value > 0 else ["--tags"]
        try:
            _git(log, "-C", repo, "fetch", "-q", "--force", *depth, url, f"+{ref}:{_wanted_ref(ref)}")
            commit = _resolve(log, repo, _wanted_ref(ref))
        except CommandFailed as exc:
            commit = _resolve(log, repo, _wanted_ref(ref)) or _fetch_all_and_resolve(log, repo, url, ref)
            if commit is None:
                raise FetchError(f"git: cannot fetch '{ref}' from {url}\n{exc}") from None
            log.note(f"fetching '{ref}' failed; using the cached commit {commit}")
        if commit is None:
            raise FetchError(f"git: '{ref}' of {url} is not a commit")
        _git(log, "-C", repo, "update-ref", _pin(commit), commit)
    return {"kind": "git", "commit": commit}


def _fetch_all_and_resolve(log: StageLog, repo: Path, url: str, rev: str) -> str | None:
    """For an abbreviated ``git_rev`` a server will not hand out by name: fetch everything."""
    try:
        _git(log, "-C", repo, "fetch", "-q", "--force", "--tags", url, "+refs/heads/*:refs/heads/*")
    except CommandFailed:
        return None
    return _resolve(log, repo, rev)


def _resolve(log: StageLog, repo: Path, name: str) -> str | None:
    out = _git(log, "-C", repo, "rev-parse", "--verify", "--quiet", f"{name}^{{commit}}", check=False)
    return out or None


def place_git(source: Source, fetched: Mapping[str, Any], into: Path, fctx: FetchContext) -> None:
    """A checkout of the pinned commit at ``into``, made from the cache without network."""
    require_program("git", "a git_url source", "git")
    commit, log = fetched["commit"], fctx.log
    repo = repo_dir(fctx.layout, str(source.get("git_url")))
    if not (repo / "HEAD").is_file():
        raise FetchError(f"git cache {repo} is missing; run the download stage again")
    _git(log, "init", "-q", into)
    _git(log, "-C", into, "fetch", "-q", "--tags", repo, f"+{_pin(commit)}:refs/remotes/origin/condoit")
    _git(log, "-C", into, "checkout", "-q", "--detach", commit)
    _git(log, "-C", into, "remote", "add", "origin", str(source.get("git_url")))
