"""Conda environments from the local channel, with py-rattler (the real conda client).

Used to fill the host prefix before a build and to make test prefixes. The channel is
solved for the *target* platform, so virtual packages are passed explicitly.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

from .errors import CondoitError
from .paths import Layout
from .settings import Settings

# What a linux target offers, for solving; __glibc is the highest floor we accept.
DEFAULT_GLIBC = "2.36"


@dataclass(frozen=True)
class InstalledRecord:
    name: str
    version: str
    build: str
    file_name: str
    sha256: str
    depends: tuple[str, ...]


def virtual_packages(settings: Settings, platform: str) -> list:
    """What a machine of ``platform`` offers: the target's (up to ``max_glibc``), or the build
    machine's for a prefix of tools that run here."""
    import rattler
    glibc = (settings.max_glibc if platform == settings.target_platform else "") or DEFAULT_GLIBC
    pkgs = [("__unix", "0", "0"), ("__linux", "5.10", "0"), ("__glibc", glibc, "0")]
    arch = platform.split("-", 1)[1]
    pkgs.append(("__archspec", "1", {"aarch64": "aarch64", "64": "x86_64"}.get(arch, arch)))
    return [rattler.GenericVirtualPackage(rattler.PackageName(n), rattler.Version(v), rattler.BuildString(b))
            for n, v, b in pkgs]


def channel_url(layout: Layout) -> str:
    return layout.channel.resolve().as_uri()


def ensure_channel(layout: Layout, subdirs: Sequence[str]) -> None:
    """An empty channel must still answer with repodata for every subdir we solve for."""
    for subdir in subdirs:
        repodata = layout.channel_subdir(subdir) / "repodata.json"
        if not repodata.exists():
            from .fsutil import write_json_atomic
            write_json_atomic(repodata, {"info": {"subdir": subdir}, "packages": {},
                                         "packages.conda": {}, "removed": [], "repodata_version": 1})


async def _solve_and_install(specs: list[str], prefix: Path, settings: Settings, layout: Layout,
                             platform: str) -> list:
    import rattler
    channel = rattler.Channel(channel_url(layout))
    records = await rattler.solve(
        sources=[channel], specs=specs, platforms=[platform, "noarch"],
        virtual_packages=virtual_packages(settings, platform),
    )
    await rattler.install(records, target_prefix=prefix, cache_dir=layout.package_cache,
                          platform=rattler.Subdir(platform), show_progress=False, execute_link_scripts=False)
    return records


def create_env(specs: Sequence[str], prefix: Path, settings: Settings, platform: str | None = None,
               what: str = "environment") -> list[InstalledRecord]:
    """Solve ``specs`` against the local channel and install them into ``prefix``."""
    layout = Layout.of(settings)
    platform = platform or settings.target_platform
    prefix.mkdir(parents=True, exist_ok=True)
    if not specs:
        return []
    ensure_channel(layout, [platform, "noarch"])
    import asyncio  # loaded by the runs that solve, not by `doit list`

    from .render.matchspec import client_spec
    try:
        records = asyncio.run(_solve_and_install([client_spec(s) for s in specs], prefix, settings,
                                                 layout, platform))
    except Exception as exc:  # py-rattler raises its own exception types
        raise CondoitError(f"cannot create the {what} from the local channel {layout.channel} "
                           f"for {platform} with {', '.join(specs)}:\n  {exc}") from None
    return [InstalledRecord(r.name.normalized, str(r.version), str(r.build), r.file_name,
                            r.sha256.hex() if isinstance(r.sha256, bytes) else str(r.sha256 or ""),
                            tuple(str(d) for d in r.depends)) for r in records]


def installed_files(prefix: Path, package: str) -> list[str]:
    """Files a package installed into a prefix (from conda-meta)."""
    for meta in (prefix / "conda-meta").glob(f"{package}-*.json"):
        data = json.loads(meta.read_text())
        if data.get("name") == package:
            return list(data.get("files", []))
    return []


def package_run_exports(layout: Layout, record: InstalledRecord) -> dict:
    """run_exports.json of an installed package, read from py-rattler's package cache."""
    from .condapkg import parse_archive_name
    parsed = parse_archive_name(record.file_name)
    if parsed is None:
        return {}
    path = layout.package_cache / parsed.stem / "info" / "run_exports.json"
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
