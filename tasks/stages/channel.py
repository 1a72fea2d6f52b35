"""Stage 'channel' (one for the whole stack): check the channel and write its channeldata.json.

It runs after every recipe of every platform is indexed, and again only when one of them
changed. It verifies the whole channel, not one recipe's part: in every subdir, each
package file is listed in repodata.json and each listed package is there, with the size
repodata records. Then it writes ``channel/channeldata.json`` (conda-index's format: per
package name its latest version, subdirs, license and ``about`` fields), which channel
browsers and installers read.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..fsutil import sha256_file, write_json_atomic
from ..outputs import package_recipes
from ..paths import STACK_DIRNAME
from ..stagelog import stage_log
from .base import STACK, Context, Inputs, Result, Stage
from .index import repodata_entries

ABOUT_KEYS = ("summary", "description", "home", "dev_url", "doc_url", "license")


@dataclass(frozen=True)
class ChannelResult(Result):
    subdirs: tuple[str, ...]
    packages: int                # package files in the channel
    channeldata: str             # sha256 of channeldata.json


class ChannelStage(Stage):
    name = "channel"
    doc = "check the whole channel and write its channeldata.json"
    scope = STACK
    result = ChannelResult
    version = 1

    def upstream(self, recipe: None, ctx: Context):
        return [ctx.ref("index", name, platform) for name, platform in ctx.plan.nodes]

    def inputs(self, recipe: None, ctx: Context) -> Any:
        about = {p.name: p.section("about") for r in ctx.stack.recipes for p in package_recipes(r)}
        return {"about": {name: {k: a[k] for k in ABOUT_KEYS if k in a} for name, a in about.items()}}

    def output_paths(self, recipe: None, ctx: Context, result: ChannelResult) -> list[Path]:
        # the subdirs too: a package added or removed by hand is noticed (one stat per subdir)
        return [ctx.layout.channeldata, *(ctx.layout.channel_subdir(s) for s in result.subdirs)]

    def clean(self, recipe: None, ctx: Context) -> None:
        ctx.layout.channeldata.unlink(missing_ok=True)

    def run(self, recipe: None, ctx: Context, inputs: Inputs) -> ChannelResult:
        from ..condapkg import parse_archive_name
        channel = ctx.layout.channel
        with stage_log(ctx.layout, STACK_DIRNAME, self.name) as log:
            subdirs = sorted(d.name for d in channel.iterdir() if (d / "repodata.json").is_file()) \
                if channel.is_dir() else []
            problems: list[str] = []
            records: list[dict[str, Any]] = []
            for subdir in subdirs:
                folder = ctx.layout.channel_subdir(subdir)
                listed = repodata_entries(folder / "repodata.json")
                present = {p.name: p for p in folder.iterdir()
                           if not p.name.startswith(".") and parse_archive_name(p.name) is not None}
                for name in sorted(set(present) - set(listed)):
                    problems.append(f"{folder / name} is not listed in {folder / 'repodata.json'}")
                for name, entry in sorted(listed.items()):
                    if name not in present:
                        problems.append(f"{folder / 'repodata.json'} lists {name}, which is not in {folder}")
                    elif entry.get("size") is not None and present[name].stat().st_size != entry["size"]:
                        problems.append(f"{folder / name} is {present[name].stat().st_size} bytes, "
                                        f"repodata.json says {entry['size']}")
                    else:
                        records.append({**entry, "subdir": subdir})
            log.note(f"# {len(records)} package(s) in {len(subdirs)} subdir(s): {', '.join(subdirs)}")
            if problems:
                raise log.error(f"the channel {channel} does not match its repodata:\n  " + "\n  ".join(problems))
            write_json_atomic(ctx.layout.channeldata, channeldata(records, subdirs, self.inputs(None, ctx)["about"]))
            log.note(f"# wrote {ctx.layout.channeldata}")
        return ChannelResult(tuple(subdirs), len(records), sha256_file(ctx.layout.channeldata))


def channeldata(records: list[dict[str, Any]], subdirs: list[str], about: dict[str, dict]) -> dict[str, Any]:
    """channeldata.json: per package name, its latest version and where it is built."""
    from rattler import Version
    packages: dict[str, dict[str, Any]] = {}
    for record in records:
        name = record["name"]
        entry = packages.setdefault(name, {"subdirs": [], "version": record["version"], "timestamp": 0})
        if record["subdir"] not in entry["subdirs"]:
            entry["subdirs"].append(record["subdir"])
        if Version(str(record["version"])) > Version(str(entry["version"])):
            entry["version"] = record["version"]
        entry["timestamp"] = max(entry["timestamp"], int(record.get("timestamp") or 0))
        if record.get("license"):
            entry.setdefault("license", record["license"])
    for name, entry in packages.items():
        entry["subdirs"].sort()
        for key, value in about.get(name, {}).items():
            entry.setdefault(key, value)
    return {"channeldata_version": 1, "packages": dict(sorted(packages.items())), "subdirs": subdirs}
