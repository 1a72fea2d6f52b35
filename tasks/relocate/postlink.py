"""Link scripts (pre-link, post-link, pre-unlink) placed where installers look for them:
``bin/.<package>-<action>.sh``."""
from __future__ import annotations

import shutil
from pathlib import Path
from typing import Mapping

ACTIONS = ("pre-link", "post-link", "pre-unlink")


def script_path(package: str, action: str) -> str:
    return f"bin/.{package}-{action}.sh"


def install(prefix: Path, package: str, scripts: Mapping[str, str]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Copy the recipe's link scripts (action -> source path); returns (paths written, problems)."""
    written: list[str] = []
    problems: list[str] = []
    for action, source in sorted(scripts.items()):
        if action not in ACTIONS:
            problems.append(f"link script {source}: unknown action {action!r} (known: {', '.join(ACTIONS)})")
            continue
        if not Path(source).is_file():
            problems.append(f"link script {source}: no such file")
            continue
        rel = script_path(package, action)
        target = prefix / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, target)
        target.chmod(0o775)
        written.append(rel)
    return tuple(written), tuple(problems)
