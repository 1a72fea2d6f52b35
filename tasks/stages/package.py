"""Stage 'package': post-process the built files and write a conda package to the channel.

Works on a copy of the compile stage's files, so re-packaging (after a `run:` or `about:`
edit) never touches the build's result and gives the same bytes for the same inputs.
Result: one ``PackageRecord`` per package the recipe makes.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, Mapping

from ..fsutil import atomic_file, file_digests, remove_tree, sha256_file, tree_digest
from ..model import Frozen, Recipe, spec_name
from ..outputs import package_host_records, package_recipes
from ..paths import CANONICAL_SOURCE_DIRNAME, canonical_prefix
from ..prefix_files import copy_files
from ..requirements import package_requirements, run_exports_json
from ..stagelog import StageLog, stage_log
from ..stamps import signature
from ..testfiles import test_files
from .base import Context, Inputs, Result, Stage
from .compile import BuiltPackage, CompileResult, HostRecord, recipe_file_digests

if TYPE_CHECKING:  # condapkg (tarfile, zstd) is loaded when a package is made, not by `doit list`
    from ..condapkg import IndexMeta


@dataclass(frozen=True)
class PackageRecord:
    """One package in the channel: what it is, where, its bytes and its content."""

    name: str
    version: str
    build: str
    build_number: int
    subdir: str
    archive: str            # file name in channel/<subdir>/
    sha256: str             # of the archive's bytes
    content: str            # of its metadata and files, without times (what dependents hash)
    # what the channel's repodata lists of it (tasks/repodata.py), made here so the index
    # stage need not re-read the archive; empty: py-rattler indexes it
    record: Mapping[str, Any] = Frozen()

    @property
    def spec(self) -> str:
        """The match spec that selects exactly this package."""
        return f"{self.name} =={self.version} {self.build}"


@dataclass(frozen=True)
class PackageResult(Result):
    packages: tuple[PackageRecord, ...]
    content: str


def package_subdir(recipe: Recipe, ctx: Context) -> str:
    return "noarch" if recipe.build.noarch else ctx.settings.target_platform


@lru_cache(maxsize=1)
def tool_version() -> str:
    """condoit's version, from its installed package metadata (about.json's tool_version).

    The ``Version:`` header is read directly from the file ``importlib.metadata`` reads
    (METADATA, or an egg-info's PKG-INFO): its ``version()`` parses it with the email
    package, which costs every `doit` call (a package signature) ~2 ms."""
    from importlib.metadata import PackageNotFoundError, distribution
    try:
        dist = distribution("condoit")
    except PackageNotFoundError:
        return "unknown"
    text = dist.read_text("METADATA") or dist.read_text("PKG-INFO") or ""
    for line in text.splitlines():
        if not line:                # the end of the headers
            break
        if line.startswith("Version:"):
            return line[len("Version:"):].strip()
    return "unknown"


def link_json(recipe: Recipe) -> dict[str, Any] | None:
    """info/link.json of a ``noarch: python`` package, like conda-build's: the installer writes
    the entry point scripts from it (the package carries none)."""
    if recipe.build.noarch != "python":
        return None
    noarch: dict[str, Any] = {"type": "python"}
    if recipe.build.entry_points:
        noarch["entry_points"] = list(recipe.build.entry_points)
    data: dict[str, Any] = {"noarch": noarch, "package_metadata_version": 1}
    if recipe.build.other.get("preferred_env"):
        data["preferred_env"] = recipe.build.other["preferred_env"]
    return data


def recipe_files(recipe: Recipe) -> dict[str, bytes]:
    """info/recipe/: the rendered meta.yaml, the original as meta.yaml.template, and the rest."""
    out: dict[str, bytes] = {}
    for root, dirs, files in os.walk(recipe.recipe_dir):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in sorted(files):
            full = Path(root) / name
            rel = full.relative_to(recipe.recipe_dir)
            out[f"recipe/{rel}"] = full.read_bytes()
    out["recipe/meta.yaml.template"] = recipe.meta_path.read_bytes()
    out["recipe/meta.yaml"] = recipe.rendered_text.encode()
    return out


class PackageStage(Stage):
    name = "package"
    doc = "make the conda package from the files the build installed"
    result = PackageResult
    version = 6

    def upstream(self, recipe: Recipe, ctx: Context):
        return [ctx.ref("compile", recipe.name)]

    def inputs(self, recipe: Recipe, ctx: Context) -> Any:
        return {
            "recipe": {k: recipe.section(k) for k in ("name", "version", "build", "requirements", "test",
                                                       "about", "extra", "outputs", "rendered_text")},
            "recipe_files": recipe_file_digests(recipe, ctx.memo),
            "link_scripts": {k: sha256_file(Path(v)) for k, v in recipe.link_scripts.items()},
            "test_scripts": {f"{p.name}/{Path(s).name}": sha256_file(Path(s))
                             for p in package_recipes(recipe) for s in p.test.scripts},
            "format": ctx.settings.package_format,
            "compression_level": ctx.settings.compression_level,
            "max_glibc": ctx.settings.max_glibc,
            "tool_version": tool_version(),
        }

    def damage(self, recipe: Recipe, ctx: Context, result: PackageResult, inputs: Inputs) -> str | None:
        """A published package must still be the bytes the stamp records (always hashed)."""
        if not result.packages:
            return "the stamp lists no package"
        for p in result.packages:
            archive = ctx.layout.channel_subdir(p.subdir) / p.archive
            try:
                found = sha256_file(archive)
            except OSError:
                return f"{archive} is missing"
            if found != p.sha256:
                return f"{archive} has sha256 {found[:12]}..., the stamp says {p.sha256[:12]}... (damaged or replaced)"
        return None

    def clean(self, recipe: Recipe, ctx: Context) -> None:
        remove_tree(ctx.layout.work(recipe.name, "package"))

    def run(self, recipe: Recipe, ctx: Context, inputs: Inputs) -> PackageResult:
        built: CompileResult = inputs.get("compile")
        with stage_log(ctx.layout, recipe.name, self.name) as log:
            remove_tree(ctx.layout.work(recipe.name, "package"))
            views = {p.name: p for p in package_recipes(recipe)}
            made = tuple(_make_package(views[entry.name], recipe, ctx, built, entry, log)
                         for entry in built.packages)
            return PackageResult(made, signature([p.content for p in made]))


@dataclass(frozen=True)
class _Build:
    """What one package of the recipe was built from (a view of the compile result)."""

    files: tuple[str, ...]
    build_string: str
    host: tuple[HostRecord, ...]
    overrides: Any
    prefix: Path
    src_dir: Path
    source_date_epoch: int

    @property
    def time_ms(self) -> int:
        """index.json's timestamp and the archive's file times: SOURCE_DATE_EPOCH (the newest
        file time of the pristine source), not the clock, so a rebuild gives the same bytes."""
        return self.source_date_epoch * 1000


def _make_package(package: Recipe, recipe: Recipe, ctx: Context, compiled: CompileResult,
                  entry: BuiltPackage, log: StageLog) -> PackageRecord:
    """One package (the recipe's or one output's) from the files the compile stage gave it."""
    built = _Build(entry.files, entry.build_string, package_host_records(package, recipe, compiled.host),
                   # __conda_version__.txt and friends speak for the top-level package only
                   compiled.overrides if package.name == recipe.name else {},
                   compiled.prefix, compiled.src_dir, compiled.source_date_epoch)
    root = ctx.layout.work(recipe.name, "package") / package.name / "root"
    result = _post_processed_copy(package, ctx, built, root, log)
    index = _index_meta(package, ctx, built, result.extra_run_requirements)
    info_files = _write_info(package, ctx, built, root, index, result)
    archive = _publish(ctx, root, index, result.files, info_files, built.time_ms)
    content = signature({"index": {k: v for k, v in index.to_json().items() if k != "timestamp"},
                         "files": tree_digest(root, files=result.files, relocatable=True),
                         "run_exports": run_exports_json(package)})
    log.note(f"# wrote {archive}")
    from ..repodata import record
    sha256, md5, size = file_digests(archive)
    listed = record(index.to_json(), run_exports_json(package), sha256, md5, size)
    return PackageRecord(package.name, index.version, index.build, index.build_number, index.subdir,
                         archive.name, sha256, content, Frozen(listed or {}))


def _post_processed_copy(recipe: Recipe, ctx: Context, built: _Build, root: Path, log: StageLog) -> Any:
    """Copy the built files (and always_include_files) to ``root`` and relocate/check them there."""
    from ..relocate import post_build  # lief is heavy: not on doit's loading path
    from ..relocate.canonical import canonicalize
    from ..relocate.globs import select as select_paths
    host_prefix = built.prefix
    remove_tree(root)
    root.mkdir(parents=True)
    copy_files(host_prefix, root, built.files)
    host_files = _dependency_files(host_prefix, built.host)
    all_host_files = sorted({f for files in host_files.values() for f in files})
    included = list(select_paths(all_host_files, recipe.build.always_include_files))
    copy_files(host_prefix, root, included)
    # the package names no cache: the host prefix and the build tree become canonical
    # strings of their lengths (the first is the placeholder the package records)
    placeholder = canonical_prefix(len(str(host_prefix)))
    src_dir = str(built.src_dir)
    replacements = [(str(host_prefix), placeholder),
                    (src_dir, canonical_prefix(len(src_dir), CANONICAL_SOURCE_DIRNAME))]
    changed = canonicalize(root, [*built.files, *included], replacements)
    log.note(f"# {len(changed)} file(s) made cache-independent (canonical paths, deterministic archives)")
    run_names = {spec_name(d) for d in package_requirements(recipe, built.host)[0]}
    result = post_build(root, list(built.files), recipe, ctx.settings, placeholder=placeholder,
                        dependency_files={n: f for n, f in host_files.items() if n in run_names},
                        host_prefix_files=all_host_files, edited=changed)
    for title, lines in (("changes", result.log), ("warnings", result.warnings), ("problems", result.problems)):
        log.note(f"# {title}\n" + "\n".join(lines))
    if result.problems:
        raise log.error(f"{len(result.problems)} problem(s) in the built files:\n  " + "\n  ".join(result.problems),
                        kept=root.parent)
    return result


def _index_meta(recipe: Recipe, ctx: Context, built: _Build, extra_depends: tuple[str, ...]) -> IndexMeta:
    depends, constrains = package_requirements(recipe, built.host, extra_depends)
    about = recipe.about
    from ..condapkg import IndexMeta
    return IndexMeta(
        name=recipe.name, version=built.overrides.get("version", recipe.version),
        build=built.build_string,
        build_number=int(built.overrides.get("build_number", recipe.build.number)),
        subdir=package_subdir(recipe, ctx), depends=tuple(depends), constrains=tuple(constrains),
        license=str(about.get("license", "") or ""), license_family=str(about.get("license_family", "") or ""),
        timestamp=built.time_ms, noarch=recipe.build.noarch,
        features=" ".join(recipe.build.features), track_features=" ".join(recipe.build.track_features),
    )


def _write_info(recipe: Recipe, ctx: Context, built: _Build, root: Path, index: IndexMeta,
                result: Any) -> list[str]:
    about_json = {**recipe.section("about"), "extra": recipe.section("extra"),
                  "tool": "condoit", "tool_version": tool_version()}
    hash_input = {"host": sorted(r.pin for r in built.host),
                  "variant": recipe.section("variant"), "target_platform": ctx.settings.target_platform}
    from ..condapkg import PrefixEntry, write_info
    prefix_entries = [PrefixEntry(p.path, p.placeholder, p.file_mode) for p in result.prefix_files]
    tests = {f"test/{rel}": data for rel, data in test_files(recipe).items()}
    return write_info(root, index, result.files, prefix_entries, about_json,
                      run_exports=run_exports_json(recipe), no_link=result.no_link,
                      hash_input=hash_input, link_json=link_json(recipe),
                      extra_files={**recipe_files(recipe), **tests})


def _publish(ctx: Context, root: Path, index: IndexMeta, files: tuple[str, ...], info_files: list[str],
             built_at_ms: int) -> Path:
    """Write the archive outside the channel, then rename it in: never a half-written package.

    The partial file lives in the cache's publishing room (same filesystem, so the rename is
    atomic), which every run that takes the cache lock empties: a killed stage leaves nothing
    in the published directory.
    """
    from ..condapkg import create_archive, remove_older_builds
    settings = ctx.settings
    channel_dir = ctx.layout.channel_subdir(index.subdir)
    channel_dir.mkdir(parents=True, exist_ok=True)
    archive = channel_dir / f"{index.stem}{settings.package_format}"
    with atomic_file(archive, staging=ctx.layout.publishing) as tmp:
        create_archive(root, files, info_files, tmp, stem=index.stem, fmt=settings.package_format,
                       mtime=int(built_at_ms) // 1000, compression_level=settings.compression_level)
        os.chmod(tmp, 0o644)
    remove_older_builds(channel_dir, index.name, archive.name)
    return archive


def _dependency_files(host_prefix: Path, host_records: tuple[HostRecord, ...]) -> dict[str, list[str]]:
    """Files each host dependency installed (for the overlinking check)."""
    from ..envs import installed_files
    return {r.name: installed_files(host_prefix, r.name) for r in host_records}


