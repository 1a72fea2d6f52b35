"""The installer's packages: the construct specs solved for the target against the local
channel (py-rattler), minus ``exclude``, and laid out in a staging prefix by py-rattler
with the payload's placeholder as the prefix (``alternative_target_prefix``): noarch python
packages land in site-packages with their entry points, text and binary files get the
placeholder, conda-meta holds the records. Link scripts are not run here: the installer
runs post-link scripts on the target.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

from ..envs import channel_url, ensure_channel, virtual_packages
from ..errors import CondoitError
from ..paths import Layout
from ..settings import Settings

# The install-time helper (recipes/condoit-unpack): solved apart, never installed in the prefix.
HELPER = "condoit-unpack"


@dataclass(frozen=True)
class Solved:
    """One package of the installer, as the solve picked it."""

    name: str
    version: str
    build: str
    build_number: int
    file_name: str
    sha256: str
    size: int
    noarch: str                 # "" | "python" | "generic"

    @property
    def dist(self) -> str:
        return f"{self.name}-{self.version}-{self.build}"


def _solved(record: Any) -> Solved:
    sha = record.sha256
    noarch = record.noarch
    return Solved(record.name.normalized, str(record.version), str(record.build), int(record.build_number),
                  record.file_name, sha.hex() if isinstance(sha, bytes) else str(sha or ""),
                  int(record.size or 0), "python" if noarch.python else "generic" if noarch.generic else "")


def solve(specs: Sequence[str], exclude: Sequence[str], layout: Layout, settings: Settings) -> list[Any]:
    """py-rattler records of ``specs`` for the target, in dependency order, without ``exclude``."""
    import asyncio

    import rattler

    from ..render.matchspec import client_spec
    platform = settings.target_platform
    ensure_channel(layout, [platform, "noarch"])

    async def run() -> list[Any]:
        return await rattler.solve(sources=[rattler.Channel(channel_url(layout))],
                                   specs=[client_spec(s) for s in specs], platforms=[platform, "noarch"],
                                   virtual_packages=virtual_packages(settings, platform))
    try:
        records = asyncio.run(run())
    except Exception as exc:  # py-rattler's own exception types
        raise CondoitError(f"cannot solve {', '.join(specs)} for {platform} from the local channel "
                           f"{layout.channel}:\n  {exc}\n  build what is missing first "
                           f"(`doit build:<recipe>`), or change the specs") from None
    excluded = set(exclude)
    unknown = excluded - {r.name.normalized for r in records}
    if unknown:
        raise CondoitError(f"exclude names {', '.join(sorted(unknown))}, which the solve did not pick")
    kept = {r.name.normalized: r for r in records if r.name.normalized not in excluded}
    order = rattler.PackageRecord.sort_topologically(list(kept.values()))
    return [kept[r.name.normalized] for r in order]


def solved(records: Sequence[Any]) -> tuple[Solved, ...]:
    return tuple(_solved(r) for r in records)


def placeholder_length(records: Sequence[Any], layout: Layout, settings: Settings) -> int:
    """The shortest binary prefix placeholder of the packages: the longest prefix that fits
    in every binary (and so the longest install prefix the installer accepts)."""
    from rattler import PathsJson
    shortest = 255
    for record in records:
        archive = layout.channel_subdir(record.subdir) / record.file_name
        for entry in PathsJson.from_package_archive(archive).paths:
            ph = entry.prefix_placeholder
            if ph is not None and str(ph.file_mode).lower().endswith("binary"):
                shortest = min(shortest, len(ph.placeholder))
    return shortest


def stage(records: Sequence[Any], into: Path, placeholder: str, layout: Layout, settings: Settings) -> None:
    """Install ``records`` into ``into`` as if the prefix were ``placeholder`` (py-rattler)."""
    import asyncio

    import rattler
    into.mkdir(parents=True, exist_ok=True)

    async def run() -> None:
        await rattler.install(list(records), target_prefix=into, cache_dir=layout.package_cache,
                              platform=rattler.Subdir(settings.target_platform), show_progress=False,
                              execute_link_scripts=False, alternative_target_prefix=placeholder)
    try:
        asyncio.run(run())
    except Exception as exc:  # py-rattler's own exception types
        raise CondoitError(f"cannot lay out the installer's packages in {into}:\n  {exc}") from None
