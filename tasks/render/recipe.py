"""One meta.yaml -> one Recipe (or the reason it is skipped, or its problems).

Pipeline, as conda-build: jinja2 (with the variant and conda-build's functions), then
line selectors, then YAML, then the schema, then the variant's pins. ``pin_subpackage``
needs the versions of the recipe's own outputs, which the render itself produces: it
leaves tokens that are resolved once the recipe is read. Only a template that reads
PKG_NAME / PKG_VERSION / PKG_BUILDNUM is rendered a second time, with their real values.
"""
from __future__ import annotations

import dataclasses
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

from ..errors import RecipeProblem
from ..model import PKG_HASH_MARKER, Frozen, Recipe, spec_name
from ..paths import Layout
from ..settings import Settings
from ..stack import Skipped
from . import schema, yaml_positions
from .functions import PIN_TOKEN, PinState, Versioned, make_functions
from .jinja_env import JinjaProblem, environment, render
from .matchspec import SpecError, normalize
from .selectors import SelectorProblem, namespace, select_lines
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
# Jinja names derived from a variant key: reading one uses the key.
_DERIVED = {"PY_VER": "python", "PY3K": "python", "NPY_VER": "numpy"}


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
    # where things are written in meta.yaml (original lines), for problems found later
    # across recipes (duplicate names, cycles): package -> position of its `name:` value,
    # and each build/host requirement as (label, package name, position), in file order
    name_pos: dict[str, tuple[int, int]] = field(default_factory=dict)
    requirement_pos: list[tuple[str, str, tuple[int, int]]] = field(default_factory=list)


def render_recipe(meta_path: Path, settings: Settings, variant: Mapping[str, Any],
                  stack_versions: Mapping[str, str] | None = None, text: str | None = None) -> Result:
    """Render ``meta_path`` for ``settings.target_platform`` with ``variant``."""
    if text is None:
        try:
            text = meta_path.read_text(encoding="utf-8-sig")
        except (OSError, UnicodeDecodeError) as exc:
            return Result(meta_path, problems=[RecipeProblem(meta_path, 1, 1, f"cannot read recipe: {exc}")])
    pins = PinState(stack=dict(stack_versions or {}))
    pkg = {"PKG_NAME": meta_path.parent.name, "PKG_VERSION": "0", "PKG_BUILDNUM": "0"}
    result = _render_once(meta_path, text, settings, variant, pins, pkg)
    recipe = result.recipe
    if recipe is not None and result.used & set(pkg):
        # second pass: the recipe's own name, version and build number are known now
        pins.deferred.clear()
        pkg = {"PKG_NAME": recipe.name, "PKG_VERSION": recipe.version, "PKG_BUILDNUM": str(recipe.build.number)}
        result = _render_once(meta_path, text, settings, variant, pins, pkg)
    if result.recipe is not None and pins.deferred:
        own = _own_versions(result.recipe)
        result.recipe = _substitute(result.recipe, {t: p.resolve(own) for t, p in pins.deferred.items()})
    result.pins = pins
    result.text = text
    return result


def template_cache_dir(settings: Settings) -> Path:
    """Where compiled templates are cached (see template_cache)."""
    return Layout.of(settings).template_cache


_TOKEN_RE = re.compile(PIN_TOKEN.format(r"\d+"))


def _substitute(value: Any, tokens: Mapping[str, str]) -> Any:
    """``value`` with every pin token in its strings replaced (dataclasses, tuples, maps)."""
    if isinstance(value, str):
        if "__condoit_pin_" not in value:
            return value
        return _TOKEN_RE.sub(lambda m: tokens.get(m.group(0), m.group(0)), value)
    if isinstance(value, tuple):
        if all(type(v) is str and "__condoit_pin_" not in v for v in value):
            return value
        return tuple(_substitute(v, tokens) for v in value)
    if isinstance(value, Frozen):
        return Frozen({k: _substitute(v, tokens) for k, v in value.items()})
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        changes = {}
        for f in dataclasses.fields(value):
            old = getattr(value, f.name)
            new = _substitute(old, tokens)
            if new is not old:
                changes[f.name] = new
        return dataclasses.replace(value, **changes) if changes else value
    return value


def _own_versions(recipe: Recipe) -> dict[str, Versioned]:
    own = {recipe.name: Versioned(recipe.version, recipe.build.number, recipe.build.string)}
    for out in recipe.outputs:
        own[out.name] = Versioned(out.version, out.build.number, out.build.string)
    return own


def _render_once(meta_path: Path, text: str, settings: Settings, variant: Mapping[str, Any],
                 pins: PinState, pkg: Mapping[str, str]) -> Result:
    used: set[str] = set()
    result = Result(meta_path, used=used)
    parsed = _parse(meta_path, text, settings, variant, pins, pkg, result)
    if parsed is not None:
        _read(meta_path, *parsed, variant, result)
    return result


