"""Debian source packages as a last resort for upstream tarballs (machines without internet).

Debian's source archive keeps byte-identical copies of many upstream tarballs as
``<pkg>_<version>.orig.tar.*``. A recipe opts in with ``extra: {debian_source: <package>}``
(or ``{debian_source: {package: <package>, version: <upstream version>}}`` when the
upstream version differs from the recipe's). The Debian version is looked up with
``apt-cache showsrc`` by its upstream part, never hard-coded, and ``apt-get source
--download-only`` fetches it. Files found are only *candidates*: the caller accepts one
only if it matches the recipe's hash. Needs ``deb-src`` entries in apt's sources.

Where Debian repacks the upstream file (zlib's ``.dfsg``, sqlite3's full tree, a tag
archive), the mapping form may add ``sha256:``: the recipe then *declares* that repack as
a named alternative, accepted only with exactly that hash (never the recipe's, which stays
the upstream file's). The log says which of the two a build used.

``DebianFallback`` is this origin as the url kind sees it (``UrlKind(fallbacks=...)`` in
``SOURCE_KINDS``): the ``extra:`` key it reads, its render-time check, and the candidates.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator, Mapping

from ..stagelog import CommandFailed, StageLog, require_program
from .base import FetchError
from .cache import Expected

EXTRA_KEY = "debian_source"
ENABLE_HINT = ("enable source entries for apt (add `deb-src` to the `Types:` lines of "
               "/etc/apt/sources.list.d/debian.sources) and run `apt-get update`")
_SHA256 = re.compile(r"^[0-9a-fA-F]{64}$")
_NOT_CANDIDATES = re.compile(r"\.(dsc|asc|debian\.tar\.\w+|diff\.gz)$")


@dataclass(frozen=True)
class DebianSource:
    package: str
    upstream_version: str
    sha256: str | None = None   # a declared repack (not the upstream file), with its own hash

    def __str__(self) -> str:
        repack = f", Debian's repack with sha256 {self.sha256}" if self.sha256 else ""
        return f"Debian source package {self.package} (upstream version {self.upstream_version}{repack})"


class DebianFallback:
    """The url kind's last origin: Debian's copy of the upstream tarball (opt-in per recipe)."""

    extra_key = EXTRA_KEY

    def check(self, value: Any) -> str | None:
        """Why ``extra/debian_source`` is malformed (render time), or None."""
        try:
            debian_source({EXTRA_KEY: value}, "0")
        except FetchError as exc:
            return str(exc)
        return None

    def wanted(self, extra: Mapping[str, Any] | None, recipe_version: str) -> DebianSource | None:
        return debian_source(extra, recipe_version)

    def expected(self, wanted: DebianSource, recipe: Expected) -> Expected:
        """The hash a candidate must have: the declared repack's, else the recipe's own."""
        return Expected(sha256=wanted.sha256) if wanted.sha256 else recipe

    def candidates(self, wanted: DebianSource, workdir: Path, log: StageLog) -> Iterator[tuple[str, Path]]:
        return candidate_files(wanted, workdir, log)


def debian_source(extra: Mapping[str, Any] | None, recipe_version: str) -> DebianSource | None:
    """The recipe's opt-in to the Debian fallback, or None."""
    value = (extra or {}).get(EXTRA_KEY)
    if not value:
        return None
    if isinstance(value, str):
        return DebianSource(value, recipe_version)
    if isinstance(value, Mapping) and value.get("package"):
        sha256 = value.get("sha256")
        if sha256 is not None and not _SHA256.match(str(sha256)):
            raise FetchError(f"extra/{EXTRA_KEY}/sha256 must be 64 hex digits (the sha256 of "
                             f"Debian's repacked .orig file), not {sha256!r}")
        return DebianSource(str(value["package"]), str(value.get("version") or recipe_version),
                            sha256 and str(sha256).lower())
    raise FetchError(f"extra/{EXTRA_KEY} must be a Debian source package name or a mapping "
                     f"{{package: <name>, version: <upstream version>, sha256: <of a repack>}}, "
                     f"not {value!r}")


def upstream_part(debian_version: str) -> str:
    """``1:1.0.8-5+deb12u1`` -> ``1.0.8`` (no epoch, no Debian revision)."""
    version = debian_version.split(":", 1)[1] if ":" in debian_version else debian_version
    return version.rsplit("-", 1)[0] if "-" in version else version


def debian_versions(package: str, log: StageLog) -> list[str]:
    """Every version of the source package apt knows about, as ``apt-cache showsrc`` lists them."""
    require_program("apt-cache", f"the Debian source fallback (extra: {EXTRA_KEY})", "apt")
    proc = log.run(["apt-cache", "showsrc", package], check=False)
    versions: list[str] = []
    current = None
    for line in proc.stdout.splitlines():
        if line.startswith("Package:"):
            current = line.split(":", 1)[1].strip()
        elif line.startswith("Version:") and current == package:
            versions.append(line.split(":", 1)[1].strip())
    return list(dict.fromkeys(versions))


def candidate_files(source: DebianSource, workdir: Path, log: StageLog) -> Iterator[tuple[str, Path]]:
    """(origin, file) for the upstream tarballs of every Debian version with our upstream version."""
    versions = debian_versions(source.package, log)
    if not versions:
        raise FetchError(f"apt knows no source package '{source.package}'; {ENABLE_HINT}")
    matching = [v for v in versions if upstream_part(v) == source.upstream_version]
    if not matching:
        raise FetchError(f"{source}: apt has only version(s) {', '.join(versions)}")
    require_program("apt-get", f"the Debian source fallback (extra: {EXTRA_KEY})", "apt")
    for number, version in enumerate(matching):
        folder = workdir / str(number)
        folder.mkdir(parents=True)
        folder.chmod(0o755)  # apt downloads as its sandbox user when it can
        spec = f"{source.package}={version}"
        try:
            log.run(["apt-get", "source", "--download-only", "--only-source", "-q", spec], cwd=folder)
        except CommandFailed as exc:
            log.note(f"{spec}: not downloadable ({exc.returncode}); trying the next version")
            continue
        for path in sorted(folder.iterdir(), key=lambda p: (".orig" not in p.name, p.name)):
            if path.is_file() and not _NOT_CANDIDATES.search(path.name):
                yield f"apt-get source {spec} ({path.name})", path
