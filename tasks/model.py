"""The immutable recipe model: what a rendered meta.yaml means.

Everything is a frozen dataclass of tuples, strings, numbers and ``Frozen`` maps, so a
Recipe can be pickled into doit worker processes, hashed into stage signatures and
written back out as JSON/YAML (``to_data``).
"""
from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator, Mapping


class Frozen(Mapping[str, Any]):
    """A read-only mapping (for free-form sections such as ``extra`` and ``about``)."""

    __slots__ = ("_data",)

    def __init__(self, data: Mapping[str, Any] | None = None):
        self._data = {k: freeze(v) for k, v in (data or {}).items()}

    def __getitem__(self, key: str) -> Any:
        return self._data[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)

    def __hash__(self) -> int:
        return hash(json.dumps(to_data(self), sort_keys=True))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Mapping) and dict(self.items()) == dict(other.items())

    def __repr__(self) -> str:
        return f"Frozen({self._data!r})"

    def __reduce__(self):
        return (Frozen, (self._data,))


def freeze(value: Any) -> Any:
    """Lists become tuples and dicts become Frozen, recursively."""
    if isinstance(value, Frozen):
        return value
    if isinstance(value, Mapping):
        return Frozen(value)
    if isinstance(value, (list, tuple)):
        return tuple(freeze(v) for v in value)
    return value


