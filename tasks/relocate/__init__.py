"""Post-build: make the files a build installed relocatable and check them, in one call.

``post_build`` edits the files in place (rpaths, shebangs, symlinks, permissions, eggs,
entry points, link scripts, GNU build-ids) and reports what the package needs to record:
the final file list, the files that embed the host prefix, extra run requirements (the
glibc floor), no_link files, and per-file warnings and problems. The package stage fails
on problems.

Modules, one job each: ``prefix_scan`` (has_prefix detection and the recipe's rules),
``elf`` (lief: facts, $ORIGIN relocation, build-ids), ``canonical`` (cache paths replaced
by canonical ones, deterministic static archives; the package stage calls it before
``post_build``), ``checks`` (arch, overlinking, glibc), ``shebang``, ``entry_points``,
``postlink``, ``symlinks``, ``eggs``, ``pyfiles`` (noarch: python layout, .pyc), ``perms``, ``globs``.
"""
from __future__ import annotations

import os
import posixpath
import stat
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Mapping, Sequence

from ..model import Recipe, spec_name
from ..paths import Layout
from ..settings import Settings
from . import checks, eggs, elf, entry_points, perms, postlink, pyfiles, shebang, symlinks
from .checks import Finding, LibraryIndex
from .globs import matches, select as select_paths
from .prefix_scan import LEGACY_PLACEHOLDER, PrefixFile, PrefixRules, file_mode, scan, select

__all__ = ["PostBuildResult", "PrefixFile", "post_build"]

# Never packaged: written by installers, or clobbering every package that has one.
DROPPED_FILES = ("share/info/dir",)
DROPPED_TOP = ("conda-meta/",)


@dataclass(frozen=True)
class PostBuildResult:
    files: tuple[str, ...]                   # final relative file list to package (sorted)
    prefix_files: tuple[PrefixFile, ...]     # has_prefix / paths.json entries (sorted by path)
    extra_run_requirements: tuple[str, ...]  # e.g. "__glibc >=2.34"
    no_link: tuple[str, ...]                 # files matched by build/no_link globs
    warnings: tuple[str, ...]
    problems: tuple[str, ...]                # per-file check failures: the package stage fails
    log: tuple[str, ...] = ()                # what was changed, one line each (for the stage log)


@dataclass
class _Report:
    """Collects what each step says, in order."""

    log: list[str]
    warnings: list[str]
    problems: list[str]

    def add(self, log: Sequence[str] = (), problems: Sequence[str] = ()) -> None:
        self.log += log
        self.problems += problems

    def finding(self, finding: Finding | None) -> None:
        if finding is not None:
            (self.problems if finding.problem else self.warnings).append(str(finding))


