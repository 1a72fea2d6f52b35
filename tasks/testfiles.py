"""A package's tests as files: what ships in ``info/test/`` and what the test stage runs.

One generator for both, like conda-build: ``run_test.sh`` is the recipe's own run_test.sh
(if any) followed by the ``test/commands``; ``run_test.py`` imports each of
``test/imports`` and then runs the recipe's run_test.py (if any); ``run_test.pl`` is the
recipe's; ``test/files`` keep their paths under the recipe. The test stage writes these
same files into its work directory and runs the scripts in that order.
"""
from __future__ import annotations

import json
from pathlib import Path

from .model import Recipe

# script name -> how it runs, in this order ({prefix}: the test prefix)
RUNNERS: dict[str, list[str]] = {
    "run_test.sh": ["bash", "-x", "-e"],
    "run_test.py": ["{prefix}/bin/python"],
    "run_test.pl": ["{prefix}/bin/perl"],
}


# the test log says which python imports the package (the target's, under emulation)
IMPORTS_HEADER = ("import platform, sys\n"
                  "print('python', sys.version.split()[0], 'on', platform.machine(), 'at', sys.executable)\n")


def test_files(package: Recipe) -> dict[str, bytes]:
    """info/test/ of ``package`` (a recipe or one output's view): relative path -> content."""
    test = package.test
    own = {Path(s).name: Path(s).read_bytes() for s in test.scripts}
    out: dict[str, bytes] = {}
    for pattern in test.files:
        for match in sorted(package.recipe_dir.glob(pattern)):
            for found in sorted(match.rglob("*")) if match.is_dir() else [match]:
                if found.is_file():
                    out[str(found.relative_to(package.recipe_dir))] = found.read_bytes()
    if test.commands or "run_test.sh" in own:
        text = "set -ex\n"
        if "run_test.sh" in own:
            text += own["run_test.sh"].decode("utf-8", "replace").rstrip("\n") + "\n"
        text += "".join(f"{command}\n" for command in test.commands)
        out["run_test.sh"] = (text + "exit 0\n").encode()
    if test.imports or "run_test.py" in own:
        text = IMPORTS_HEADER if test.imports else ""
        text += "".join(f"print('import: ' + {m!r})\nimport {m}\n"
                        f"print('  from', getattr(sys.modules[{m!r}], '__file__', None))\n" for m in test.imports)
        out["run_test.py"] = text.encode() + own.get("run_test.py", b"")
    if "run_test.pl" in own:
        out["run_test.pl"] = own["run_test.pl"]
    if test.requires:
        out["test_time_dependencies.json"] = json.dumps(sorted(test.requires)).encode()
    return out


def test_commands(files: dict[str, bytes], prefix: Path) -> list[list[str]]:
    """The commands that run the test scripts among ``files`` (from ``test_files``), in order."""
    return [[arg.replace("{prefix}", str(prefix)) for arg in runner] + [name]
            for name, runner in RUNNERS.items() if name in files]