def to_data(value: Any) -> Any:
    """Plain JSON-able data (dicts, lists, strings, numbers) from any model value."""
    kind = type(value)      # exact types first: stage signatures ask on every run, for every job
    if kind is str or kind is int or kind is bool or kind is float or value is None:
        return value
    if kind is tuple or kind is list:
        return [to_data(v) for v in value]
    if kind is Frozen:
        return {str(k): to_data(v) for k, v in value._data.items()}
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_data(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, Mapping):
        return {str(k): to_data(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_data(v) for v in value]
    if isinstance(value, Path):
        return str(value)
    return value


# What ``{{ PKG_HASH }}`` renders to in meta.yaml (e.g. in ``build/string``): the hash is
# only known when the host environment is, so the compile stage replaces this marker.
PKG_HASH_MARKER = "@PKG_HASH@"


@dataclass(frozen=True, init=False)
class Source:
    """One entry of ``source:``: its kind, the kind's own keys, and what every kind shares.

    ``kind`` names an entry of ``tasks.fetch.SOURCE_KINDS`` (url, git, hg, svn, path, none);
    ``options`` holds that kind's meta.yaml keys as read (``url`` a tuple of mirrors, ``path``
    absolute), nothing else. Made like meta.yaml reads: ``Source("git", git_url=..., git_tag=...)``.
    """

    kind: str
    options: Frozen                     # the kind's keys (meta.yaml names); None values left out
    folder: str | None                  # subdirectory of the work tree to place it in
    patches: tuple[str, ...]            # absolute paths of patch files, in order
    line: int                           # line of this source in meta.yaml (for errors)

    def __init__(self, kind: str, options: Mapping[str, Any] | None = None, *, folder: str | None = None,
                 patches: tuple[str, ...] = (), line: int = 0, **keys: Any):
        merged = {k: v for k, v in {**(options or {}), **keys}.items() if v is not None}
        for name, value in (("kind", kind), ("options", Frozen(merged)), ("folder", folder),
                            ("patches", tuple(patches)), ("line", line)):
            object.__setattr__(self, name, value)

    def get(self, key: str, default: Any = None) -> Any:
        """One of the kind's keys (``source.get("sha256")``), ``default`` when not given."""
        return self.options.get(key, default)


@dataclass(frozen=True)
class RunExports:
    """Requirements a package adds to the run requirements of what builds against it."""

    weak: tuple[str, ...] = ()
    strong: tuple[str, ...] = ()
    noarch: tuple[str, ...] = ()
    weak_constrains: tuple[str, ...] = ()
    strong_constrains: tuple[str, ...] = ()

    def is_empty(self) -> bool:
        return not any(dataclasses.astuple(self))


@dataclass(frozen=True)
class Build:
    number: int = 0
    string: str | None = None
    script: str | None = None           # build/script joined into one shell script
    script_env: tuple[str, ...] = ()
    entry_points: tuple[str, ...] = ()
    binary_relocation: bool | tuple[str, ...] = True
    detect_binary_files_with_prefix: bool | None = None  # None: true unless binary_has_prefix_files
    features: tuple[str, ...] = ()
    track_features: tuple[str, ...] = ()
    preserve_egg_dir: bool = False
    no_link: tuple[str, ...] = ()
    no_softlink: str | None = None
    has_prefix_files: tuple[str, ...] = ()
    binary_has_prefix_files: tuple[str, ...] = ()
    ignore_prefix_files: bool | tuple[str, ...] = False
    skip: bool = False
    noarch: str | None = None           # None, "generic" or "python"
    run_exports: RunExports = RunExports()
    ignore_run_exports: tuple[str, ...] = ()
    ignore_run_exports_from: tuple[str, ...] = ()
    rpaths: tuple[str, ...] = ("lib/",)
    always_include_files: tuple[str, ...] = ()
    missing_dso_whitelist: tuple[str, ...] = ()
    osx_is_app: bool = False            # accepted and ignored on Linux
    merge_build_host: bool = False
    # other keys conda-build knows (skip_compile_pyc, pin_depends, error_overlinking...),
    # kept as written so nothing in a recipe is silently lost
    other: Frozen = field(default_factory=Frozen)


@dataclass(frozen=True)
class Requirements:
    """Match specs as validated strings (``name [version [build]]``)."""

    build: tuple[str, ...] = ()
    host: tuple[str, ...] = ()
    run: tuple[str, ...] = ()
    run_constrained: tuple[str, ...] = ()


@dataclass(frozen=True)
class TestSpec:
    files: tuple[str, ...] = ()
    source_files: tuple[str, ...] = ()
    requires: tuple[str, ...] = ()
    commands: tuple[str, ...] = ()
    imports: tuple[str, ...] = ()
    scripts: tuple[str, ...] = ()       # run_test.sh / .py / .pl found in the recipe (absolute)

    def is_empty(self) -> bool:
        return not any(dataclasses.astuple(self))


@dataclass(frozen=True)
class Output:
    """One entry of ``outputs:`` in a multi-output recipe."""

    name: str
    version: str
    build: Build = Build()
    requirements: Requirements = Requirements()
    test: TestSpec = TestSpec()
    about: Frozen = field(default_factory=Frozen)
    script: str | None = None
    files: tuple[str, ...] = ()
    type: str = "conda"
    script_interpreter: str | None = None


@dataclass(frozen=True)
class Recipe:
    """A rendered recipe for one target platform."""

    name: str                           # package/name (the task name of this recipe)
    version: str
    recipe_dir: Path
    meta_path: Path
    sources: tuple[Source, ...] = ()
    build: Build = Build()
    requirements: Requirements = Requirements()
    test: TestSpec = TestSpec()
    about: Frozen = field(default_factory=Frozen)
    extra: Frozen = field(default_factory=Frozen)
    outputs: tuple[Output, ...] = ()
    skip_reason: str = ""               # why build/skip is true, e.g. "selector: win"
    variant: Frozen = field(default_factory=Frozen)   # variant keys the recipe used
    rendered_text: str = ""             # meta.yaml after jinja and selectors (info/recipe)
    link_scripts: Frozen = field(default_factory=Frozen)  # action (pre-link...) -> absolute path
    build_script_path: str | None = None  # recipe's build.sh when build/script is absent
    # what the render took from the source with a placeholder, the source not being fetched
    # yet (GIT_DESCRIBE_TAG, "load_file_regex('setup.py')"...): conda-build renders such a
    # recipe again after fetching (render.recipe.render_recipe(..., source_dir=...))
    needs_source: tuple[str, ...] = ()

    @property
    def provides(self) -> tuple[str, ...]:
        """Package names this recipe produces (itself and its outputs)."""
        names = [self.name] + [o.name for o in self.outputs]
        return tuple(dict.fromkeys(names))

    def section(self, name: str) -> Any:
        """Plain data of one part of the recipe, for stage signatures."""
        return to_data(getattr(self, name))

    def to_data(self) -> dict[str, Any]:
        return to_data(self)

    def to_json(self) -> str:
        return json.dumps(self.to_data(), indent=2, sort_keys=True)


def spec_name(spec: str) -> str:
    """The package name of a match spec string."""
    return spec.strip().split()[0].split("[")[0] if spec.strip() else ""
