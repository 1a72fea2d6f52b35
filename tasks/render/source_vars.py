"""Jinja variables conda-build derives from the fetched source: GIT_* and HG_*.

conda-build defines them only once the source is in its work directory (a git or hg
checkout in the first source's folder), and renders a recipe that uses them again after
fetching. ``git_info`` / ``hg_info`` compute them from a work tree exactly as conda-build's
``environ.get_git_info`` / ``get_hg_build_info`` do. Before the source is there, a render
uses ``PLACEHOLDERS`` (chosen to survive the usual idioms: ``GIT_DESCRIBE_TAG[1:]``,
``|replace('v', '')``, ``GIT_DESCRIBE_NUMBER|int``) and records which ones it read.
"""
from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

GIT_VARS = ("GIT_DESCRIBE_TAG", "GIT_DESCRIBE_TAG_PEP440", "GIT_DESCRIBE_NUMBER", "GIT_DESCRIBE_HASH",
            "GIT_FULL_HASH", "GIT_BUILD_STR")
HG_VARS = ("HG_LATEST_TAG", "HG_LATEST_TAG_DISTANCE", "HG_NUM_ID", "HG_SHORT_ID", "HG_BRANCH",
           "HG_BUILD_STR")
SOURCE_VARS = GIT_VARS + HG_VARS

PLACEHOLDERS: dict[str, str] = {
    "GIT_DESCRIBE_TAG": "v0", "GIT_DESCRIBE_TAG_PEP440": "0", "GIT_DESCRIBE_NUMBER": "0",
    "GIT_DESCRIBE_HASH": "g0000000", "GIT_FULL_HASH": "0" * 40, "GIT_BUILD_STR": "0_g0000000",
    "HG_LATEST_TAG": "v0", "HG_LATEST_TAG_DISTANCE": "0", "HG_NUM_ID": "0", "HG_SHORT_ID": "000000000000",
    "HG_BRANCH": "default", "HG_BUILD_STR": "0_000000000000",
}


def _run(cmd: list[str], cwd: Path) -> str | None:
    """First line of a command's output, None when it fails."""
    try:
        out = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, check=True, timeout=60).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    lines = out.splitlines()
    return lines[0].strip() if lines else None


def pep440_from_describe(described: str) -> str:
    """``1.2.3-4-gabc1234`` -> ``1.2.3.post4+gabc1234``; ``1.2.3-0-g...`` -> ``1.2.3``
    (conda-build's get_version_from_git_tag; assumption: a leading ``v`` is kept)."""
    m = re.match(r"^(.*)-(\d+)-(g[0-9a-f]+)$", described)
    if not m:
        return described
    tag, distance, short = m.groups()
    return tag if distance == "0" else f"{tag}.post{distance}+{short}"


def git_info(repo: Path) -> dict[str, str]:
    """GIT_* of the checkout at ``repo`` (conda-build's get_git_info)."""
    git = shutil.which("git")
    if git is None:
        return {}
    base = [git, "-c", f"safe.directory={repo}", "-C", str(repo)]
    out: dict[str, str] = {}
    described = _run(base + ["describe", "--tags", "--long", "HEAD"], repo)
    if described:
        parts = described.rsplit("-", 2)
        if len(parts) == 3:
            out.update(zip(("GIT_DESCRIBE_TAG", "GIT_DESCRIBE_NUMBER", "GIT_DESCRIBE_HASH"), parts))
        out["GIT_DESCRIBE_TAG_PEP440"] = pep440_from_describe(described)
    if "GIT_DESCRIBE_HASH" not in out:          # no tag reachable: describe any ref for the hash
        described = _run(base + ["describe", "--all", "--long", "HEAD"], repo)
        parts = described.rsplit("-", 2) if described else []
        if len(parts) == 3:
            out["GIT_DESCRIBE_HASH"] = parts[-1]
    full = _run(base + ["rev-parse", "HEAD"], repo)
    if full:
        out["GIT_FULL_HASH"] = full
    if "GIT_DESCRIBE_NUMBER" in out and "GIT_DESCRIBE_HASH" in out:
        out["GIT_BUILD_STR"] = f"{out['GIT_DESCRIBE_NUMBER']}_{out['GIT_DESCRIBE_HASH']}"
    return out


def hg_info(repo: Path) -> dict[str, str]:
    """HG_* of the checkout at ``repo`` (conda-build's get_hg_build_info)."""
    hg = shutil.which("hg")
    if hg is None:
        return {}
    line = _run([hg, "--repository", str(repo), "log", "--template",
                 "{rev}|{node|short}|{latesttag}|{latesttagdistance}|{branch}", "--rev", "."], repo)
    if not line or line.count("|") != 4:
        return {}
    rev, short, tag, distance, branch = line.split("|")
    out = {"HG_BRANCH": branch or "default", "HG_NUM_ID": rev, "HG_LATEST_TAG_DISTANCE": distance,
           "HG_SHORT_ID": short, "HG_BUILD_STR": f"{rev}_{short}"}
    if tag != "null":
        out["HG_LATEST_TAG"] = tag
    return out


def source_values(repo: Path) -> dict[str, str]:
    """The GIT_* or HG_* values of the first source's directory in a work tree ({} when
    it is not a checkout: the names stay undefined, as in conda-build)."""
    if (repo / ".git").exists():
        return git_info(repo)
    if (repo / ".hg").is_dir():
        return hg_info(repo)
    return {}
