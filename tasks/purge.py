"""`doit purge`: take out of the cache what the stack no longer uses; keep what its builds reuse.

A cache only grows. A removed or renamed recipe leaves its work trees, host prefix, stamps
and logs; a version bump leaves the old source archive; a rebuild whose build string
changed leaves an unpacked package in py-rattler's package cache; compiled templates and
render memos pile up per recipe text and settings. conda-build's `purge` empties its build
folders, which here would throw away what the next incremental build reuses. Purge keeps
every result of a current stage (nothing runs again after it) and the channel, and removes:

- every entry of a recipe name that no recipe under the recipes directory has, for every
  platform (a recipe skipped for this target keeps its entries);
- downloads that no finished download stage holds and whose sha256 no file under the
  recipes directory names (another platform's selector, a skipped recipe's source);
- unpacked packages that are not in the channel;
- render memos of other settings, and compiled templates no current render used (made
  again, in milliseconds, when needed).

It needs every recipe to render: a broken recipe's name is not known, and its entries
would be taken for a removed recipe's. It runs under the cache lock, so no build is using
what it removes.
"""
from __future__ import annotations

import os
import re
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

from doit.exceptions import TaskFailed

from .fsutil import remove_tree, size_text
from .paths import Layout
from .settings import Settings
from .stack import Stack

_SHA256 = re.compile(r"\b[0-9a-fA-F]{64}\b")
_RECIPE_TEXT_LIMIT = 1 << 20        # recipe files larger than this are data, not recipes


@dataclass(frozen=True)
class Removal:
    """One kind of entry purge takes out: what it is, and where."""

    what: str
    paths: tuple[Path, ...]


def purge_cache(jobs: Sequence[tuple[Any, Any, Any]], stack: Stack, settings: Sequence[Settings],
                dry_run: bool = False) -> TaskFailed | None:
    """doit action of `doit purge`: remove, then say what and how much (``dry_run``: only
    say). ``settings`` are the run's, per platform it renders for (the target's first)."""
    if stack.problems:
        return TaskFailed(f"purge needs every recipe to render, and {len(stack.problems)} problem(s) are "
                          "reported above: a broken recipe's entries would be taken for a removed "
                          "recipe's. Fix or remove the broken recipes, then purge again.")
    layout = Layout.of(settings[0])
    removals = unused_entries(jobs, stack, layout, settings)
    sizes = freed_bytes([r.paths for r in removals])
    if not dry_run:
        _remove(layout.purging, [path for removal in removals for path in removal.paths])
    print(purge_report(removals, sizes, layout.cache, dry_run))
    return None


def _remove(trash: Path, paths: list[Path]) -> None:
    """Each entry leaves its place at once (a rename into the cache's own temporary room),
    then the room is emptied: an interrupted purge never leaves half an unpacked package
    or half a tree where a later run would look."""
    remove_tree(trash)                  # what an interrupted purge left
    trash.mkdir(parents=True)
    for number, path in enumerate(paths):
        if path.exists() or path.is_symlink():
            try:
                os.replace(path, trash / str(number))
            except OSError:             # a folder linked to another filesystem: removed in place
                remove_tree(path)
    remove_tree(trash)


def unused_entries(jobs: Sequence[tuple[Any, Any, Any]], stack: Stack, layout: Layout,
                   settings: Sequence[Settings]) -> list[Removal]:
    """What purge removes (empty kinds left out), in the order it reports them."""
    removals = [_removed_recipes(stack, layout), _unused_downloads(jobs, layout, Path(settings[0].recipes_dir)),
                _unpacked_not_in_channel(layout), _unused_render_files(layout, settings)]
    return [r for r in removals if r.paths]


def _removed_recipes(stack: Stack, layout: Layout) -> Removal:
    known = {r.name for r in stack.recipes} | {s.name for s in stack.skipped}
    gone = [(name, path) for name, path in layout.recipe_entries() if name not in known]
    names = sorted({name for name, _ in gone})
    return Removal(f"work trees, prefixes, stamps and logs of {_count(len(names), 'recipe')} no longer "
                   f"in the stack: {', '.join(names)}", tuple(path for _, path in gone))


def _unused_downloads(jobs: Sequence[tuple[Any, Any, Any]], layout: Layout, recipes_dir: Path) -> Removal:
    from .stages.base import read_result
    used = _named_in_recipes(recipes_dir)
    for stage, ref, ctx in jobs:
        if stage.name == "download" and (result := read_result(ref, ctx)) is not None:
            used |= {Path(p).name for p in stage.output_paths(ctx.stack.recipe(ref.recipe), ctx, result)}
    unused = [sha for sha in layout.downloaded() if sha not in used]
    aliases = [alias for alias, sha in layout.download_aliases() if sha in unused]
    names = [_archive_name(layout, sha) for sha in unused]
    paths = [p for sha in unused for p in (layout.download(sha), layout.download_meta(sha))]
    return Removal(f"{_count(len(unused), 'download')} no recipe uses: {', '.join(names)}",
                   tuple(paths + aliases))


