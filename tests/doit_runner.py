"""Run the real `doit` on a stack the test wrote, and read which tasks ran."""
from __future__ import annotations

import os
import re
import subprocess
import sys
import textwrap
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DODO = ROOT / "dodo.py"
TASK_LINE = re.compile(r"^(\.|--) +(\S+)$")


@dataclass(frozen=True)
class DoitRun:
    returncode: int
    stdout: str
    stderr: str
    ran: frozenset[str]
    uptodate: frozenset[str]

    @property
    def output(self) -> str:
        return self.stdout + self.stderr


def run_doit(recipes: Path, cache: Path, *args: str, timeout: int = 1200, cwd: Path = ROOT,
             **variables: str) -> DoitRun:
    """`doit -f dodo.py recipes=... cache=... ARGS` run in ``cwd`` (the project root the
    settings see); ran/uptodate parsed from doit's lines."""
    cmd = [sys.executable, "-m", "doit", "-f", str(DODO), "-d", str(cwd),
           *args, f"recipes={recipes}", f"cache={cache}",
           *(f"{k}={v}" for k, v in variables.items())]
    env = {k: v for k, v in os.environ.items() if not k.startswith("CONDOIT_")}
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env)
    ran, uptodate = set(), set()
    for line in proc.stdout.splitlines():
        m = TASK_LINE.match(line.strip("\r"))
        if m:
            (ran if m.group(1) == "." else uptodate).add(m.group(2))
    return DoitRun(proc.returncode, proc.stdout, proc.stderr, frozenset(ran), frozenset(uptodate))


# A recipe that builds in a second: one text file, a test that greps it (noarch: no compiler).
TEXT_META = """
package: {{name: {name}, version: "1.0"}}
build:
  noarch: generic
test:
  commands:
    - grep -qx {name} $PREFIX/share/{name}.txt
"""
TEXT_BUILD = "mkdir -p $PREFIX/share\necho $PKG_NAME > $PREFIX/share/$PKG_NAME.txt\n"


def text_recipe(recipes: Path, name: str, build: str = TEXT_BUILD, meta: str = TEXT_META) -> Path:
    """``recipes/<name>``: a text recipe (``meta`` and ``build`` may be changed)."""
    return write_recipe(recipes, name, meta.format(name=name), build_sh=build)


def write_recipe(recipes: Path, name: str, meta: str, **files: str) -> Path:
    """Write recipes/<name>/meta.yaml (dedented) and other files (``build_sh`` -> build.sh)."""
    directory = recipes / name
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "meta.yaml").write_text(textwrap.dedent(meta).lstrip())
    for fname, text in files.items():
        target = directory / fname.replace("_sh", ".sh").replace("_py", ".py")
        target.write_text(textwrap.dedent(text).lstrip())
    return directory
