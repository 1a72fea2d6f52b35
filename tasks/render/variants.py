"""The variant: conda_build_config.yaml files (stack root, then recipe dir) over defaults.

We build one variant per recipe: a key given as a list uses its first value. Values are
strings as written (``zlib: 1.2`` stays "1.2", not the float 1.2), like conda-build.
Selectors inside the files work as in meta.yaml. The python/numpy versions come from,
highest first: an explicit setting (``doit python=3.12``), CONDA_PY/CONDA_NPY, the
variant files, the built-in default.

Files, lowest first (later ones clobber, as conda-build's find_config_files): the recipes
root's, each directory's on the way down to the recipe (a feedstock's root), the recipe
directory's, then the files given with ``doit variants=FILE[,FILE]`` (conda-build's
``-m``). A key written twice in one file keeps its last value, with a warning.
"""
from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any, Mapping

from ..errors import RecipeProblem
from ..model import Requirements
from ..settings import Settings
from . import yaml_positions
from .inputs import getenv, note_path
from .lenient import Report
from .selectors import SelectorProblem, namespace, select_lines
from .tracking import TrackingDict

VARIANT_FILE = "conda_build_config.yaml"
# Keys that describe how variants combine rather than being values.
STRUCTURAL_KEYS = frozenset({"zip_keys", "pin_run_as_build", "extend_keys", "ignore_version",
                             "ignore_build_only_deps", "replacements"})
_DEFAULTS = {f.name: f.default for f in fields(Settings)}


@dataclass(frozen=True)
class VariantFile:
    """One parsed variant file: its values, its problems and warnings."""

    path: Path
    values: dict[str, Any]
    problems: tuple[RecipeProblem, ...] = ()
    warnings: tuple[RecipeProblem, ...] = ()


def _from_env(name: str) -> str | None:
    """CONDA_PY=311 / 3.11 -> '3.11'."""
    raw = (getenv(name) or "").strip()
    if not raw:
        return None
    if "." in raw:
        return raw
    return f"{raw[0]}.{raw[1:]}" if len(raw) >= 2 else raw


def base_variant(settings: Settings) -> dict[str, Any]:
    """Defaults every recipe sees before the variant files."""
    return {
        "target_platform": settings.target_platform,
        "build_platform": settings.build_platform,
        "python": settings.python,
        "numpy": settings.numpy,
    }


def _explicit(settings: Settings) -> dict[str, str]:
    """Values that beat the variant files: settings that differ from the default, env vars."""
    out: dict[str, str] = {}
    for key, env in (("python", "CONDA_PY"), ("numpy", "CONDA_NPY")):
        value = getattr(settings, key)
        if value != _DEFAULTS.get(key):
            out[key] = value
        elif (from_env := _from_env(env)) is not None:
            out[key] = from_env
    return out


def read_variant_file(path: Path, settings: Settings, current: dict[str, Any]) -> VariantFile:
    """Parse one conda_build_config.yaml with selectors evaluated against ``current``."""
    note_path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        return VariantFile(path, {}, (RecipeProblem(path, 1, 1, f"cannot read variant file: {exc}"),))
    ns = TrackingDict(namespace(settings.target_platform, settings.build_platform,
                                str(current.get("python", settings.python)),
                                str(current.get("numpy", settings.numpy)), current))
    sel_problems: list[SelectorProblem] = []
    text, _ = select_lines(text, ns, lambda i: i + 1, sel_problems)
    problems = [RecipeProblem(path, p.line, p.col, p.message, p.hint) for p in sel_problems]
    duplicates: list[yaml_positions.Duplicate] = []
    try:
        data = yaml_positions.load(text, lambda i: i + 1, duplicates)
    except yaml_positions.YamlProblem as exc:
        return VariantFile(path, {}, tuple(problems) + (RecipeProblem(path, *exc.pos, exc.message, exc.hint),))
    warnings: list[RecipeProblem] = []
    report = Report(path, problems, warnings, settings.strict)
    for (line, col), key, first in duplicates:     # the file's other keys still count
        report.lenient(line, col, yaml_positions.duplicate_message(key, first) + "; the last one is used",
                       yaml_positions.DUPLICATE_HINT)
    if data is None:
        return VariantFile(path, {}, tuple(problems))
    if not isinstance(data, yaml_positions.YMap):
        return VariantFile(path, {}, tuple(problems) + (
            RecipeProblem(path, 1, 1, "a variant file must be a mapping of keys to values"),))
    values: dict[str, Any] = {}
    for key, value in data.items():
        key = str(key)
        if key in STRUCTURAL_KEYS:
            values[key] = _plain(value)
        elif isinstance(value, yaml_positions.YList):
            values[key] = _scalar_text(value[0], value.raw[0]) if value else ""
        elif isinstance(value, yaml_positions.YMap):
            values[key] = _plain(value)
        else:
            values[key] = _scalar_text(value, data.raw.get(key))
    return VariantFile(path, values, tuple(problems), tuple(warnings))