def _parse(meta_path: Path, text: str, settings: Settings, variant: Mapping[str, Any], pins: PinState,
           pkg: Mapping[str, str], result: Result) -> tuple[yaml_positions.YMap, str, dict[int, str], Any] | None:
    """jinja2, selectors, YAML: the positioned data, or None with ``result.problems`` set."""
    tracked = [k for k in variant if k not in STRUCTURAL_KEYS]
    var = TrackingDict(dict(variant), tracked, result.used)
    context = TrackingDict(_jinja_context(settings, variant, var, meta_path.parent, pins),
                           tracked + list(pkg), result.used, _DERIVED)
    context.update(pkg, PKG_HASH=PKG_HASH_MARKER)
    try:
        rendered = render(text, context, text.split("\n"), template_cache_dir(settings))
    except JinjaProblem as exc:
        result.problems.append(RecipeProblem(meta_path, exc.line, exc.col, exc.message, exc.hint))
        return None
    ns = TrackingDict(namespace(settings.target_platform, settings.build_platform,
                                str(variant.get("python", settings.python)),
                                str(variant.get("numpy", settings.numpy)), _selector_variant(variant)),
                      tracked, result.used, _PY_ALIASES)
    sel_problems: list[SelectorProblem] = []
    selected, kept = select_lines(rendered.text, ns, rendered.line, sel_problems)
    result.problems += [RecipeProblem(meta_path, p.line, p.col, p.message, p.hint) for p in sel_problems]
    try:
        data = yaml_positions.load(selected, rendered.line)
    except yaml_positions.YamlProblem as exc:
        result.problems.append(RecipeProblem(meta_path, exc.pos[0], exc.pos[1], exc.message, exc.hint))
        return None
    if data is None:
        data = yaml_positions.YMap((1, 1))
    if not isinstance(data, yaml_positions.YMap):
        result.problems.append(RecipeProblem(meta_path, 1, 1, "meta.yaml must be a mapping of sections",
                                             "start with 'package:'"))
        return None
    return (None if result.problems else (data, selected, kept, rendered))


def _read(meta_path: Path, data: yaml_positions.YMap, selected: str, kept: dict[int, str], rendered: Any,
          variant: Mapping[str, Any], result: Result) -> None:
    """Schema check and model: sets ``result.recipe``, ``result.skipped`` or problems."""
    recipe_dir = meta_path.parent
    checker = schema.Checker(meta_path, result.problems)
    skip = _skip_reason(data, kept, rendered)
    name, version = schema.read_package(checker, data)
    if skip is not None:
        result.problems.clear()              # a recipe not built here is not checked further
        result.skipped = Skipped(meta_path, name or recipe_dir.name, skip)
        return
    checker.known_keys(data, schema.SECTIONS, "")
    checker.mapping(data, "app", "")        # accepted (conda-build knows it), not used on Linux
    sources = schema.read_sources(checker, data, recipe_dir)
    build = schema.read_build(checker, checker.mapping(data, "build", ""))
    requirements = schema.read_requirements(checker, checker.mapping(data, "requirements", ""))
    present = _files_in(recipe_dir)
    test = schema.read_test(checker, checker.mapping(data, "test", ""), recipe_dir, present=present)
    about = schema.read_free(checker, data, "about")
    extra = schema.read_free(checker, data, "extra")
    outputs = schema.read_outputs(checker, data, name, version, recipe_dir)
    if result.problems or not name or not version:
        return
    used = result.used
    requirements = pin_requirements(requirements, variant, used)
    outputs = tuple(dataclasses.replace(o, requirements=pin_requirements(o.requirements, variant, used))
                    for o in outputs)
    result.recipe = Recipe(
        name=name, version=version, recipe_dir=recipe_dir, meta_path=meta_path, sources=sources,
        build=build, requirements=requirements, test=test, about=about, extra=extra, outputs=outputs,
        variant=Frozen({k: variant[k] for k in sorted(used) if k in variant}), rendered_text=selected,
        link_scripts=Frozen({a: str(recipe_dir / f"{a}.sh") for a in LINK_SCRIPTS if f"{a}.sh" in present}),
        build_script_path=(str(recipe_dir / "build.sh")
                           if build.script is None and "build.sh" in present else None),
    )
    _locate(meta_path, data, {o.name for o in outputs}, result)


def _locate(meta_path: Path, data: yaml_positions.YMap, outputs: set[str], result: Result) -> None:
    """Fill ``result.name_pos`` and ``result.requirement_pos`` from the positioned data."""
    quiet = schema.Checker(meta_path, [])       # the recipe is valid: nothing to report here
    package = data.get("package")
    if isinstance(package, yaml_positions.YMap) and isinstance(package.get("name"), str):
        result.name_pos[package["name"]] = package.value_pos("name")
    places: list[tuple[str, Any]] = [("", data)]
    items = data.get("outputs")
    for item in items if isinstance(items, yaml_positions.YList) else ():
        if isinstance(item, yaml_positions.YMap) and item.get("name") in outputs:
            result.name_pos.setdefault(item["name"], item.value_pos("name"))
            places.append((f" of output {item['name']}", item))
    for suffix, place in places:
        reqs = place.get("requirements")
        if isinstance(reqs, yaml_positions.YList):     # an output's shorthand: host and run
            entries = [("host", text, pos) for text, pos in quiet.entries(place, "requirements", "")]
        elif isinstance(reqs, yaml_positions.YMap):
            entries = [(section, text, pos) for section in ("build", "host")
                       for text, pos in quiet.entries(reqs, section, "")]
        else:
            continue
        for section, text, pos in entries:
            result.requirement_pos.append((f"requirements/{section}{suffix}", _package_of(text), pos))


def _package_of(spec: str) -> str:
    try:
        return spec_name(normalize(spec))
    except SpecError:
        return spec_name(spec)


def _files_in(directory: Path) -> frozenset[str]:
    """Names of the regular files in a recipe directory (one scan instead of many stats)."""
    try:
        return frozenset(e.name for e in os.scandir(directory) if e.is_file())
    except OSError:
        return frozenset()


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
    ctx.update(
        PY_VER=".".join(python.split(".")[:2]), NPY_VER=".".join(numpy.split(".")[:2]),
        PY3K="1" if python.startswith("3") else "0", CONDA_BUILD="1", RECIPE_DIR=str(recipe_dir),
    )
    ctx.update({name: f"${name}" for name in SHELL_VARS})
    ctx.update(make_functions(settings.target_platform, tracked_variant, recipe_dir, pins))
    return ctx
