"""Positioned YAML data -> model objects, checking every section, key and type.

Each check that fails adds a RecipeProblem (file, line, col, message, hint) and the
reader goes on, so one run reports every problem of a recipe. Keys and sections follow
conda-build's FIELDS; keys conda-build knows but our model does not use are kept in
``Build.other`` rather than dropped. A key or section nobody knows is a warning, as
conda-build checks them only with ``--check`` (a problem under strict=1, see lenient.py).
"""
from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any, Iterable

from ..errors import RecipeProblem
from ..fetch import COMMON_KEYS, SOURCE_KINDS, select_kind
from ..model import Build, Frozen, Output, Requirements, RunExports, Source, TestSpec
from .inputs import note_path
from .lenient import Report
from .matchspec import SpecError, normalize
from .suggest import close_match
from .yaml_positions import Pos, YList, YMap

SECTIONS = ("package", "source", "build", "requirements", "test", "about", "extra", "outputs", "app")
PACKAGE_KEYS = ("name", "version")
BUILD_MODEL_KEYS = ("number", "string", "script", "script_env", "entry_points", "binary_relocation",
                    "detect_binary_files_with_prefix", "features", "track_features", "preserve_egg_dir",
                    "no_link", "no_softlink", "has_prefix_files", "binary_has_prefix_files",
                    "ignore_prefix_files", "skip", "noarch", "run_exports", "ignore_run_exports",
                    "ignore_run_exports_from", "rpaths", "always_include_files", "missing_dso_whitelist",
                    "osx_is_app", "merge_build_host")
BUILD_OTHER_KEYS = ("disable_pip", "noarch_python", "skip_compile_pyc", "rpaths_patcher", "msvc_compiler",
                    "pin_depends", "include_recipe", "preferred_env", "preferred_env_executable_paths",
                    "requires_features", "provides_features", "force_use_keys", "force_ignore_keys",
                    "pre-link", "post-link", "pre-unlink", "error_overdepending", "error_overlinking",
                    "overlinking_ignore_patterns", "python_site_packages_path", "runpath_whitelist",
                    "activate_in_script", "number_offset", "ignore_verify_codes", "python_version_independent",
                    "overdepending_ignore_patterns", "use_channeldata")
REQUIREMENT_KEYS = ("build", "host", "run", "run_constrained", "conflicts")
REQUIREMENT_OTHER_KEYS = ("preferred_env", "preferred_env_executable_paths")   # accepted, unused
TEST_KEYS = ("files", "source_files", "requires", "commands", "imports", "downstreams", "script")
TEST_OTHER_KEYS = ("script_interpreter", "script_env")                         # accepted, unused
# an output's legacy shorthands for keys of its build section (conda-build 2.1 to 3.0)
OUTPUT_BUILD_SHORTHANDS = ("noarch", "string", "track_features", "features", "missing_dso_whitelist",
                           "ignore_run_exports", "ignore_run_exports_from")
OUTPUT_KEYS = ("name", "version", "number", "entry_points", "script", "script_interpreter", "build",
               "requirements", "test", "about", "extra", "files", "type", "run_exports", "target",
               "script_env") + OUTPUT_BUILD_SHORTHANDS
# Output types conda-build knows; condoit makes conda packages only (see read_output).
OUTPUT_TYPES = ("conda", "conda_v2", "conda_v1", "wheel")
RUN_EXPORT_KINDS = ("weak", "strong", "noarch", "weak_constrains", "strong_constrains")
TEST_SCRIPTS = ("run_test.sh", "run_test.py", "run_test.pl", "run_test.bat")
_NAME_RE = re.compile(r"^[a-z0-9_][a-z0-9_.\-+]*$")
_BAD_VERSION_CHARS = set("=@#$%^&*:;\"'\\|<>?/ -")


def _kind(value: Any) -> str:
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if value is None:
        return "empty"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    return "a string"


