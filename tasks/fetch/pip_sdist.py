"""The Python package index as a last origin of a url source, reached only through pip.

A recipe keeps the project's own ``url:`` (its release page) and opts in with
``extra: {pip_sdist: <distribution name>}`` (or ``{pip_sdist: {name: <name>, version: <v>}}``
when the index's version differs from the recipe's). ``pip download --no-deps
--no-binary <name> <name>==<version>`` then fetches the source distribution; the index's
host is pip's business, never written here. ``--no-binary`` names only the package: its
sdist is forced, while the build backend pip loads to read the sdist's metadata may come
as a wheel (``:all:`` would build setuptools itself from source on every fetch). The file
is only a *candidate*: the url kind accepts it only when it matches the recipe's sha256.

``PipSdistFallback`` is this origin as the url kind sees it (``UrlKind(fallbacks=...)`` in
``SOURCE_KINDS``), like ``apt.DebianFallback``.
"""
from __future__ import annotations

import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator, Mapping

from ..stagelog import CommandFailed, StageLog
from .base import FetchError
from .cache import Expected

EXTRA_KEY = "pip_sdist"
_NAME = re.compile(r"^[A-Za-z0-9]([A-Za-z0-9._-]*[A-Za-z0-9])?$")


@dataclass(frozen=True)
class PipSdist:
    name: str
    version: str

    @property
    def requirement(self) -> str:
        return f"{self.name}=={self.version}"

    def __str__(self) -> str:
        return f"the source distribution {self.requirement} (pip download)"


class PipSdistFallback:
    """The url kind's last origin: the package index's sdist, via pip (opt-in per recipe)."""

    extra_key = EXTRA_KEY

    def check(self, value: Any) -> str | None:
        """Why ``extra/pip_sdist`` is malformed (render time), or None."""
        try:
            pip_sdist({EXTRA_KEY: value}, "0")
        except FetchError as exc:
            return str(exc)
        return None

    def wanted(self, extra: Mapping[str, Any] | None, recipe_version: str) -> PipSdist | None:
        return pip_sdist(extra, recipe_version)

    def expected(self, wanted: PipSdist, recipe: Expected) -> Expected:
        """The index's sdist must be the very file the recipe's hash names."""
        return recipe

    def candidates(self, wanted: PipSdist, workdir: Path, log: StageLog) -> Iterator[tuple[str, Path]]:
        return candidate_files(wanted, workdir, log)

    def rejected_hint(self, wanted: PipSdist) -> str:
        return (f"hint: the index's {wanted.requirement} sdist is not the archive the recipe's sha256 names; "
                "if the recipe's url serves that same sdist, correct source/sha256 in meta.yaml (after "
                "checking the file), otherwise the two archives differ: drop extra/pip_sdist or point "
                "source/url and sha256 at the sdist")


def pip_sdist(extra: Mapping[str, Any] | None, recipe_version: str) -> PipSdist | None:
    """The recipe's opt-in to the package index origin, or None."""
    value = (extra or {}).get(EXTRA_KEY)
    if not value:
        return None
    if isinstance(value, str) and _NAME.match(value):
        return PipSdist(value, recipe_version)
    if isinstance(value, Mapping) and isinstance(value.get("name"), str) and _NAME.match(value["name"]):
        return PipSdist(value["name"], str(value.get("version") or recipe_version))
    raise FetchError(f"extra/{EXTRA_KEY} must be a distribution name (as `pip download` takes it) or a "
                     f"mapping {{name: <name>, version: <version on the index>}}, not {value!r}")


def candidate_files(wanted: PipSdist, workdir: Path, log: StageLog) -> Iterator[tuple[str, Path]]:
    """(origin, file) of what ``pip download`` saved: one sdist, normally."""
    argv = [sys.executable, "-m", "pip", "download", "--no-deps", "--no-binary", wanted.name,
            "--disable-pip-version-check", "--progress-bar", "off", wanted.requirement, "-d", str(workdir)]
    try:
        log.run(argv, env={"PIP_NO_INPUT": "1"})
    except CommandFailed as exc:
        raise FetchError(f"{wanted}: pip could not download it (status {exc.returncode}):\n"
                         + "\n".join(exc.output.strip().splitlines()[-6:])) from None
    for path in sorted(workdir.iterdir()):
        if path.is_file():
            yield f"pip download {wanted.requirement} ({path.name})", path
