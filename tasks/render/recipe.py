"""One meta.yaml -> one Recipe (or the reason it is skipped, or its problems).

Pipeline, in conda-build's order: line selectors on the raw text (its FilteredLoader:
a line whose selector is false, and a comment-only line, is gone before jinja sees it, so
nothing on it can fail the render), jinja2 (with the variant and conda-build's functions),
selectors again (on lines jinja made), YAML, the schema, the variant's pins. Lines are
blanked, never removed, so every error keeps the original file:line:col.

``pin_subpackage`` needs the versions of the recipe's own outputs, which the render itself
produces: it leaves tokens that are resolved once the recipe is read. Only a template that
reads PKG_NAME / PKG_VERSION / PKG_BUILDNUM is rendered a second time, with their values.

Values conda-build takes from the fetched source (GIT_*, HG_*, ``load_file_regex`` of a
source file...) render as placeholders and are listed in ``Recipe.needs_source``;
``render_recipe(..., source_dir=work_tree)`` renders with the real ones.
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
from .inputs import note_path
from .functions import PIN_TOKEN, PinState, Versioned, make_functions
from .jinja_env import JinjaProblem, environment, loading, render, render_permissive
from .lenient import Report
from .loaders import make_loaders, script_env_values
from .matchspec import SpecError, normalize
from .selectors import SelectorProblem, namespace, select_lines
from .source_vars import PLACEHOLDERS, SOURCE_VARS, source_values
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
    # the same for build, host and run requirements (the version check across the stack)
    requirements_written: list[tuple[str, str, tuple[int, int]]] = field(default_factory=list)
    warnings: list[RecipeProblem] = field(default_factory=list)   # leniencies (lenient.py)


@dataclass(frozen=True)
class SourceState:
    """What the render knows of the fetched source: nothing (placeholders), or its work tree."""

    work_tree: Path | None = None
    values: Mapping[str, str] = field(default_factory=dict)   # GIT_* / HG_* of the first source


def render_recipe(meta_path: Path, settings: Settings, variant: Mapping[str, Any],
                  stack_versions: Mapping[str, str] | None = None, text: str | None = None,
                  source_dir: Path | None = None) -> Result:
    """Render ``meta_path`` for ``settings.target_platform`` with ``variant``.

    ``source_dir``: the recipe's work tree after download (and patches), for a render that
    takes GIT_*/HG_* and source files from it (conda-build's render after fetching)."""
    if text is None:
        note_path(meta_path)
        try:
            text = meta_path.read_text(encoding="utf-8-sig")
        except (OSError, UnicodeDecodeError) as exc:
            return Result(meta_path, problems=[RecipeProblem(meta_path, 1, 1, f"cannot read recipe: {exc}")])
    source = SourceState()
    if source_dir is not None:
        # conda-build takes GIT_*/HG_* from the first source's folder, as the first pass reads it
        first = render_recipe(meta_path, settings, variant, stack_versions, text)
        sources = first.recipe.sources if first.recipe is not None else ()
        folder = sources[0].folder if sources and sources[0].folder else ""
        source = SourceState(Path(source_dir), source_values(Path(source_dir) / folder))
    pins = PinState(stack=dict(stack_versions or {}))
    pkg = {"PKG_NAME": meta_path.parent.name, "PKG_VERSION": "0", "PKG_BUILDNUM": "0"}
    result = _render_once(meta_path, text, settings, variant, pins, pkg, source)
    recipe = result.recipe
    if recipe is not None and result.used & set(pkg):
        # second pass: the recipe's own name, version and build number are known now
        pins.deferred.clear()
        pkg = {"PKG_NAME": recipe.name, "PKG_VERSION": recipe.version, "PKG_BUILDNUM": str(recipe.build.number)}
        result = _render_once(meta_path, text, settings, variant, pins, pkg, source)
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
                 pins: PinState, pkg: Mapping[str, str], source: SourceState) -> Result:
    used: set[str] = set()
    result = Result(meta_path, used=used)
    needs: dict[str, None] = {}
    parsed = _parse(meta_path, text, settings, variant, pins, pkg, source, needs, result)
    if parsed is not None:
        _read(meta_path, *parsed, variant, settings, result)
        if result.recipe is not None and source.work_tree is None:
            pending = tuple(n for n in SOURCE_VARS if n in used) + tuple(needs)
            if pending:
                result.recipe = dataclasses.replace(result.recipe, needs_source=pending)
                _report_pending(Report(meta_path, result.problems, result.warnings, settings.strict), text, pending)
                if result.problems:
                    result.recipe = None
    return result