class Checker:
    """Typed reads of positioned data that record problems instead of raising."""

    def __init__(self, path: Path, problems: list[RecipeProblem], warnings: list[RecipeProblem] | None = None,
                 strict: bool = False):
        self.path = path
        self.problems = problems
        self.report = Report(path, problems, warnings, strict)

    def problem(self, pos: Pos, message: str, hint: str = "") -> None:
        self.problems.append(RecipeProblem(self.path, pos[0], pos[1], message, hint))

    def lenient(self, pos: Pos, message: str, hint: str = "") -> None:
        """A warning (conda-build accepts it), or a problem under strict=1."""
        self.report.lenient(pos[0], pos[1], message, hint)

    # -- structure -----------------------------------------------------------------
    def known_keys(self, m: YMap, allowed: Iterable[str], where: str) -> None:
        """Unknown keys are warnings: conda-build checks them only with ``--check``, and
        ignores them (``test/command`` is not run)."""
        allowed = tuple(allowed)
        for key in m:
            if key not in allowed:
                close = close_match(str(key), allowed)
                hint = f"did you mean '{close}'?" if close else f"known keys: {', '.join(allowed)}"
                label = f"{where}/{key}" if where else str(key)
                what = "section" if not where else "key"
                self.lenient(m.key_pos[key], f"unknown {what} '{label}'", hint)

    def mapping(self, m: YMap, key: str, where: str) -> YMap | None:
        value = m.get(key)
        if value is None:
            return None
        if not isinstance(value, YMap):
            label = f"{where}/{key}" if where else f"section '{key}'"
            self.problem(m.value_pos(key), f"{label} must be a mapping, got {_kind(value)}",
                         "indent its keys under it, e.g. 'build:' then '  number: 0'")
            return None
        return value

    # -- scalars -------------------------------------------------------------------
    def string(self, m: YMap, key: str, where: str, default: str | None = None) -> str | None:
        if key not in m or m[key] is None:
            return default
        value = m[key]
        if isinstance(value, (YMap, YList)):
            self.problem(m.value_pos(key), f"{where}/{key} must be a string, got {_kind(value)}",
                         "give a single value" if isinstance(value, YList) else "")
            return default
        if isinstance(value, str):
            return value
        raw = m.raw.get(key)
        return raw if raw is not None else str(value)

    def integer(self, m: YMap, key: str, where: str, default: int | None = 0) -> int | None:
        if key not in m or m[key] is None:
            return default
        value = m[key]
        if isinstance(value, bool) or isinstance(value, (YMap, YList)):
            self.problem(m.value_pos(key), f"{where}/{key} must be an integer, got {_kind(value)}")
            return default
        try:
            return int(str(value).strip())
        except ValueError:
            self.problem(m.value_pos(key), f"{where}/{key} must be an integer, got '{value}'")
            return default

    def boolean(self, m: YMap, key: str, where: str, default: bool = False) -> bool:
        if key not in m or m[key] is None:
            return default
        value = m[key]
        if isinstance(value, bool):
            return value
        if isinstance(value, int) and value in (0, 1):
            return bool(value)
        if isinstance(value, str) and value.strip().lower() in ("true", "yes", "on", "y", "false", "no", "off", "n"):
            return value.strip().lower() in ("true", "yes", "on", "y")
        self.problem(m.value_pos(key), f"{where}/{key} must be true or false, got {_kind(value)}"
                     + (f" '{value}'" if isinstance(value, str) else ""))
        return default

    def entries(self, m: YMap, key: str, where: str) -> list[tuple[str, Pos]]:
        """A list of strings with positions (a single string is a list of one, as
        conda-build's ensure_list; entries emptied by jinja are dropped like conda-build)."""
        value = m.get(key)
        if value is None:
            return []
        if isinstance(value, YMap):
            self.problem(m.value_pos(key), f"{where}/{key} must be a list, got a mapping",
                         "write each entry on its own '- ' line")
            return []
        if not isinstance(value, YList):
            return [(self.string(m, key, where) or "", m.value_pos(key))]
        out: list[tuple[str, Pos]] = []
        for item, pos, raw in value.items_with_pos():
            if item is None:
                continue
            if isinstance(item, (YMap, YList)):
                self.problem(pos, f"{where}/{key} entries must be strings, got {_kind(item)}",
                             "a ': ' inside an entry makes it a mapping; quote the entry")
                continue
            out.append((item if isinstance(item, str) else (raw if raw is not None else str(item)), pos))
        return out

    def strings(self, m: YMap, key: str, where: str) -> tuple[str, ...]:
        return tuple(text for text, _ in self.entries(m, key, where))

    def script(self, m: YMap, key: str, where: str) -> str | None:
        """A script given as one string or as a list of lines."""
        if isinstance(m.get(key), YList):
            return "\n".join(self.strings(m, key, where))
        return self.string(m, key, where)

    def bool_or_strings(self, m: YMap, key: str, where: str, default: bool) -> bool | tuple[str, ...]:
        value = m.get(key)
        if value is None:
            return default
        if isinstance(value, YList) or (isinstance(value, str) and value.lower() not in
                                        ("true", "false", "yes", "no", "on", "off")):
            return self.strings(m, key, where)
        return self.boolean(m, key, where, default)

    def specs(self, m: YMap, key: str, where: str) -> tuple[str, ...]:
        """Match specs, checked and normalised (``numpy>=1.2`` -> ``numpy >=1.2``)."""
        out: list[str] = []
        for text, pos in self.entries(m, key, where):
            try:
                out.append(normalize(text))
            except SpecError as exc:
                self.problem(pos, f"{where}/{key}: {exc.message}", exc.hint)
        return tuple(out)


