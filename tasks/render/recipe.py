"""One meta.yaml -> one Recipe (or the reason it is skipped, or its problems).

Pipeline, as conda-build: jinja2 (with the variant and conda-build's functions), then
line selectors, then YAML, then the schema. ``pin_subpackage`` needs the versions of
the recipe's own outputs, which are only known after a first pass: such recipes are
rendered twice.
"""
from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

from ..errors import RecipeProblem
from ..model import PKG_HASH_MARKER, Frozen, Recipe
from ..settings import Settings
from ..stack import Skipped
from . import schema, yaml_positions
from .functions import PinState, Versioned, make_functions
from .jinja_env import JinjaProblem, environment, render
from .selectors import SelectorProblem, namespace, select_lines, version_number
from .tracking import TrackingDict
from .variants import STRUCTURAL_KEYS, pin_requirements

LINK_SCRIPTS = ("pre-link", "post-link", "pre-unlink")
# Build-time paths conda-build puts in the jinja context; the prefixes do not exist at
# render time, so they render as the shell variables the build environment sets.
SHELL_VARS = ("PYTHON", "PREFIX", "BUILD_PREFIX", "SRC_DIR", "SP_DIR", "STDLIB_DIR", "PERL", "R",
              "LUA", "SHLIB_EXT", "HOST", "BUILD", "CPU_COUNT")
# Selector names that read the python / numpy variant.
_PY_ALIASES = {"py": "python", "py3k": "python", "py2k": "python",
               **{f"py{v}": "python" for v in ("26", "27", *[f"3{m}" for m in range(16)])}, "np": "numpy"}


@dataclass
class Result:
    """The outcome of rendering one meta.yaml."""

    meta_path: Path
    recipe: Recipe | None = None
    skipped: Skipped | None = None
    problems: list[RecipeProblem] = field(default_factory=list)
    pins: PinState = field(default_factory=PinState)
    text: str = ""
    used: set[str] = field(default_factory=set)    # tracked names the template read


def render_recipe(meta_path: Path, settings: Settings, variant: Mapping[str, Any],
                  stack_versions: Mapping[str, str] | None = None, text: str | None = None) -> Result:
    """Render ``meta_path`` for ``settings.target_platform`` with ``variant``."""
    if text is None:
        try:
            text = meta_path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            return Result(meta_path, problems=[RecipeProblem(meta_path, 1, 1, f"cannot read recipe: {exc}")])
    pins = PinState(stack=dict(stack_versions or {}))
    pkg = {"PKG_NAME": meta_path.parent.name, "PKG_VERSION": "0", "PKG_BUILDNUM": "0"}
    result = _render_once(meta_path, text, settings, variant, pins, pkg)
    recipe = result.recipe
    if recipe is not None and (pins.unresolved_own or result.used & set(pkg)):
        # second pass: the recipe's own name, version and build number are known now
        pins.own = _own_versions(recipe)
        pins.unresolved_own = set()
        pkg = {"PKG_NAME": recipe.name, "PKG_VERSION": recipe.version, "PKG_BUILDNUM": str(recipe.build.number)}
        result = _render_once(meta_path, text, settings, variant, pins, pkg)
    result.pins = pins
    result.text = text
    return result


def template_cache_dir(settings: Settings) -> Path:
    """Where compiled templates are cached (see template_cache)."""
    return Path(settings.cache_dir) / "render"


def _own_versions(recipe: Recipe) -> dict[str, Versioned]:
    own = {recipe.name: Versioned(recipe.version, recipe.build.number, recipe.build.string)}
    for out in recipe.outputs:
        own[out.name] = Versioned(out.version, out.build.number, out.build.string)
    return own