def _report_pending(report: Report, text: str, pending: tuple[str, ...]) -> None:
    """One warning for the values that are placeholders until the source is fetched, one for
    resolved_packages(), each at the first line that names one of them."""
    resolved = [n for n in pending if n.startswith("resolved_packages(")]
    source = [n for n in pending if n not in resolved]
    for names, message, hint in (
            (source, "renders with placeholders until its source is fetched: " + ", ".join(source),
             "conda-build renders this recipe again after fetching its source; condoit does not yet, so "
             "values taken from the source (version, build string...) are placeholders such as "
             f"GIT_DESCRIBE_TAG='{PLACEHOLDERS['GIT_DESCRIBE_TAG']}'"),
            (resolved, ", ".join(resolved) + " gives an empty list: the environment is solved after rendering",
             "pin what you need in run_constrained explicitly")):
        if names:
            words = [n.split("(")[0] for n in names]
            line, col = _first_mention(text, words)
            report.lenient(line, col, message, hint)


def _first_mention(text: str, words: list[str]) -> tuple[int, int]:
    found = [(m.start(), m) for w in dict.fromkeys(words) if (m := re.search(rf"\b{re.escape(w)}\b", text))]
    if not found:
        return 1, 1
    start = min(found, key=lambda f: f[0])[0]
    line = text.count("\n", 0, start) + 1
    return line, start - (text.rfind("\n", 0, start) + 1) + 1


def _parse(meta_path: Path, text: str, settings: Settings, variant: Mapping[str, Any], pins: PinState,
           pkg: Mapping[str, str], source: SourceState, needs: dict[str, None],
           result: Result) -> tuple[yaml_positions.YMap, str, dict[int, str], Any] | None:
    """selectors, jinja2, selectors, YAML: the positioned data, or None with ``result.problems``."""
    tracked = [k for k in variant if k not in STRUCTURAL_KEYS]
    ns = TrackingDict(namespace(settings.target_platform, settings.build_platform,
                                str(variant.get("python", settings.python)),
                                str(variant.get("numpy", settings.numpy)), _selector_variant(variant)),
                      tracked, result.used, _PY_ALIASES)
    sel_problems: list[SelectorProblem] = []
    # 1. selectors on the raw text: false lines and comment-only lines are blanked
    pre, kept_raw = select_lines(text, ns, lambda i: i + 1, sel_problems, blank_comments=True)
    kept = {i + 1: expr for i, expr in kept_raw.items()}      # original line -> selector
    var = TrackingDict(dict(variant), tracked, result.used)
    context = TrackingDict(_jinja_context(settings, variant, var, meta_path.parent, pins, source, needs),
                           tracked + list(pkg) + list(SOURCE_VARS), result.used, _DERIVED)
    context.update(pkg, PKG_HASH=PKG_HASH_MARKER)
    script_env = _script_env(pre, settings, variant, meta_path.parent, pins, source, pkg, ns) \
        if "script_env" in pre else {}
    context.update(script_env)

    def select_loaded(loaded: str) -> str:
        return select_lines(loaded, ns, lambda i: i + 1, [], blank_comments=True)[0]

    report = Report(meta_path, result.problems, result.warnings, settings.strict)
    dirs = tuple(dict.fromkeys((meta_path.parent, Path(settings.recipes_dir))))
    with loading(dirs, select_loaded):
        # 2. jinja2
        try:
            rendered = render(pre, context, pre.split("\n"), template_cache_dir(settings))
        except JinjaProblem as exc:
            result.problems += [RecipeProblem(meta_path, p.line, p.col, p.message, p.hint) for p in sel_problems]
            result.problems.append(RecipeProblem(meta_path, exc.line, exc.col, exc.message, exc.hint))
            return None
        if settings.strict:
            _strict_full_render(meta_path, text, settings, variant, pins, {**pkg, **script_env}, source, report)
    # 3. selectors on what jinja made
    selected, kept_rendered = select_lines(rendered.text, ns, rendered.line, sel_problems)
    kept.update({rendered.line(i): expr for i, expr in kept_rendered.items()})
    result.problems += [RecipeProblem(meta_path, p.line, p.col, p.message, p.hint) for p in sel_problems]
    # 4. YAML
    duplicates: list[yaml_positions.Duplicate] = []
    try:
        data = yaml_positions.load(selected, rendered.line, duplicates)
    except yaml_positions.YamlProblem as exc:
        result.problems.append(RecipeProblem(meta_path, exc.pos[0], exc.pos[1], exc.message, exc.hint))
        return None
    for (line, col), key, first in duplicates:
        report.lenient(line, col, yaml_positions.duplicate_message(key, first) + "; the last one is used",
                       yaml_positions.DUPLICATE_HINT)
    if data is None:
        data = yaml_positions.YMap((1, 1))
    if not isinstance(data, yaml_positions.YMap):
        result.problems.append(RecipeProblem(meta_path, 1, 1, "meta.yaml must be a mapping of sections",
                                             "start with 'package:'"))
        return None
    return (None if result.problems else (data, selected, kept, rendered))