def _scalar_text(value: Any, raw: str | None) -> Any:
    if isinstance(value, (yaml_positions.YMap, yaml_positions.YList)):
        return _plain(value)
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value).lower()
    return raw if raw is not None else str(value)


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def merge(settings: Settings, files: list[VariantFile]) -> dict[str, Any]:
    """Defaults, then each file in order, then explicit python/numpy."""
    variant = base_variant(settings)
    for f in files:
        variant.update(f.values)
    variant.update(_explicit(settings))
    return variant


def find_variant_files(recipes_dir: Path, recipe_dir: Path, extra: tuple[Path, ...] = ()) -> list[Path]:
    """conda_build_config.yaml at the recipes root, in each directory down to the recipe
    dir (a feedstock's root) and in it; then ``extra`` (given on the command line, kept
    even when missing so that the caller reports it)."""
    candidates = [recipes_dir / VARIANT_FILE]
    try:
        between = recipe_dir.relative_to(recipes_dir).parts
    except ValueError:
        between = ()
    for depth in range(1, len(between) + 1):
        candidates.append(recipes_dir.joinpath(*between[:depth]) / VARIANT_FILE)
    seen: list[Path] = []
    for c in candidates:
        note_path(c)
        if c not in seen and c.is_file():
            seen.append(c)
    return seen + [p for p in extra if p not in seen]


_STAR_RE = re.compile(r"^[0-9A-Za-z._]+$")


def _key_for(name: str, keys: dict[str, str]) -> str | None:
    """Variant key naming this package (conda-build treats '_' in a key as '-' or '_')."""
    return keys.get(name.replace("-", "_"))


def pin_requirements(reqs: Requirements, variant: Mapping[str, Any], used: set[str]) -> Requirements:
    """conda-build's insert_variant_versions: a bare ``zlib`` in build/host becomes
    ``zlib 1.2.*`` when the variant has ``zlib: 1.2`` (in run only when build/host also
    list it bare), and ``numpy x.x`` takes the variant's numpy. Keys used are recorded."""
    keys = {k.replace("-", "_"): k for k, v in variant.items()
            if k not in STRUCTURAL_KEYS and isinstance(v, str) and v}
    out: dict[str, tuple[str, ...]] = {}
    for env in ("build", "host", "run"):
        bare_build_host = set(out.get("build", reqs.build)) | set(out.get("host", reqs.host))
        specs = list(getattr(reqs, env))
        for i, spec in enumerate(specs):
            name, _, rest = spec.partition(" ")
            key = _key_for(name, keys)
            if key is None:
                continue
            if not rest and (env in ("build", "host") or spec in bare_build_host):
                value = variant[key].strip()
                specs[i] = f"{name} {value}.*" if _STAR_RE.match(value) and not value.endswith("*") \
                    else f"{name} {value}"
                used.add(key)
            elif rest == "x.x":
                specs[i] = f"{name} {variant[key].strip()}"
                used.add(key)
        out[env] = tuple(specs)
    return dataclasses.replace(reqs, **out)