def post_build(prefix: Path, new_files: Sequence[str], recipe: Recipe, settings: Settings, *,
               placeholder: str | None = None, dependency_files: Mapping[str, Sequence[str]] = {},
               host_prefix_files: Sequence[str] = (), edited: Sequence[str] = ()) -> PostBuildResult:
    """Modify files in place in ``prefix`` (rpaths, shebangs, perms, scripts) and report.

    ``placeholder``: the host prefix the files name, when ``prefix`` is a copy of it
    (default: ``prefix`` itself); the package stage passes the canonical one it put in
    place of the real host prefix (``canonical.canonicalize``). ``dependency_files``:
    package name -> files it installs, for the packages that will be installed next to
    this one (its run requirements).
    ``host_prefix_files``: files the host requirements put in the host prefix (to name
    overlinking, and for build/always_include_files when they are present under ``prefix``).
    ``edited``: files the caller already changed (canonical paths): with the ELF files
    relocated here, their GNU build-id is recomputed from their final bytes at the end.
    """
    prefix = Path(prefix)
    host = posixpath.normpath(placeholder or str(prefix))
    build_prefix = str(Layout.of(settings).build_prefix(recipe.name))
    build = recipe.build
    report = _Report([], [], [])
    rules = PrefixRules.from_build(build)

    files = _package_files(prefix, new_files, host_prefix_files, build.always_include_files, report)
    python_version = str(recipe.variant.get("python", settings.python))
    files, log, problems = eggs.handle_eggs(prefix, files, python_version, build.preserve_egg_dir)
    report.add(log, problems)
    if build.noarch == "python":
        commands = [entry_points.parse(spec).command for spec in build.entry_points
                    if entry_points.is_valid(spec)]
        files, log = pyfiles.noarch_python_layout(prefix, files, python_version, commands)
        report.add(log)
    elif _python_package(recipe):
        files, log, problems = pyfiles.compile_bytecode(prefix, files, python_version,
                                                        _pythons(settings, recipe, python_version))
        report.add(log, problems)
    if build.entry_points and build.noarch != "python":
        written, problems = entry_points.write(prefix, build.entry_points, f"{host}/bin/python")
        files = tuple(sorted(set(files) | set(written)))
        report.add(problems=problems)
    written, problems = postlink.install(prefix, recipe.name, recipe.link_scripts)
    files = tuple(sorted(set(files) | set(written)))
    report.add(problems=problems)
    report.add(*symlinks.fix_symlinks(prefix, files, [host]))

    elves, scripts = _classify(prefix, files)
    relocated: set[str] = set()
    infos = _relocate_elves(prefix, elves, host, recipe, settings, report, relocated)
    _check_elves(infos, files, host, recipe, settings, dependency_files, host_prefix_files, report)
    _fix_shebangs(prefix, scripts, host, build_prefix, recipe, rules, report)
    perms.fix_permissions(prefix, files)
    # the last edit of an ELF file changed here: its build-id, from its final bytes
    touched = relocated | set(edited)
    report.log += [f"{rel}: build-id recomputed" for rel in elves
                   if rel in touched and elf.set_build_id(prefix / rel)]

    placeholders = list(dict.fromkeys([host, os.path.realpath(host), LEGACY_PLACEHOLDER]))
    hits = scan(prefix, files, placeholders, leaks=[build_prefix])
    prefix_files, problems = select(hits, rules)
    report.add(problems=problems)
    report.warnings += [f"{h.path}: holds the build prefix {leak}, which will not exist where the "
                        f"package is installed" for h in hits for leak in h.leaks]

    floor = None if build.noarch else checks.glibc_requirement(i.glibc for i in infos.values())
    return PostBuildResult(
        files=files,
        prefix_files=prefix_files,
        extra_run_requirements=(floor,) if floor else (),
        no_link=select_paths(files, build.no_link),
        warnings=tuple(report.warnings),
        problems=tuple(report.problems),
        log=tuple(report.log),
    )


def _python_package(recipe: Recipe) -> bool:
    """A package built for one Python (it has python in host or run): its .py files get .pyc."""
    return any(spec_name(s) == "python" for s in recipe.requirements.host + recipe.requirements.run)


def _pythons(settings: Settings, recipe: Recipe, python_version: str) -> list[Path]:
    """Pythons that can compile the package's bytecode, best first: the build machine's of the
    build prefix, the engine's own when its version matches, the host prefix's (maybe emulated)."""
    import sys
    layout = Layout.of(settings)
    xy = ".".join(python_version.split(".")[:2])
    found = [layout.build_prefix(recipe.name) / "bin" / f"python{xy}"]
    if f"{sys.version_info[0]}.{sys.version_info[1]}" == xy:
        found.append(Path(sys.executable))
    found.append(layout.host_prefix(recipe.name) / "bin" / f"python{xy}")
    return found


def _package_files(prefix: Path, new_files: Sequence[str], host_files: Sequence[str],
                   always_include: Sequence[str], report: _Report) -> tuple[str, ...]:
    """New files, plus always_include_files from the host prefix, minus files never packaged."""
    files = set()
    for rel in new_files:
        if os.path.lexists(prefix / rel):
            files.add(rel)
        else:
            report.problems.append(f"{rel}: listed as built, but not present in {prefix}")
    for rel in select_paths(host_files, always_include):
        if os.path.lexists(prefix / rel):
            files.add(rel)
        else:
            report.problems.append(f"{rel}: matched by build/always_include_files but not present in {prefix}")
    for rel in sorted(files):
        if rel in DROPPED_FILES or rel.startswith(DROPPED_TOP) or rel.endswith(".pyo"):
            files.discard(rel)
            (prefix / rel).unlink(missing_ok=True)
            report.log.append(f"{rel}: removed (never packaged)")
    return tuple(sorted(files))