def _strict_full_render(meta_path: Path, text: str, settings: Settings, variant: Mapping[str, Any],
                        pins: PinState, pkg: Mapping[str, str], source: SourceState, report: Report) -> None:
    """strict=1: the jinja of lines a selector drops, and of comment lines, must render too
    (they are not rendered otherwise, as in conda-build). Rendered on the side: nothing it
    reads or pins counts."""
    tracked = [k for k in variant if k not in STRUCTURAL_KEYS]
    side_pins = PinState(stack=dict(pins.stack))
    var = TrackingDict(dict(variant), tracked, set())
    context = TrackingDict(_jinja_context(settings, variant, var, meta_path.parent, side_pins, source, {}),
                           (), set(), _DERIVED)
    context.update(pkg, PKG_HASH=PKG_HASH_MARKER)
    try:
        render(text, context, text.split("\n"), template_cache_dir(settings))
    except JinjaProblem as exc:
        report.problem(exc.line, exc.col, f"{exc.message} (on a line a selector drops or a comment line; "
                       "rendered because strict=1)", exc.hint)


def _script_env(pre: str, settings: Settings, variant: Mapping[str, Any], recipe_dir: Path, pins: PinState,
                source: SourceState, pkg: Mapping[str, str], ns: TrackingDict) -> dict[str, str]:
    """The environment variables listed in build/script_env (the recipe's and its
    outputs'), which conda-build puts in the jinja context: read from a permissive render
    (conda-build's first pass), on the side."""
    var = TrackingDict(dict(variant), (), set())
    context = TrackingDict(_jinja_context(settings, variant, var, recipe_dir, PinState(stack=dict(pins.stack)),
                                          source, {}), (), set(), _DERIVED)
    context.update(pkg, PKG_HASH=PKG_HASH_MARKER)
    rendered = render_permissive(pre, context)
    if rendered is None:
        return {}
    selected, _ = select_lines(rendered.text, ns.child(), rendered.line, [])
    try:
        data = yaml_positions.load(selected, rendered.line, [])
    except yaml_positions.YamlProblem:
        return {}
    if not isinstance(data, yaml_positions.YMap):
        return {}
    places = [data] + [o for o in (data.get("outputs") or []) if isinstance(o, yaml_positions.YMap)]
    names: list[str] = []
    for place in places:
        build = place.get("build")
        entries = build.get("script_env") if isinstance(build, yaml_positions.YMap) else None
        if isinstance(entries, yaml_positions.YList):
            names += [str(e) for e in entries if isinstance(e, (str, int, float))]
        elif isinstance(entries, str):
            names.append(entries)
    return script_env_values(names)