def plain(value: Any, raw: str | None = None) -> Any:
    """Free-form data (about, extra) as plain values; floats keep their written text."""
    if isinstance(value, YMap):
        return {str(k): plain(v, value.raw.get(k)) for k, v in value.items()}
    if isinstance(value, YList):
        return [plain(v, r) for v, r in zip(value, value.raw)]
    if isinstance(value, float) and raw is not None:
        return raw
    return value


# -- sections -------------------------------------------------------------------------
def read_package(c: Checker, data: YMap) -> tuple[str | None, str | None]:
    pkg = c.mapping(data, "package", "")
    if pkg is None:
        if data.get("package") is None:      # (a wrong type is reported by mapping())
            c.problem(data.key_pos.get("package", (1, 1)), "missing package/name and package/version",
                      "add 'package:' with 'name:' and 'version:'")
        return None, None
    c.known_keys(pkg, PACKAGE_KEYS, "package")
    name = c.string(pkg, "name", "package")
    version = c.string(pkg, "version", "package")
    if not name and not isinstance(pkg.get("name"), (YMap, YList)):
        c.problem(pkg.key_pos.get("name", data.key_pos["package"]), "missing package/name",
                  "add 'name: <lower-case name>' under 'package:'")
    elif name:
        check_name(c, name, pkg.value_pos("name"), "package/name")
    if not version and not isinstance(pkg.get("version"), (YMap, YList)):
        if not isinstance(data.get("outputs"), YList):   # with outputs: theirs (read_outputs)
            c.problem(pkg.key_pos.get("version", data.key_pos["package"]), "missing package/version",
                      "add 'version: \"1.2.3\"' under 'package:' (quoted, so 1.10 stays 1.10)")
    elif version:
        check_version(c, version, pkg.value_pos("version"), "package/version")
    return name, version


def check_name(c: Checker, name: str, pos: Pos, where: str) -> None:
    if not _NAME_RE.match(name):
        c.problem(pos, f"invalid {where} '{name}'",
                  "use lower-case letters, digits and - _ . + (e.g. {{ name|lower }})")


def check_version(c: Checker, version: str, pos: Pos, where: str) -> None:
    bad = sorted(_BAD_VERSION_CHARS.intersection(version))
    if bad:
        c.problem(pos, f"invalid {where} '{version}': bad character(s) {''.join(bad)!r}",
                  "a version has no spaces or '-'; use '_' or '.'")


def source_keys() -> tuple[str, ...]:
    """Every key a source entry may have: each registered kind's, then the common ones."""
    keys = [k for kind in SOURCE_KINDS.values() for k in (*kind.keys, *kind.accepted)]
    return tuple(dict.fromkeys(keys + list(COMMON_KEYS)))