def _named_in_recipes(recipes_dir: Path) -> set[str]:
    """Every sha256 written in a file under the recipes directory (lower case)."""
    found: set[str] = set()
    for folder, _dirs, files in os.walk(recipes_dir):
        for name in files:
            path = os.path.join(folder, name)
            try:
                if os.path.getsize(path) <= _RECIPE_TEXT_LIMIT:
                    with open(path, encoding="utf-8", errors="replace") as fh:
                        found |= {m.lower() for m in _SHA256.findall(fh.read())}
            except OSError:
                continue
    return found


def _archive_name(layout: Layout, sha256: str) -> str:
    import json
    try:
        return str(json.loads(layout.download_meta(sha256).read_text())["name"])
    except (OSError, ValueError, KeyError, TypeError):
        return sha256[:12]


def _unpacked_not_in_channel(layout: Layout) -> Removal:
    """py-rattler's unpacked packages (``<name>-<version>-<build>`` and its ``.lock``) whose
    package the channel no longer holds: older builds, replaced as the stack was rebuilt."""
    from .condapkg import channel_packages, parse_archive_name
    in_channel = {parsed.stem for p in channel_packages(layout.channel) if (parsed := parse_archive_name(p.name))}
    stale = []
    for entry in sorted(layout.package_cache.glob("*")):
        name = entry.name.removesuffix(".lock")
        stem = parsed.stem if (parsed := parse_archive_name(name)) else name
        if not entry.name.startswith(".") and stem not in in_channel:
            stale.append(entry)
    unpacked = sum(1 for e in stale if e.is_dir())
    return Removal(f"{_count(unpacked, 'unpacked package')} not in the channel", tuple(stale))


def _unused_render_files(layout: Layout, settings: Sequence[Settings]) -> Removal:
    """Memos of settings this run does not have, and templates neither its render nor the
    renders its memos hold used."""
    from .render.stack_memo import memo_path, memo_templates
    from .render.template_cache import unused_files, used_keys
    current = {memo_path(s) for s in settings}
    keep = used_keys().union(*(memo_templates(s) for s in settings))
    memos = [m for m in layout.stack_memos() if m not in current]
    templates = unused_files(layout.template_cache, keep)
    parts = [f"{_count(len(memos), 'render memo')} of other settings" if memos else "",
             f"{_count(len(templates), 'compiled template')} of recipe texts no longer current" if templates else ""]
    return Removal(", ".join(p for p in parts if p), tuple(memos + templates))


def freed_bytes(groups: list[tuple[Path, ...]]) -> list[int]:
    """Per group of paths, the bytes removing them all frees: a regular file counts once, in
    the first group that holds it, and only when every hard link to it is among the paths
    (py-rattler links unpacked packages into the prefixes it installs)."""
    links: dict[tuple[int, int], list[int]] = {}        # inode -> [links seen, size, group, links]
    for group, paths in enumerate(groups):
        for path in paths:
            for file in _files(path):
                try:
                    st = os.lstat(file)
                except OSError:
                    continue
                if stat.S_ISREG(st.st_mode):
                    seen = links.setdefault((st.st_dev, st.st_ino), [0, st.st_size, group, st.st_nlink])
                    seen[0] += 1
    freed = [0] * len(groups)
    for seen, size, group, nlink in links.values():
        if seen >= nlink:
            freed[group] += size
    return freed


def _files(path: Path) -> list[str]:
    if path.is_symlink() or not path.is_dir():
        return [str(path)]
    return [os.path.join(folder, name) for folder, _dirs, files in os.walk(path) for name in files]


def purge_report(removals: list[Removal], sizes: list[int], cache: Path, dry_run: bool = False) -> str:
    if not removals:
        return (f"condoit: purge: nothing to take out of {cache}; it holds the current stages' results, "
                "the channel and the caches they use (`doit clean` drops stage results)")
    took = "would take" if dry_run else "took"
    lines = [f"condoit: purge {took} {size_text(sum(sizes))} out of {cache}"
             + (" (dry_run: nothing was removed):" if dry_run else ":")]
    lines += [f"  {size_text(size):>10}  {removal.what}" for removal, size in zip(removals, sizes)]
    lines.append("kept: the current stages' results, the channel, ccache (`doit clean` drops stage results)")
    return "\n".join(lines)


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"