def _read(meta_path: Path, data: yaml_positions.YMap, selected: str, kept: dict[int, str], rendered: Any,
          variant: Mapping[str, Any], settings: Settings, result: Result) -> None:
    """Schema check and model: sets ``result.recipe``, ``result.skipped`` or problems."""
    recipe_dir = meta_path.parent
    checker = schema.Checker(meta_path, result.problems, result.warnings, settings.strict)
    skip = _skip_reason(data, kept)
    name, version = schema.read_package(checker, data)
    if skip is not None:
        result.problems.clear()              # a recipe not built here is not checked further
        result.warnings.clear()
        result.skipped = Skipped(meta_path, name or recipe_dir.name, skip)
        return
    top_version = version
    if not version:
        version = _version_of_outputs(data, name)
    checker.known_keys(data, schema.SECTIONS, "")
    checker.mapping(data, "app", "")        # accepted (conda-build knows it), not used on Linux
    sources = schema.read_sources(checker, data, recipe_dir)
    build = schema.read_build(checker, checker.mapping(data, "build", ""))
    requirements = schema.read_requirements(checker, checker.mapping(data, "requirements", ""))
    present = _files_in(recipe_dir)
    test = schema.read_test(checker, checker.mapping(data, "test", ""), recipe_dir, present=present)
    about = schema.read_free(checker, data, "about")
    extra = schema.read_free(checker, data, "extra")
    outputs = schema.read_outputs(checker, data, name, top_version, recipe_dir)
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
            entries = [(section, text, pos) for text, pos in quiet.entries(place, "requirements", "")
                       for section in ("host", "run")]
        elif isinstance(reqs, yaml_positions.YMap):
            entries = [(section, text, pos) for section in ("build", "host", "run")
                       for text, pos in quiet.entries(reqs, section, "")]
        else:
            continue
        for section, text, pos in entries:
            entry = (f"requirements/{section}{suffix}", _package_of(text), pos)
            result.requirements_written.append(entry)
            if section != "run":
                result.requirement_pos.append(entry)


def _package_of(spec: str) -> str:
    try:
        return spec_name(normalize(spec))
    except SpecError:
        return spec_name(spec)


def _files_in(directory: Path) -> frozenset[str]:
    """Names of the regular files in a recipe directory (one scan instead of many stats)."""
    note_path(directory)
    try:
        return frozenset(e.name for e in os.scandir(directory) if e.is_file())
    except OSError:
        return frozenset()


def _version_of_outputs(data: yaml_positions.YMap, name: str | None) -> str | None:
    """No package/version: the version of the output named like the recipe, else of the
    first output that has one (conda-build allows a recipe of outputs without its own)."""
    outputs = data.get("outputs")
    if not isinstance(outputs, yaml_positions.YList):
        return None
    found = [(o.get("name") == name, schema.Checker(Path(), []).string(o, "version", ""))
             for o in outputs if isinstance(o, yaml_positions.YMap)]
    found = [f for f in found if f[1]]
    return sorted(found, key=lambda f: not f[0])[0][1] if found else None


def _skip_reason(data: yaml_positions.YMap, kept: dict[int, str]) -> str | None:
    """Why ``build/skip`` is true ('selector: win'), or None when the recipe is built."""
    build = data.get("build")
    if not isinstance(build, yaml_positions.YMap) or "skip" not in build:
        return None
    value = build["skip"]
    if not (value is True or (isinstance(value, str) and value.strip().lower() in ("true", "yes"))):
        return None
    expr = kept.get(build.key_pos["skip"][0])
    return f"selector: {expr}" if expr else "build/skip is true"


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
                   recipe_dir: Path, pins: PinState, source: SourceState,
                   needs: dict[str, None]) -> dict[str, Any]:
    """Names a meta.yaml template sees: jinja globals, the variant, conda-build's functions,
    its environment names (SUBDIR, ARCH, CONDA_BUILD_STATE...), the source's GIT_*/HG_*
    (placeholders before the source is fetched)."""
    python = str(variant.get("python", settings.python)).split(" ")[0]
    numpy = str(variant.get("numpy", settings.numpy)).split(" ")[0]
    target = str(variant.get("target_platform", settings.target_platform))
    ctx: dict[str, Any] = dict(environment().globals)
    ctx.update(PLACEHOLDERS if source.work_tree is None else source.values)
    ctx.update({k: v for k, v in variant.items() if k not in STRUCTURAL_KEYS})
    ctx.update(
        PY_VER=".".join(python.split(".")[:2]), NPY_VER=".".join(numpy.split(".")[:2]),
        PY3K="1" if python.startswith("3") else "0", CONDA_BUILD="1", RECIPE_DIR=str(recipe_dir),
        SUBDIR=target, ARCH=target.partition("-")[2], CONDA_BUILD_STATE="RENDER",
    )
    ctx.update({name: f"${name}" for name in SHELL_VARS})
    ctx.update(make_functions(settings.target_platform, tracked_variant, recipe_dir, pins))
    ctx.update(make_loaders(recipe_dir, source.work_tree, needs))
    return ctx