def read_sources(c: Checker, data: YMap, recipe_dir: Path) -> tuple[Source, ...]:
    value = data.get("source")
    if value is None:
        return ()
    if isinstance(value, YMap):
        entries = [value]
    elif isinstance(value, YList):
        entries = []
        for item, pos, _ in value.items_with_pos():
            if isinstance(item, YMap):
                entries.append(item)
            elif item is not None:
                c.problem(pos, f"each source entry must be a mapping, got {_kind(item)}")
    else:
        c.problem(data.value_pos("source"), f"source must be a mapping or a list of mappings, got {_kind(value)}")
        return ()
    sources = tuple(read_source(c, s, recipe_dir) for s in entries)
    extra = data.get("extra")
    if isinstance(extra, YMap):                 # the extra: keys a used kind reads
        for kind in dict.fromkeys(SOURCE_KINDS[s.kind] for s in sources):
            kind.check_extra(plain(extra), lambda key, message, hint="": c.problem(
                extra.value_pos(key), message, hint))
    return sources


_READ_BY_TYPE = {"str": Checker.string, "int": lambda c, m, k, w: c.integer(m, k, w, None),
                 "bool": lambda c, m, k, w: c.boolean(m, k, w) or None, "list": Checker.strings}


def read_source(c: Checker, s: YMap, recipe_dir: Path) -> Source:
    """One entry: the kind its keys select (``tasks.fetch.SOURCE_KINDS``), that kind's keys
    read by their declared type and checked by the kind, and the keys every kind shares."""
    w = "source"
    c.known_keys(s, source_keys(), w)
    kind = select_kind(s)
    options = {key: value for key, type_ in kind.keys.items() if key in s
               if (value := _READ_BY_TYPE[type_](c, s, key, w)) not in (None, ())}
    options = kind.prepare(options, recipe_dir, lambda key, message, hint="": c.problem(
        s.value_pos(key) if key in s else s.pos, message, hint))
    patches: list[str] = []
    for name, pos in c.entries(s, "patches", w):
        patch = Path(os.path.normpath(recipe_dir / name))
        note_path(patch)
        if not patch.is_file():
            c.problem(pos, f"patch file not found: {name}",
                      f"expected it at {patch} (patches are relative to the recipe directory)")
        patches.append(str(patch))
    return Source(kind.name, options, folder=c.string(s, "folder", w), patches=tuple(patches), line=s.pos[0])


def read_run_exports(c: Checker, m: YMap, key: str, where: str) -> RunExports:
    value = m.get(key)
    if value is None:
        return RunExports()
    if isinstance(value, YMap):
        c.known_keys(value, RUN_EXPORT_KINDS, f"{where}/{key}")
        return RunExports(**{kind: c.specs(value, kind, f"{where}/{key}") for kind in RUN_EXPORT_KINDS})
    return RunExports(weak=c.specs(m, key, where))


def read_build(c: Checker, b: YMap | None, where: str = "build") -> Build:
    if b is None:
        return Build()
    c.known_keys(b, BUILD_MODEL_KEYS + BUILD_OTHER_KEYS, where)
    noarch_value = b.get("noarch")
    noarch: str | None = None
    if noarch_value is True:
        noarch = "generic"
    elif isinstance(noarch_value, str):
        noarch = noarch_value.strip()
        if noarch not in ("generic", "python"):
            c.problem(b.value_pos("noarch"), f"{where}/noarch must be 'generic' or 'python', got '{noarch}'")
            noarch = None
    elif noarch_value not in (None, False):
        c.problem(b.value_pos("noarch"), f"{where}/noarch must be 'generic' or 'python', got {_kind(noarch_value)}")
    other = {k: plain(b[k], b.raw.get(k)) for k in BUILD_OTHER_KEYS if k in b}
    rpaths = c.strings(b, "rpaths", where) if "rpaths" in b else ("lib/",)
    return Build(
        number=c.integer(b, "number", where, 0) or 0,
        string=c.string(b, "string", where),
        script=c.script(b, "script", where),
        script_env=c.strings(b, "script_env", where),
        entry_points=c.strings(b, "entry_points", where),
        binary_relocation=c.bool_or_strings(b, "binary_relocation", where, True),
        detect_binary_files_with_prefix=(c.boolean(b, "detect_binary_files_with_prefix", where)
                                         if "detect_binary_files_with_prefix" in b else None),
        features=c.strings(b, "features", where),
        track_features=c.strings(b, "track_features", where),
        preserve_egg_dir=c.boolean(b, "preserve_egg_dir", where),
        no_link=c.strings(b, "no_link", where),
        no_softlink=c.string(b, "no_softlink", where),
        has_prefix_files=c.strings(b, "has_prefix_files", where),
        binary_has_prefix_files=c.strings(b, "binary_has_prefix_files", where),
        ignore_prefix_files=c.bool_or_strings(b, "ignore_prefix_files", where, False),
        skip=c.boolean(b, "skip", where),
        noarch=noarch,
        run_exports=read_run_exports(c, b, "run_exports", where),
        ignore_run_exports=c.strings(b, "ignore_run_exports", where),
        ignore_run_exports_from=c.strings(b, "ignore_run_exports_from", where),
        rpaths=rpaths,
        always_include_files=c.strings(b, "always_include_files", where),
        missing_dso_whitelist=c.strings(b, "missing_dso_whitelist", where),
        osx_is_app=c.boolean(b, "osx_is_app", where),
        merge_build_host=c.boolean(b, "merge_build_host", where),
        other=Frozen(other),
    )