def _render_once(meta_path: Path, text: str, settings: Settings, variant: Mapping[str, Any],
                 pins: PinState, pkg: Mapping[str, str]) -> Result:
    recipe_dir = meta_path.parent
    used: set[str] = set()
    result = Result(meta_path, used=used)
    source_lines = text.split("\n")
    tracked = [k for k in variant if k not in STRUCTURAL_KEYS]
    var = TrackingDict(dict(variant), tracked, used)
    context = TrackingDict(_jinja_context(settings, variant, var, recipe_dir, pins),
                           tracked + list(pkg), used)
    context.update(pkg, PKG_HASH=PKG_HASH_MARKER)
    try:
        rendered = render(text, context, source_lines, template_cache_dir(settings))
    except JinjaProblem as exc:
        result.problems.append(RecipeProblem(meta_path, exc.line, exc.col, exc.message, exc.hint))
        return result
    ns = TrackingDict(namespace(settings.target_platform, settings.build_platform,
                                str(variant.get("python", settings.python)),
                                str(variant.get("numpy", settings.numpy)), _selector_variant(variant)),
                      tracked, used, _PY_ALIASES)
    sel_problems: list[SelectorProblem] = []
    selected, kept = select_lines(rendered.text, ns, rendered.line, sel_problems)
    result.problems += [RecipeProblem(meta_path, p.line, p.col, p.message, p.hint) for p in sel_problems]
    try:
        data = yaml_positions.load(selected, rendered.line)
    except yaml_positions.YamlProblem as exc:
        result.problems.append(RecipeProblem(meta_path, exc.pos[0], exc.pos[1], exc.message, exc.hint))
        return result
    if data is None:
        data = yaml_positions.YMap((1, 1))
    if not isinstance(data, yaml_positions.YMap):
        result.problems.append(RecipeProblem(meta_path, 1, 1, "meta.yaml must be a mapping of sections",
                                             "start with 'package:'"))
        return result
    if result.problems:
        return result
    checker = schema.Checker(meta_path, result.problems)
    skip = _skip_reason(data, kept, rendered)
    name, version = schema.read_package(checker, data)
    if skip is not None:
        result.problems.clear()
        result.skipped = Skipped(meta_path, name or recipe_dir.name, skip)
        return result
    checker.known_keys(data, schema.SECTIONS, "")
    checker.mapping(data, "app", "")        # accepted (conda-build knows it), not used on Linux
    sources = schema.read_sources(checker, data, recipe_dir)
    build = schema.read_build(checker, checker.mapping(data, "build", ""))
    requirements = schema.read_requirements(checker, checker.mapping(data, "requirements", ""))
    test = schema.read_test(checker, checker.mapping(data, "test", ""), recipe_dir)
    about = schema.read_free(checker, data, "about")
    extra = schema.read_free(checker, data, "extra")
    outputs = schema.read_outputs(checker, data, name, version, recipe_dir)
    if result.problems or not name or not version:
        return result
    requirements = pin_requirements(requirements, variant, used)
    outputs = tuple(dataclasses.replace(o, requirements=pin_requirements(o.requirements, variant, used))
                    for o in outputs)
    used_variant = {k: variant[k] for k in sorted(used) if k in variant}
    result.recipe = Recipe(
        name=name, version=version, recipe_dir=recipe_dir, meta_path=meta_path, sources=sources,
        build=build, requirements=requirements, test=test, about=about, extra=extra, outputs=outputs,
        variant=Frozen(used_variant), rendered_text=selected,
        link_scripts=Frozen({a: str(recipe_dir / f"{a}.sh") for a in LINK_SCRIPTS
                             if (recipe_dir / f"{a}.sh").is_file()}),
        build_script_path=(str(recipe_dir / "build.sh")
                           if build.script is None and (recipe_dir / "build.sh").is_file() else None),
    )
    return result


def _skip_reason(data: yaml_positions.YMap, kept: dict[int, str], rendered: Any) -> str | None:
    """Why ``build/skip`` is true ('selector: win'), or None when the recipe is built."""
    build = data.get("build")
    if not isinstance(build, yaml_positions.YMap) or "skip" not in build:
        return None
    value = build["skip"]
    if not (value is True or (isinstance(value, str) and value.strip().lower() in ("true", "yes"))):
        return None
    line = build.key_pos["skip"][0]
    for index, expr in kept.items():
        if rendered.line(index) == line:
            return f"selector: {expr}"
    return "build/skip is true"


def _selector_variant(variant: Mapping[str, Any]) -> dict[str, Any]:
    """Variant values as selectors see them: numbers as ints, 'true'/'false' as bools."""
    out: dict[str, Any] = {}
    for key, value in variant.items():
        if key in STRUCTURAL_KEYS:
            continue
        if isinstance(value, str):
            try:
                value = int(value)
            except ValueError:
                if value.lower() in ("true", "false"):
                    value = value.lower() == "true"
        out[key] = value
    return out


def _jinja_context(settings: Settings, variant: Mapping[str, Any], tracked_variant: TrackingDict,
                   recipe_dir: Path, pins: PinState) -> dict[str, Any]:
    """Names a meta.yaml template sees: jinja globals, the variant, conda-build's functions."""
    python = str(variant.get("python", settings.python)).split(" ")[0]
    numpy = str(variant.get("numpy", settings.numpy)).split(" ")[0]
    ctx: dict[str, Any] = dict(environment().globals)
    ctx.update({k: v for k, v in variant.items() if k not in STRUCTURAL_KEYS})
    py = version_number(python)
    ctx.update(
        PY_VER=".".join(python.split(".")[:2]), NPY_VER=".".join(numpy.split(".")[:2]),
        PY3K="1" if py >= 30 else "0", CONDA_BUILD="1", RECIPE_DIR=str(recipe_dir),
    )
    ctx.update({name: f"${name}" for name in SHELL_VARS})
    ctx.update(make_functions(settings.target_platform, tracked_variant, recipe_dir, pins))
    ctx["environ"] = dict(os.environ)
    return ctx
