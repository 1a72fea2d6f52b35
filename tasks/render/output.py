"""Write a rendered recipe the way ``conda render`` shows it: the final meta.yaml as YAML.

Sections use conda-build's keys (``source/url`` a string or a list, ``build/run_exports``
a list when only weak exports exist); values equal to the model's defaults are left out.
What condoit adds (variant keys used, link scripts, build script, test scripts) goes
under ``extra/condoit`` so the file stays a valid meta.yaml.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

from ..fetch import SOURCE_KINDS
from ..fsutil import write_text_atomic
from ..model import Build, Output, Recipe, RunExports, Source, TestSpec, to_data

_BUILD_DEFAULTS = to_data(Build())


def _source(s: Source) -> dict[str, Any]:
    out = SOURCE_KINDS[s.kind].rendered(s)         # the kind's own keys
    if s.folder is not None:
        out["folder"] = s.folder
    if s.patches:
        out["patches"] = list(s.patches)
    return out


def _run_exports(r: RunExports) -> Any:
    data = {k: v for k, v in to_data(r).items() if v}
    return data["weak"] if set(data) == {"weak"} else data


def _build(b: Build) -> dict[str, Any]:
    data = to_data(b)
    other = data.pop("other")
    out = {k: v for k, v in data.items() if k == "number" or v != _BUILD_DEFAULTS[k]}
    if "run_exports" in out:
        out["run_exports"] = _run_exports(b.run_exports)
    out.update(other)
    return out


def _sections(requirements: Any, test: TestSpec) -> dict[str, Any]:
    out: dict[str, Any] = {}
    reqs = {k: v for k, v in to_data(requirements).items() if v}
    if reqs:
        out["requirements"] = reqs
    tests = {k: v for k, v in to_data(test).items() if v and k != "scripts"}
    if tests:
        out["test"] = tests
    return out


def _output(o: Output) -> dict[str, Any]:
    out: dict[str, Any] = {"name": o.name, "version": o.version}
    for key in ("script", "script_interpreter"):
        if getattr(o, key):
            out[key] = getattr(o, key)
    if o.type != "conda":
        out["type"] = o.type
    out["build"] = _build(o.build)
    out.update(_sections(o.requirements, o.test))
    if o.files:
        out["files"] = list(o.files)
    if o.about:
        out["about"] = to_data(o.about)
    return out


def rendered_data(recipe: Recipe) -> dict[str, Any]:
    """The recipe as plain data in meta.yaml's layout."""
    out: dict[str, Any] = {"package": {"name": recipe.name, "version": recipe.version}}
    if recipe.sources:
        sources = [_source(s) for s in recipe.sources]
        out["source"] = sources[0] if len(sources) == 1 else sources
    out["build"] = _build(recipe.build)
    out.update(_sections(recipe.requirements, recipe.test))
    if recipe.outputs:
        out["outputs"] = [_output(o) for o in recipe.outputs]
    if recipe.about:
        out["about"] = to_data(recipe.about)
    extra = to_data(recipe.extra)
    condoit = {k: v for k, v in (("variant", to_data(recipe.variant)),
                                 ("link_scripts", to_data(recipe.link_scripts)),
                                 ("build_script", recipe.build_script_path),
                                 ("test_scripts", list(recipe.test.scripts)),
                                 ("needs_source", list(recipe.needs_source))) if v}
    if condoit:
        extra["condoit"] = condoit
    if extra:
        out["extra"] = extra
    return out


def render_yaml(recipe: Recipe) -> str:
    import yaml

    class Dumper(getattr(yaml, "CSafeDumper", yaml.SafeDumper)):  # type: ignore[misc]
        """Multi-line strings (descriptions, scripts) as readable ``|`` blocks."""

    def text(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
        style = "|" if "\n" in value.strip("\n") else None
        return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)

    Dumper.add_representer(str, text)
    return yaml.dump(rendered_data(recipe), Dumper=Dumper, sort_keys=False, default_flow_style=False,
                     allow_unicode=True, width=100)


def write_rendered(recipe: Recipe, target_path: str | Path) -> None:
    """doit action of ``render:<name>``: write the rendered YAML atomically, print its path."""
    target = Path(target_path)
    write_text_atomic(target, render_yaml(recipe))
    print(target)