def read_requirements(c: Checker, r: YMap | None, where: str = "requirements") -> Requirements:
    if r is None:
        return Requirements()
    c.known_keys(r, REQUIREMENT_KEYS + REQUIREMENT_OTHER_KEYS, where)
    return Requirements(
        build=c.specs(r, "build", where), host=c.specs(r, "host", where), run=c.specs(r, "run", where),
        run_constrained=c.specs(r, "run_constrained", where) + c.specs(r, "conflicts", where),
    )


def read_test(c: Checker, t: YMap | None, recipe_dir: Path, where: str = "test",
              present: frozenset[str] = frozenset()) -> TestSpec:
    """The test section; ``present`` are the recipe dir's file names (run_test.* found there)."""
    scripts = [str(recipe_dir / n) for n in TEST_SCRIPTS if n in present]
    if t is None:
        return TestSpec(scripts=tuple(scripts))
    c.known_keys(t, TEST_KEYS + TEST_OTHER_KEYS, where)
    script = c.string(t, "script", where)
    if script:
        path = recipe_dir / script
        note_path(path)
        if not path.is_file():
            c.problem(t.value_pos("script"), f"test script not found: {script}", f"expected it at {path}")
        scripts.append(str(path))
    return TestSpec(
        files=c.strings(t, "files", where), source_files=c.strings(t, "source_files", where),
        requires=c.specs(t, "requires", where), commands=c.strings(t, "commands", where),
        imports=c.strings(t, "imports", where), scripts=tuple(scripts),
    )


def read_free(c: Checker, data: YMap, key: str) -> Frozen:
    value = data.get(key)
    if value is None:
        return Frozen()
    if not isinstance(value, YMap):
        c.problem(data.value_pos(key), f"{key} must be a mapping, got {_kind(value)}")
        return Frozen()
    return Frozen(plain(value))


def read_outputs(c: Checker, data: YMap, name: str | None, version: str | None,
                 recipe_dir: Path) -> tuple[Output, ...]:
    value = data.get("outputs")
    if value is None:
        return ()
    if not isinstance(value, YList):
        c.problem(data.value_pos("outputs"), f"outputs must be a list of mappings, got {_kind(value)}",
                  "start each output with '- name: ...'")
        return ()
    outputs: list[Output] = []
    for i, (item, pos, _) in enumerate(value.items_with_pos()):
        if not isinstance(item, YMap):
            if item is not None:
                c.problem(pos, f"each output must be a mapping, got {_kind(item)}")
            continue
        output = read_output(c, item, data, name, version, recipe_dir, f"outputs[{i}]")
        if not output.build.skip:           # an output skipped for this target is left out
            outputs.append(output)
    return tuple(outputs)


