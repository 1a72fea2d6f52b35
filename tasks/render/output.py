"""Write a rendered recipe like ``conda render`` does: the final meta.yaml as YAML."""
from __future__ import annotations

from pathlib import Path
from typing import Any

from ..fsutil import write_text_atomic
from ..model import Build, Recipe, to_data


def rendered_data(recipe: Recipe) -> dict[str, Any]:
    """The recipe as conda-build's section layout, without empty values."""
    data = to_data(recipe)
    out: dict[str, Any] = {"package": {"name": recipe.name, "version": recipe.version}}
    if recipe.sources:
        out["source"] = [_compact(s) for s in data["sources"]]
    for section in ("build", "requirements", "test", "about", "extra"):
        value = _compact(_non_default(data[section], _DEFAULTS.get(section)))
        if value:
            out[section] = value
    if recipe.outputs:
        out["outputs"] = [_compact({**o, "build": _non_default(o["build"], _DEFAULTS["build"])})
                          for o in data["outputs"]]
    extra = {k: v for k, v in (("variant", data["variant"]), ("link_scripts", data["link_scripts"]),
                              ("build_script", recipe.build_script_path)) if v}
    if extra:
        out["condoit"] = extra
    return out


_DEFAULTS = {"build": to_data(Build())}


def _non_default(section: Any, default: dict[str, Any] | None) -> Any:
    """Keys whose value differs from the model's default (build/number is always shown)."""
    if not default or not isinstance(section, dict):
        return section
    return {k: v for k, v in section.items() if k == "number" or v != default.get(k)}


def _compact(value: Any) -> Any:
    if isinstance(value, dict):
        items = {k: _compact(v) for k, v in value.items()}
        return {k: v for k, v in items.items() if v not in (None, "", [], {}) and k != "line"}
    if isinstance(value, list):
        return [_compact(v) for v in value]
    return value


def render_yaml(recipe: Recipe) -> str:
    import yaml
    dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
    return yaml.dump(rendered_data(recipe), Dumper=dumper, sort_keys=False, default_flow_style=False,
                     allow_unicode=True, width=100)


def write_rendered(recipe: Recipe, target_path: str | Path) -> None:
    """doit action of ``render:<name>``: write the rendered YAML atomically, print its path."""
    target = Path(target_path)
    write_text_atomic(target, render_yaml(recipe))
    print(target)