def _classify(prefix: Path, files: Sequence[str]) -> tuple[list[str], list[str]]:
    """(ELF files, scripts starting with #!) among the regular files, by their first bytes."""
    elves: list[str] = []
    scripts: list[str] = []
    root = str(prefix)
    for rel in files:
        full = os.path.join(root, rel)
        if rel.endswith("/") or not stat.S_ISREG(os.lstat(full).st_mode):
            continue
        with open(full, "rb") as fh:
            head = fh.read(4)
        if head == elf.ELF_MAGIC:
            elves.append(rel)
        elif head.startswith(b"#!"):
            scripts.append(rel)
    return elves, scripts


def _relocation_scope(recipe: Recipe, rel: str) -> bool:
    """build/binary_relocation: true (all ELF files), false, or globs of the files to relocate."""
    relocation = recipe.build.binary_relocation
    return relocation if isinstance(relocation, bool) else matches(rel, relocation)


def _relocate_elves(prefix: Path, elves: Sequence[str], host: str, recipe: Recipe, settings: Settings,
                    report: _Report, relocated: set[str]) -> dict[str, elf.ElfInfo]:
    """Relocate the target's ELF files in scope (their names go to ``relocated``); returns the
    facts of every target-arch ELF file."""
    infos: dict[str, elf.ElfInfo] = {}
    for rel in elves:
        binary = elf.parse(prefix / rel)
        if binary is None:
            report.warnings.append(f"{rel}: an ELF file condoit cannot read (left alone)")
            continue
        info = elf.describe(binary)
        in_scope = _relocation_scope(recipe, rel)
        arch = checks.check_arch(rel, info, settings.target_platform, allowed=not in_scope)
        if arch is not None:
            report.finding(arch)
            continue
        if recipe.build.noarch:
            report.finding(Finding(rel, f"ELF file in a noarch: {recipe.build.noarch} package", in_scope))
        if in_scope and info.linkable:
            try:
                changes = elf.relocate(binary, prefix / rel, rel, host, recipe.build.rpaths)
            except elf.RelocationError as exc:
                report.problems.append(f"{rel}: {exc}")
                changes = ()
            if changes:
                relocated.add(rel)
            for change in changes:
                old = ":".join(change.old) or "(none)"
                report.log.append(f"{rel}: {change.tag} {old} -> {':'.join(change.new)}")
                report.warnings += [f"{rel}: {change.tag} entry {d} is neither in the prefix nor "
                                    f"$ORIGIN-relative (dropped)" for d in change.dropped]
                info = replace(info, **{change.tag.lower(): change.new})
        infos[rel] = info
    return infos


def _check_elves(infos: Mapping[str, elf.ElfInfo], files: Sequence[str], host: str, recipe: Recipe,
                 settings: Settings, dependency_files: Mapping[str, Sequence[str]],
                 host_files: Sequence[str], report: _Report) -> None:
    index = LibraryIndex.build(files, dependency_files, host_files)
    for rel, info in infos.items():
        report.finding(checks.check_glibc(rel, info.glibc, settings.max_glibc))
        if info.glibc is not None:
            symbol = f" ({info.glibc.symbol})" if info.glibc.symbol else ""
            report.log.append(f"{rel}: glibc floor {info.glibc.version}{symbol}")
        if info.linkable:
            dirs = elf.search_dirs(info.search_path, rel, host)
            for finding in checks.check_linkage(rel, info, dirs, index, recipe.build.missing_dso_whitelist):
                report.finding(finding)


def _fix_shebangs(prefix: Path, scripts: Sequence[str], host: str, build_prefix: str, recipe: Recipe,
                  rules: PrefixRules, report: _Report) -> None:
    uses_python = any(spec_name(s) == "python" for s in recipe.requirements.run + recipe.requirements.host)
    for rel in scripts:
        change = shebang.fix_file(
            prefix / rel, lambda data, rel=rel: rules.mode_for(rel, file_mode(data)) == "text",
            prefix=host, build_prefixes=[build_prefix],
            python_to_prefix=uses_python and rel.startswith("bin/"))
        if change:
            report.log.append(f"{rel}: shebang {change}")