def read_output(c: Checker, o: YMap, top: YMap, name: str | None, version: str | None,
                recipe_dir: Path, where: str) -> Output:
    c.known_keys(o, OUTPUT_KEYS, where)
    out_name = c.string(o, "name", where)
    if not out_name:
        c.problem(o.key_pos.get("name", o.pos), f"{where} has no name", "add 'name: <package name>'")
        out_name = ""
    else:
        check_name(c, out_name, o.value_pos("name"), f"{where}/name")
    out_version = c.string(o, "version", where) or version or ""
    if "version" in o and out_version:
        check_version(c, out_version, o.value_pos("version"), f"{where}/version")
    elif not out_version:
        c.problem(o.key_pos.get("name", o.pos), f"{where} has no version, and package/version is missing",
                  "give the output 'version: ...', or the recipe one under 'package:'")
    same_as_top = out_name == name
    build_map = c.mapping(o, "build", where)
    top_build = read_build(Checker(c.path, []), c.mapping(top, "build", ""))
    build = read_build(c, build_map, f"{where}/build")
    if same_as_top and build_map is None:
        build = top_build
    elif build_map is None or "number" not in build_map:
        build = _replace(build, number=top_build.number)     # outputs inherit build/number
    if "number" in o:
        build = _replace(build, number=c.integer(o, "number", where, build.number) or 0)
    if "entry_points" in o:
        build = _replace(build, entry_points=c.strings(o, "entry_points", where))
    if "run_exports" in o:
        build = _replace(build, run_exports=read_run_exports(c, o, "run_exports", where))
    shorthands = [k for k in OUTPUT_BUILD_SHORTHANDS if k in o]
    if shorthands:                          # legacy: build keys written on the output itself
        legacy = read_build(c, _submap(o, shorthands), where)
        build = _replace(build, **{k: getattr(legacy, k) for k in shorthands})
    reqs_value = o.get("requirements")
    if isinstance(reqs_value, YList):       # a list is shorthand for host and run (conda-build)
        specs = c.specs(o, "requirements", where)
        requirements = Requirements(host=specs, run=specs)
    else:
        requirements = read_requirements(c, c.mapping(o, "requirements", where), f"{where}/requirements")
        if same_as_top:
            top_reqs = read_requirements(Checker(c.path, []), c.mapping(top, "requirements", ""))
            requirements = Requirements(**{
                k: getattr(requirements, k) or getattr(top_reqs, k)
                for k in ("build", "host", "run", "run_constrained")})
    files_value = o.get("files")
    if isinstance(files_value, YMap):
        c.problem(o.value_pos("files"), f"{where}/files must be a list of paths or globs",
                  "the include/exclude form is not supported; list the files")
        files: tuple[str, ...] = ()
    else:
        files = c.strings(o, "files", where)
    about = read_free(c, o, "about")
    if same_as_top and not about:
        about = read_free(Checker(c.path, []), top, "about")
    out_type = c.string(o, "type", where, "conda") or "conda"
    if out_type not in OUTPUT_TYPES:
        c.problem(o.value_pos("type"), f"{where}/type must be 'conda' or 'wheel', got '{out_type}'")
    elif out_type == "wheel":
        # A problem, not a build-time error: it shows at `doit list`, before any compile
        # time is spent, and the recipe's conda outputs usually install the wheel anyway.
        c.problem(o.value_pos("type"), f"{where}/type 'wheel' is not supported: condoit makes conda packages only",
                  "build the wheel in build.sh and install it with pip in a conda output's script, "
                  "or remove this output")
    return Output(
        name=out_name, version=out_version, build=build, requirements=requirements,
        test=read_test(c, c.mapping(o, "test", where), recipe_dir, f"{where}/test"),
        about=about, script=c.string(o, "script", where), files=files, type=out_type,
        script_interpreter=c.string(o, "script_interpreter", where),
    )


def _submap(m: YMap, keys: Iterable[str]) -> YMap:
    """The entries ``keys`` of ``m``, positions and source text kept."""
    out = YMap(m.pos)
    for k in keys:
        out[k] = m[k]
        out.key_pos[k], out.val_pos[k], out.raw[k] = m.key_pos[k], m.val_pos[k], m.raw.get(k)
    return out


def _replace(build: Build, **changes: Any) -> Build:
    import dataclasses
    return dataclasses.replace(build, **changes)

