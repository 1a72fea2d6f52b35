"""conda-build's jinja functions that read files or environments: ``load_file_regex``,
``load_file_data``, ``load_str_data``, ``load_setup_py_data`` (and its old name
``load_setuptools``) and ``resolved_packages``.

A file of the recipe directory (``from_recipe_dir=True``) or an absolute path is read at
render time. A file of the *source* exists only once the source is fetched: given a
``source_dir`` (the work tree, for a render after download) the functions read it there,
as conda-build does in its final pass; without one they return ``PENDING``, a placeholder
that survives the usual idioms (``.group(1)``, ``['project']['version']``, ``.get('name',
'x')``, ``{% for %}`` over it), and note what the recipe read in ``needs`` so the caller can
say the recipe renders for real only after download.
"""
from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any, Callable

from .inputs import getenv, note_path, volatile


class PendingValue(str):
    """A value of a source file not fetched yet: the string '0' that iterates as empty,
    and whose every item, key or attribute is another pending value (also callable)."""

    def __iter__(self):
        return iter(())

    def __getitem__(self, key: Any) -> Any:
        return str.__getitem__(self, key) if isinstance(key, (int, slice)) else PENDING

    def get(self, key: Any, default: Any = None) -> Any:
        return PENDING if default is None else default

    def __getattr__(self, name: str) -> "PendingValue":
        if name.startswith("_"):
            raise AttributeError(name)
        return PENDING

    def __call__(self, *args: Any, **kwargs: Any) -> "PendingValue":
        return PENDING


PENDING = PendingValue("0")

_SETUP_PY_SCRIPT = r"""
import json, os, sys, types
path = os.path.abspath(sys.argv[1])
data = {}
def setup(**kwargs):
    data.update(kwargs)
try:
    import setuptools
except Exception:
    setuptools = types.ModuleType("setuptools")
    setuptools.find_packages = lambda *a, **k: []
    setuptools.Extension = lambda *a, **k: None
    sys.modules["setuptools"] = setuptools
setuptools.setup = setup
try:
    import distutils.core
    distutils.core.setup = setup
except Exception:
    pass
os.chdir(os.path.dirname(path))
sys.path.insert(0, os.path.dirname(path))
sys.argv = [path, "--version"]
exec(compile(open(path, "rb").read(), path, "exec"), {"__name__": "__main__", "__file__": path})
print(json.dumps(data, default=lambda o: sorted(o) if isinstance(o, (set, frozenset)) else str(o)))
"""


def setup_py_data(path: Path) -> dict[str, Any]:
    """The keyword arguments ``setup.py`` passes to ``setup()`` (conda-build runs it the same
    way: setup() replaced by a recorder). Raises RuntimeError with setup.py's error."""
    proc = subprocess.run([sys.executable, "-c", _SETUP_PY_SCRIPT, str(path)], capture_output=True,
                          text=True, timeout=120, cwd=path.parent)
    last = proc.stdout.strip().splitlines()[-1:] if proc.returncode == 0 else []
    if not last:
        tail = (proc.stderr.strip().splitlines() or ["no output"])[-1]
        raise RuntimeError(f"running {path} to read its setup() arguments failed: {tail}")
    return json.loads(last[0])


def parse_data(text: str, fmt: str) -> Any:
    """conda-build's _load_data: json, toml or yaml by format (or file extension)."""
    fmt = fmt.lower().lstrip(".")
    if fmt == "json":
        return json.loads(text)
    if fmt == "toml":
        import tomllib
        return tomllib.loads(text)
    if fmt in ("yaml", "yml"):
        import yaml
        return yaml.safe_load(text)
    raise ValueError(f"unknown file format '{fmt}' (json, toml, yaml)")


def make_loaders(recipe_dir: Path, source_dir: Path | None, needs: dict[str, None]) -> dict[str, Callable[..., Any]]:
    """The file-reading jinja functions of one render; ``needs`` collects what is pending."""

    def locate(name: str, from_recipe_dir: bool, what: str) -> Path | None:
        """The file to read, or None when it is in a source not fetched yet (noted)."""
        path = Path(str(name))
        if path.is_absolute() or from_recipe_dir:
            found = path if path.is_absolute() else recipe_dir / path
            note_path(found)
            return found
        if source_dir is not None:
            return source_dir / path
        needs.setdefault(f"{what}('{name}')", None)
        return None

    def load_file_regex(load_file: str, regex_pattern: str, from_recipe_dir: bool = False, **_: Any) -> Any:
        path = locate(load_file, from_recipe_dir, "load_file_regex")
        if path is None:
            return PENDING
        try:
            return re.search(regex_pattern, path.read_text(errors="replace"))
        except OSError:
            if source_dir is not None and not from_recipe_dir:
                raise FileNotFoundError(f"load_file_regex: {load_file} is not a file of the source") from None
            return None

    def load_file_data(filename: str, fmt: str | None = None, *args: Any, from_recipe_dir: bool = False,
                       **_: Any) -> Any:
        path = locate(filename, from_recipe_dir, "load_file_data")
        if path is None:
            return PENDING
        try:
            text = path.read_text(encoding="utf-8")
        except OSError:
            if source_dir is not None and not from_recipe_dir:
                raise FileNotFoundError(f"load_file_data: {filename} is not a file of the source") from None
            return {}
        return parse_data(text, fmt or path.suffix)

    def load_str_data(string: str, fmt: str, *args: Any, **_: Any) -> Any:
        return parse_data(str(string), fmt)

    def setup_py_loader(what: str) -> Callable[..., Any]:
        def load(setup_file: str = "setup.py", from_recipe_dir: bool = False, **_: Any) -> Any:
            path = locate(setup_file, from_recipe_dir, what)
            if path is None:
                return PENDING
            if not path.is_file():
                return {}
            volatile(f"{what}: running {path} may read anything")
            return setup_py_data(path)
        load.__name__ = what
        return load

    def resolved_packages(env: str, *_: Any, **__: Any) -> list[str]:
        """conda-build solves the host/build env for this; at render time it is not solved
        (conda-build's first pass gives [] too)."""
        if env not in ("host", "build"):
            raise ValueError("Only host and build dependencies are supported.")
        needs.setdefault(f"resolved_packages('{env}')", None)
        return []

    return {"load_file_regex": load_file_regex, "load_file_data": load_file_data,
            "load_str_data": load_str_data, "load_setup_py_data": setup_py_loader("load_setup_py_data"),
            "load_setuptools": setup_py_loader("load_setuptools"), "resolved_packages": resolved_packages}


def script_env_values(names: list[str]) -> dict[str, str]:
    """``build/script_env`` entries as jinja values: ``NAME=value`` or NAME from the
    environment (conda-build's meta_vars; an unset one stays undefined)."""
    out: dict[str, str] = {}
    for entry in names:
        name, eq, value = str(entry).partition("=")
        name = name.strip()
        if eq:
            out[name] = value
        elif (found := getenv(name)) is not None:
            out[name] = found
    return out
