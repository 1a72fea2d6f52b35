"""Stage 'package': post-process the built files and write a conda package to the channel.

Works on a copy of the compile stage's files, so re-packaging (after a `run:` or `about:`
edit) never touches the build's result and gives the same bytes for the same inputs.
"""
from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..fsutil import remove_tree, sha256_file
from ..model import Recipe, spec_name
from ..paths import CANONICAL_SOURCE_DIRNAME, canonical_prefix
from ..outputs import package_host_records, package_recipes
from ..prefix_files import copy_files, new_files_digest
from ..requirements import package_requirements, run_exports_json
from ..stagelog import StageLog, stage_log
from ..stamps import signature
from .base import Context, Stage

if TYPE_CHECKING:  # condapkg (tarfile, zstd) is loaded when a package is made, not by `doit list`
    from ..condapkg import IndexMeta
from .compile import recipe_file_digests


def package_subdir(recipe: Recipe, ctx: Context) -> str:
    return "noarch" if recipe.build.noarch else ctx.settings.target_platform


def compile_result(recipe: Recipe, ctx: Context) -> dict[str, Any]:
    return json.loads((ctx.layout.work(recipe.name, "compile") / "files.json").read_text())


def test_files(recipe: Recipe) -> dict[str, bytes]:
    """info/test/: the test commands as a script, test files and run_test scripts."""
    out: dict[str, bytes] = {}
    test = recipe.test
    if test.commands:
        out["test/run_test.sh"] = ("set -ex\n" + "\n".join(test.commands) + "\nexit 0\n").encode()
    if test.requires:
        out["test/test_time_dependencies.json"] = json.dumps(sorted(test.requires)).encode()
    for script in test.scripts:
        out[f"test/{Path(script).name}"] = Path(script).read_bytes()
    for pattern in test.files:
        for match in sorted(recipe.recipe_dir.glob(pattern)):
            if match.is_file():
                out[f"test/{match.relative_to(recipe.recipe_dir)}"] = match.read_bytes()
    return out


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
    version = 4

    def upstream(self, recipe: Recipe, ctx: Context) -> list[tuple[str, str]]:
        return [("compile", recipe.name)]

    def inputs(self, recipe: Recipe, ctx: Context) -> Any:
        return {
            "recipe": {k: recipe.section(k) for k in ("name", "version", "build", "requirements", "test",
                                                       "about", "extra", "outputs", "rendered_text")},
            "recipe_files": recipe_file_digests(recipe),
            "link_scripts": {k: sha256_file(Path(v)) for k, v in recipe.link_scripts.items()},
            "test_scripts": {f"{p.name}/{Path(s).name}": sha256_file(Path(s))
                             for p in package_recipes(recipe) for s in p.test.scripts},
            "format": ctx.settings.package_format,
            "compression_level": ctx.settings.compression_level,
            "max_glibc": ctx.settings.max_glibc,
        }

    def damage(self, recipe: Recipe, ctx: Context, outputs: dict[str, Any]) -> str | None:
        """A published package must still be the bytes the stamp records (always hashed)."""
        packages = outputs.get("packages") or []
        if not packages:
            return "the stamp lists no package"
        for p in packages:
            archive = ctx.layout.channel_subdir(p["subdir"]) / p["archive"]
            try:
                found = sha256_file(archive)
            except OSError:
                return f"{archive} is missing"
            if found != p["sha256"]:
                return f"{archive} has sha256 {found[:12]}..., the stamp says {p['sha256'][:12]}... (damaged or replaced)"
        return None

    def clean(self, recipe: Recipe, ctx: Context) -> None:
        remove_tree(ctx.layout.work(recipe.name, "package"))

    def run(self, recipe: Recipe, ctx: Context) -> dict[str, Any]:
        with stage_log(ctx.layout, recipe.name, self.name) as log:
            built = compile_result(recipe, ctx)
            remove_tree(ctx.layout.work(recipe.name, "package"))
            views = {p.name: p for p in package_recipes(recipe)}
            made = [_make_package(views[entry["name"]], recipe, ctx, built, entry, log)
                    for entry in built["packages"]]
            return {"packages": made, "content": signature([p["content"] for p in made])}


def _make_package(package: Recipe, recipe: Recipe, ctx: Context, built: dict[str, Any],
                  entry: dict[str, Any], log: StageLog) -> dict[str, Any]:
    """One package (the recipe's or one output's) from the files the compile stage gave it."""
    built = {**built, "files": entry["files"], "build_string": entry["build_string"],
             "host": package_host_records(package, recipe, built["host"]),
             # __conda_version__.txt and friends speak for the top-level package only
             "overrides": built["overrides"] if package.name == recipe.name else {}}
    root = ctx.layout.work(recipe.name, "package") / package.name / "root"
    result = _post_processed_copy(package, ctx, built, root, log)
    index = _index_meta(package, ctx, built, result.extra_run_requirements)
    info_files = _write_info(package, ctx, built, root, index, result)
    archive = _publish(ctx, root, index, result.files, info_files, package_time_ms(built))
    content = signature({"index": {k: v for k, v in index.to_json().items() if k != "timestamp"},
                         "files": new_files_digest(root, result.files),
                         "run_exports": run_exports_json(package)})
    log.note(f"# wrote {archive}")
    return {"name": package.name, "archive": archive.name, "subdir": index.subdir,
            "sha256": sha256_file(archive), "content": content}


