"""Issue 13: a recipe whose version comes from its git source (GIT_DESCRIBE_TAG) lists
before anything is fetched and is built, packaged and tested with the real values."""
from __future__ import annotations

import json
import subprocess
from pathlib import Path

from doit_runner import run_doit, write_recipe
from test_package_metadata import info_files

META = """
package:
  name: described
  version: {{ GIT_DESCRIBE_TAG[1:] }}
source:
  git_url: %s
build:
  noarch: generic
  number: {{ GIT_DESCRIBE_NUMBER }}
  string: {{ GIT_BUILD_STR }}
test:
  commands:
    - grep -qx "1.2.0 2" $PREFIX/share/described.txt
about:
  summary: built from {{ GIT_DESCRIBE_HASH }}
"""
BUILD = """
mkdir -p $PREFIX/share
echo "$PKG_VERSION $PKG_BUILDNUM" > $PREFIX/share/described.txt
"""


def _git(repo: Path, *args: str) -> str:
    env = {"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.invalid", "GIT_COMMITTER_NAME": "t",
           "GIT_COMMITTER_EMAIL": "t@example.invalid", "PATH": "/usr/bin:/bin", "HOME": str(repo)}
    return subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True, text=True,
                          env=env).stdout.strip()


def _tagged_repo(path: Path) -> Path:
    """Three commits, the first tagged v1.2.0: describe says v1.2.0-2-g<hash>."""
    path.mkdir(parents=True)
    _git(path, "init", "-q", "-b", "main")
    for i in range(3):
        (path / "f").write_text(f"{i}\n")
        _git(path, "add", "f")
        _git(path, "commit", "-q", "-m", f"c{i}")
        if i == 0:
            _git(path, "tag", "-a", "v1.2.0", "-m", "release")
    return path


def test_git_describe_recipe_builds_with_its_real_version(tmp_path):
    repo = _tagged_repo(tmp_path / "repo")
    short = "g" + _git(repo, "rev-parse", "--short=7", "HEAD")
    recipes, cache = tmp_path / "recipes", tmp_path / "cache"
    write_recipe(recipes, "described", META % repo, build_sh=BUILD)

    listed = run_doit(recipes, cache, "list", "--all")
    assert listed.returncode == 0, listed.output
    assert "compile:described" in listed.stdout and "GIT_DESCRIBE_TAG" in listed.output  # placeholders, said once
    assert not (cache / "channel").exists() or not list((cache / "channel").rglob("*.conda"))

    built = run_doit(recipes, cache, "build:described")
    assert built.returncode == 0, built.output[-3000:]
    (archive,) = (cache / "channel" / "noarch").glob("described-*.conda")
    assert archive.name == f"described-1.2.0-2_{short}.conda"
    info = info_files(cache, "noarch", "described")
    index = json.loads(info["info/index.json"])
    assert (index["version"], index["build_number"], index["build"]) == ("1.2.0", 2, f"2_{short}")
    assert json.loads(info["info/about.json"])["summary"] == f"built from {short}"
    assert "test:described" in built.ran

    again = run_doit(recipes, cache, "build:described")
    assert again.returncode == 0 and again.ran == frozenset(), again.output