def _post_processed_copy(recipe: Recipe, ctx: Context, built: dict[str, Any], root: Path,
                         log: StageLog) -> Any:
    """Copy the built files (and always_include_files) to ``root`` and relocate/check them there."""
    from ..relocate import post_build  # lief is heavy: not on doit's loading path
    from ..relocate.canonical import canonicalize
    from ..relocate.globs import select as select_paths
    host_prefix = Path(built["prefix"])
    remove_tree(root)
    root.mkdir(parents=True)
    copy_files(host_prefix, root, built["files"])
    host_files = _dependency_files(host_prefix, built["host"])
    all_host_files = sorted({f for files in host_files.values() for f in files})
    included = list(select_paths(all_host_files, recipe.build.always_include_files))
    copy_files(host_prefix, root, included)
    # the package names no cache: the host prefix and the build tree become canonical
    # strings of their lengths (the first is the placeholder the package records)
    placeholder = canonical_prefix(len(str(host_prefix)))
    replacements = [(str(host_prefix), placeholder)]
    if built.get("src_dir"):
        src_dir = built["src_dir"]
        replacements.append((src_dir, canonical_prefix(len(src_dir), CANONICAL_SOURCE_DIRNAME)))
    changed = canonicalize(root, [*built["files"], *included], replacements)
    log.note(f"# {len(changed)} file(s) made cache-independent (canonical paths, deterministic archives)")
    run_names = {spec_name(d) for d in package_requirements(recipe, built["host"])[0]}
    result = post_build(root, built["files"], recipe, ctx.settings, placeholder=placeholder,
                        dependency_files={n: f for n, f in host_files.items() if n in run_names},
                        host_prefix_files=all_host_files, edited=changed)
    for title, lines in (("changes", result.log), ("warnings", result.warnings), ("problems", result.problems)):
        log.note(f"# {title}\n" + "\n".join(lines))
    if result.problems:
        raise log.error(f"{len(result.problems)} problem(s) in the built files:\n  " + "\n  ".join(result.problems),
                        kept=root.parent)
    return result


def package_time_ms(built: dict[str, Any]) -> int:
    """index.json's timestamp and the archive's file times: SOURCE_DATE_EPOCH (the newest
    file time of the pristine source), not the clock, so a rebuild gives the same bytes."""
    return int(built["source_date_epoch"]) * 1000


def _index_meta(recipe: Recipe, ctx: Context, built: dict[str, Any], extra_depends: tuple[str, ...]) -> IndexMeta:
    depends, constrains = package_requirements(recipe, built["host"], extra_depends)
    about = recipe.about
    from ..condapkg import IndexMeta
    return IndexMeta(
        name=recipe.name, version=built["overrides"].get("version", recipe.version),
        build=built["build_string"],
        build_number=int(built["overrides"].get("build_number", recipe.build.number)),
        subdir=package_subdir(recipe, ctx), depends=tuple(depends), constrains=tuple(constrains),
        license=str(about.get("license", "") or ""), license_family=str(about.get("license_family", "") or ""),
        timestamp=package_time_ms(built), noarch=recipe.build.noarch,
        features=" ".join(recipe.build.features), track_features=" ".join(recipe.build.track_features),
    )


def _write_info(recipe: Recipe, ctx: Context, built: dict[str, Any], root: Path, index: IndexMeta,
                result: Any) -> list[str]:
    about_json = {**recipe.section("about"), "extra": recipe.section("extra"),
                  "tool": "condoit", "tool_version": "0.1.0"}
    hash_input = {"host": sorted(f"{r['name']} {r['version']} {r['build']}" for r in built["host"]),
                  "variant": recipe.section("variant"), "target_platform": ctx.settings.target_platform}
    from ..condapkg import PrefixEntry, write_info
    prefix_entries = [PrefixEntry(p.path, p.placeholder, p.file_mode) for p in result.prefix_files]
    return write_info(root, index, result.files, prefix_entries, about_json,
                      run_exports=run_exports_json(recipe), no_link=result.no_link,
                      hash_input=hash_input, extra_files={**recipe_files(recipe), **test_files(recipe)})


def _publish(ctx: Context, root: Path, index: IndexMeta, files: tuple[str, ...], info_files: list[str],
             built_at_ms: int) -> Path:
    """Write the archive outside the channel, then rename it in: never a half-written package.

    The partial file lives in the cache's publishing room (same filesystem, so the rename is
    atomic), which every run that takes the cache lock empties: a killed stage leaves nothing
    in the published directory.
    """
    from ..condapkg import create_archive
    settings = ctx.settings
    channel_dir = ctx.layout.channel_subdir(index.subdir)
    channel_dir.mkdir(parents=True, exist_ok=True)
    archive = channel_dir / f"{index.stem}{settings.package_format}"
    ctx.layout.publishing.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=ctx.layout.publishing, prefix=f"{index.stem}.", suffix=settings.package_format)
    os.close(fd)
    try:
        create_archive(root, files, info_files, Path(tmp), stem=index.stem, fmt=settings.package_format,
                       mtime=int(built_at_ms) // 1000, compression_level=settings.compression_level)
        os.chmod(tmp, 0o644)
        os.replace(tmp, archive)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    _remove_stale(channel_dir, index.name, archive.name)
    return archive


def _dependency_files(host_prefix: Path, host_records: list[dict[str, Any]]) -> dict[str, list[str]]:
    """Files each host dependency installed (for the overlinking check)."""
    from ..envs import installed_files
    return {r["name"]: installed_files(host_prefix, r["name"]) for r in host_records}


def _remove_stale(channel_dir: Path, name: str, keep: str) -> None:
    """Older builds of this recipe would compete with the new one in the solver."""
    for path in channel_dir.iterdir():
        fn = path.name
        stem = fn.removesuffix(".conda").removesuffix(".tar.bz2")
        if fn != keep and stem != fn and stem.rsplit("-", 2)[0] == name:
            path.unlink()
