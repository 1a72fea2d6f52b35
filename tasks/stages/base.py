"""The stage engine's core: what a stage is, what it hands on, and the one template all run through.

A stage is a class (one module under ``tasks/stages/``) that says:

- ``scope``: ``RECIPE`` (one job per recipe and platform), ``SOURCE`` (one per recipe, shared
  by every platform: its result does not depend on what it is built for) or ``STACK`` (one
  job for the whole stack, after the per-recipe stages it names);
- ``upstream``: the ``Ref`` of every result it reads (stage, recipe, platform);
- ``inputs``: plain data of everything else it depends on (recipe sections, file digests);
- ``run(recipe, ctx, inputs)``: the work; returns its ``Result``, a frozen dataclass with
  one JSON form. ``inputs`` opens only the declared upstream results: asking for another
  raises ``UndeclaredInput``, so a stage cannot read what its signature does not cover;
- ``output_paths``/``damage``/``clean``: what its stamp vouches for, and how to undo it.

The template (``execute``, ``is_current``): the signature hashes the stage's inputs and the
``fingerprint`` (content only) of each upstream result; ``execute`` removes the old stamp,
runs the stage and writes the new stamp last, with the result; ``is_current`` compares the
signature and checks that the result is undamaged. A result that comes out the same stops
the cascade (early cutoff).
"""
from __future__ import annotations

import dataclasses
import sys
import types
import typing
from dataclasses import dataclass, field
from functools import cache, cached_property
from pathlib import Path
from typing import Any, Callable, ClassVar, Iterator, Mapping, TypeVar

from doit.exceptions import TaskFailed

from .. import sharedcache as shared
from ..errors import CondoitError
from ..fsutil import file_version, stat_fingerprint
from ..model import Frozen, Recipe
from ..paths import STACK_DIRNAME, Layout
from ..plan import Plan
from ..settings import Settings
from ..signatures import locations, portable
from ..stack import Stack
from ..source_render import with_source
from ..runlog import RunClock, append_run
from ..stamp_index import StampIndex
from ..stamps import flat_parts, read_stamp, remove_stamp, signature, write_stamp

RECIPE, SOURCE, STACK = "recipe", "source", "stack"


# -- results ---------------------------------------------------------------------------------------

def location(**kwargs: Any) -> Any:
    """A Result field that says *where* something is (a path of this cache): it is kept in the
    stamp, but left out of the fingerprint that dependents hash (signatures hold no paths)."""
    return field(metadata={"location": True}, **kwargs)


R = TypeVar("R", bound="Result")


@dataclass(frozen=True)
class Result:
    """Base of every stage's result: a frozen dataclass of strings, numbers, tuples, ``Frozen``
    maps and nested frozen dataclasses, with one JSON form (``to_json``/``from_json``)."""

    def to_json(self) -> dict[str, Any]:
        return _encode(self, locations=True)

    @classmethod
    def from_json(cls: type[R], data: Mapping[str, Any]) -> R:
        return _decode(cls, data)

    def fingerprint(self) -> Any:
        """What dependents' signatures hash: the JSON form without location fields."""
        return _encode(self, locations=False)


_PLAIN = frozenset({str, int, float, bool, type(None)})


def _encode(value: Any, locations: bool) -> Any:
    kind = type(value)
    if kind in _PLAIN:          # the common cases first, by exact type: every no-op run encodes
        return value            # the fingerprint of every result (file lists of thousands)
    if kind is tuple or kind is list:
        return [v if type(v) in _PLAIN else _encode(v, locations) for v in value]
    fields = _dataclass_fields(kind)
    if fields is not None:
        return {name: _encode(getattr(value, name), locations) for name, is_location in fields
                if locations or not is_location}
    if isinstance(value, (str, int, float)):
        return value
    if isinstance(value, (list, tuple)):
        return [_encode(v, locations) for v in value]
    if isinstance(value, Mapping):
        return {str(k): _encode(v, locations) for k, v in value.items()}
    if isinstance(value, Path):
        return str(value)
    return value


@cache
def _dataclass_fields(kind: type) -> tuple[tuple[str, bool], ...] | None:
    """(name, is a location) of each field of a dataclass type (a fact of the code), else None."""
    if not dataclasses.is_dataclass(kind) or issubclass(kind, Mapping):
        return None
    return tuple((f.name, bool(f.metadata.get("location"))) for f in dataclasses.fields(kind))


def _decode(tp: Any, data: Any) -> Any:
    return _converter(tp)(data)


def _same(value: Any) -> Any:
    return value


def _sequence(value: Any) -> tuple:
    if not isinstance(value, (list, tuple)):
        raise TypeError(f"expected a list, got {type(value).__name__}")
    return tuple(value)


@cache
def _converter(tp: Any) -> Callable[[Any], Any]:
    """JSON -> value of type ``tp``; built once per type (a fact of the code), so reading the
    stamps of a no-op run costs little."""
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if isinstance(tp, type) and dataclasses.is_dataclass(tp):
        hints = typing.get_type_hints(tp)
        fields = [(f.name, _converter(hints[f.name])) for f in dataclasses.fields(tp) if f.init]

        def make(data: Any) -> Any:
            if type(data) is not dict and not isinstance(data, Mapping):   # JSON gives dicts
                raise TypeError(f"{tp.__name__}: expected an object, got {type(data).__name__}")
            return tp(**{name: convert(data[name]) for name, convert in fields if name in data})
        return make
    if origin in (typing.Union, types.UnionType):
        inner = _converter(next(a for a in args if a is not type(None)))
        return lambda value: None if value is None else inner(value)
    if origin is tuple:
        inner = _converter(args[0])
        if inner is _same:
            return _sequence
        return lambda value: tuple(inner(v) for v in _sequence(value))
    if tp is Frozen or origin is Mapping:
        return Frozen
    if tp is dict or origin is dict:
        return dict
    if tp is Path:
        return Path
    return _same


# -- references and inputs -------------------------------------------------------------------------

@dataclass(frozen=True, order=True)
class Ref:
    """One job of the graph: a stage of a recipe for a platform.

    ``platform`` is "" for SOURCE stages (shared by every platform); ``recipe`` and
    ``platform`` are "" for STACK stages.
    """

    stage: str
    recipe: str = ""
    platform: str = ""

    def __str__(self) -> str:
        text = f"{self.stage}:{self.recipe}" if self.recipe else self.stage
        return f"{text}@{self.platform}" if self.platform else text

    def task(self, target: str) -> str:
        """doit's task name: ``stage:recipe``, ``stage:recipe@platform`` off the target, ``stage``."""
        if not self.recipe:
            return self.stage
        suffix = f"@{self.platform}" if self.platform and self.platform != target else ""
        return f"{self.stage}:{self.recipe}{suffix}"


class UndeclaredInput(CondoitError):
    """A stage asked for a result it did not declare as upstream (its signature would miss it)."""


class Inputs:
    """The results of the upstream stages one job declared, and nothing else."""

    def __init__(self, owner: Ref, results: Mapping[Ref, Result]):
        self.owner = owner
        self._results = dict(results)

    def __getitem__(self, ref: Ref) -> Result:
        try:
            return self._results[ref]
        except KeyError:
            raise UndeclaredInput(f"stage {self.owner} read {ref}, which it does not declare upstream; "
                                  f"it declares: {', '.join(map(str, self._results)) or 'nothing'}") from None

    def get(self, stage: str, recipe: str | None = None, platform: str | None = None) -> Any:
        """The declared result of ``stage`` (of this job's recipe and platform by default)."""
        recipe = self.owner.recipe if recipe is None else recipe
        platform = self.owner.platform if platform is None else platform
        for candidate in (Ref(stage, recipe, platform), Ref(stage, recipe, "")):
            if candidate in self._results:
                return self._results[candidate]
        return self[Ref(stage, recipe, platform)]

    def all(self, stage: str) -> Iterator[tuple[Ref, Any]]:
        """Every declared result of ``stage`` (a STACK stage reads the whole channel)."""
        return ((ref, r) for ref, r in self._results.items() if ref.stage == stage)

    def __iter__(self) -> Iterator[Ref]:
        return iter(self._results)


# -- the context a job runs in ---------------------------------------------------------------------

@dataclass(frozen=True)
class Context:
    """What a job gets besides its recipe and inputs: the settings and the stack of the
    platform it builds for, the plan (which recipe is built for which platform), and the
    stage registry. ``platform`` is "" for SOURCE and STACK jobs (then ``settings`` and
    ``stack`` are the target's). Plain data: it is pickled into doit's worker processes."""

    settings: Settings
    stack: Stack
    plan: Plan
    stages: Mapping[str, "Stage"]
    platform: str = ""
    # per-run memo of parsed files (repodata), explicit instead of module-level caches
    memo: dict = field(default_factory=dict, compare=False, repr=False)
    # per-run memo of what is the same for every platform (stamps read, their paths, results'
    # fingerprints): an Engine gives all its contexts one, so a source stage's stamp is read once
    shared: dict = field(default_factory=dict, compare=False, repr=False)

    @cached_property
    def layout(self) -> Layout:
        return Layout(self.settings.cache_dir, self.platform)

    def ref(self, stage: str, recipe: str = "", platform: str | None = None) -> Ref:
        """The Ref of ``stage`` for ``recipe`` on ``platform`` (this job's by default)."""
        scope = self.stages[stage].scope
        if scope == STACK:
            return Ref(stage)
        if scope == SOURCE:
            return Ref(stage, recipe)
        return Ref(stage, recipe, platform or self.platform or self.settings.target_platform)

    def stamp_path(self, ref: Ref) -> Path:
        # asked several times per job and per dependent on every run: made once per run
        paths = self.shared.setdefault("stamp_path", {})
        path = paths.get(ref)
        if path is None:
            path = paths[ref] = Layout(self.settings.cache_dir, ref.platform).stamp(ref.recipe or STACK_DIRNAME,
                                                                                    ref.stage)
        return path


class Stage:
    """Base of every stage. Subclasses set ``name``/``doc``/``result`` and override the hooks.

    For a STACK stage the hooks get ``recipe=None``.
    """

    name: ClassVar[str] = ""
    doc: ClassVar[str] = ""
    scope: ClassVar[str] = RECIPE
    result: ClassVar[type[Result]] = Result
    # Bump when a stage's code changes what it produces: its stamps become stale.
    version: ClassVar[int] = 1

    def upstream(self, recipe: Recipe | None, ctx: Context) -> list[Ref]:
        """Refs of the results this stage reads (``ctx.ref(stage, recipe)``)."""
        return []

    def inputs(self, recipe: Recipe | None, ctx: Context) -> Any:
        """Plain data of every non-upstream input (recipe sections, file digests, tools)."""
        return None

    def run(self, recipe: Recipe | None, ctx: Context, inputs: Inputs) -> Result:
        """Do the work; return the result (its fingerprint: content only, no times)."""
        raise NotImplementedError

    def output_paths(self, recipe: Recipe | None, ctx: Context, result: Any) -> list[Path | str]:
        """Files and trees the stamp vouches for. Their names, sizes and mtimes are recorded
        when the stage finishes; any difference later means the result was damaged."""
        return []

    def damage(self, recipe: Recipe | None, ctx: Context, result: Any, inputs: Inputs) -> str | None:
        """Why a finished result can no longer be trusted (a check of the stage's own), or None."""
        return None

    def clean(self, recipe: Recipe | None, ctx: Context) -> None:
        """Remove this stage's outputs (``doit clean``)."""

    def is_enabled(self, recipe: Recipe | None, ctx: Context) -> bool:
        return True


# -- the template ------------------------------------------------------------------------------------

def _recipe(ref: Ref, ctx: Context) -> Recipe | None:
    """The job's recipe; a recipe stage of one whose render needs its source gets the render
    made with its patched tree (tasks/source_render.py)."""
    if not ref.recipe:
        return None
    recipe = ctx.stack.recipe(ref.recipe)
    if not (ref.platform and recipe.needs_source):
        return recipe
    return with_source(recipe, ctx, read_result(ctx.ref("patch", recipe.name), ctx))


def _finished(ref: Ref, ctx: Context) -> tuple[dict[str, Any], Result] | None:
    """(stamp, result) of a finished job, or None (no stamp, or one this code cannot read).
    Kept in the run's memo while the stamp file is unchanged: a stamp is read once per run,
    though its job and each dependent look at it."""
    path = ctx.stamp_path(ref)
    version = file_version(path)
    if version is None:
        return None
    memo = ctx.shared.setdefault("stamp", {})
    known = memo.get(ref)
    if known is not None and known[0] == version:
        return known[1]
    index = stamp_index(ctx)
    entry = index.get(path, version)
    if entry is None:
        stamp = read_stamp(path)
        if stamp is not None and "result" in stamp:
            entry = _checked(stamp), stamp["result"]
            index.put(path, version, *entry)
    found = None
    if entry is not None:
        try:
            found = entry[0], ctx.stages[ref.stage].result.from_json(entry[1])
        except (KeyError, TypeError, ValueError, StopIteration):
            found = None
    memo[ref] = (version, found)
    return found


def stamp_index(ctx: Context) -> StampIndex:
    """The run's index of stamps (tasks/stamp_index.py), read once; the engine saves it."""
    index = ctx.shared.get("index")
    if index is None:
        index = ctx.shared["index"] = StampIndex.load(Layout(ctx.settings.cache_dir).stamp_index)
    return index


def _checked(stamp: dict[str, Any]) -> dict[str, Any]:
    """What a run keeps of a stamp for its checks: the signature, the files' check and how it
    was made (a shared restore); the rest (the inputs it names: a few kB a job) is read again
    only to explain a job that runs, so a no-op run of a big stack holds little."""
    kept = {k: stamp[k] for k in ("format", "signature", "check") if k in stamp}
    if isinstance(stamp.get("run"), dict) and "shared" in stamp["run"]:
        kept["run"] = {"shared": stamp["run"]["shared"]}
    return kept


def read_result(ref: Ref, ctx: Context) -> Result | None:
    """The finished result of ``ref``, or None (no stamp, or one this code cannot read)."""
    found = _finished(ref, ctx)
    return None if found is None else found[1]


def load_inputs(stage: Stage, ref: Ref, ctx: Context) -> Inputs | None:
    """The job's declared upstream results, or None while one of them is unfinished."""
    results: dict[Ref, Result] = {}
    for up in stage.upstream(_recipe(ref, ctx), ctx):
        result = read_result(up, ctx)
        if result is None:
            return None
        results[up] = result
    return Inputs(ref, results)


def signature_parts(stage: Stage, ref: Ref, ctx: Context, inputs: Inputs) -> dict[str, Any]:
    """What the job's signature hashes (plain data).

    Content only (tasks/signatures.py): paths of the checkout and the cache are written as
    symbolic names, and no machine fact but the platforms is part of it.
    """
    recipe = _recipe(ref, ctx)
    return {
        "stage": stage.name,
        "stage_version": stage.version,
        "settings": ctx.settings.cache_key() if ref.platform else {},
        # portable: the same recipe in another checkout or cache gets the same signature
        "inputs": portable(stage.inputs(recipe, ctx), _places(recipe, ctx)),
        # fingerprints hold content only already (no location fields)
        "upstream": {str(up): _fingerprint(inputs[up], ctx) for up in inputs},
    }


def _places(recipe: Recipe | None, ctx: Context) -> tuple[tuple[str, str], ...]:
    """``signatures.locations`` of a recipe's jobs on this context's platform, found once per run."""
    known = ctx.memo.setdefault("places", {})
    key = None if recipe is None else recipe.recipe_dir
    found = known.get(key)
    if found is None:
        found = known[key] = locations(recipe, ctx.settings)
    return found


def _fingerprint(result: Result, ctx: Context) -> Any:
    """``result.fingerprint()``, once per result per run: a result is upstream of several jobs
    (the memo holds the result too, so its id stays its own)."""
    known = ctx.shared.setdefault("fingerprint", {})
    found = known.get(id(result))
    if found is None or found[0] is not result:
        found = known[id(result)] = (result, result.fingerprint())
    return found[1]


def stage_signature(stage: Stage, ref: Ref, ctx: Context, inputs: Inputs | None = None) -> str | None:
    """Signature of the job's inputs now, or None while an upstream stage is unfinished."""
    if inputs is None:
        inputs = load_inputs(stage, ref, ctx)
    if inputs is None:
        return None
    return signature(signature_parts(stage, ref, ctx, inputs))


def recorded_inputs(parts: Mapping[str, Any]) -> dict[str, Any]:
    """The flat record of ``parts`` a stamp keeps (``doit explain`` compares two of them):
    each upstream result as the digest of its fingerprint, the rest part by part."""
    flat = flat_parts({k: v for k, v in parts.items() if k != "upstream"})
    flat.update({f"upstream.{up}": signature(fp)[:16] for up, fp in parts["upstream"].items()})
    return flat


def result_check(stage: Stage, ref: Ref, ctx: Context, result: Result) -> str:
    """The stat fingerprint of what the stage produced (recorded in its stamp)."""
    return stat_fingerprint(stage.output_paths(_recipe(ref, ctx), ctx, result))


def why_stale(stage: Stage, ref: Ref, ctx: Context) -> tuple[bool, list[str]] | None:
    """None when the job is current (its stamp matches the inputs and its result is
    undamaged); else (whether it had a stamp, why it runs: tasks/explain.py's lines)."""
    found = _finished(ref, ctx)
    if found is None:
        return False, ["never built (or its stamp was removed)"]
    stamp, result = found
    try:
        inputs = load_inputs(stage, ref, ctx)
        if inputs is None:
            waiting = [str(up) for up in stage.upstream(_recipe(ref, ctx), ctx) if read_result(up, ctx) is None]
            return True, [f"upstream {', '.join(waiting)} not finished"]
        parts = signature_parts(stage, ref, ctx, inputs)
        if signature(parts) != stamp.get("signature"):
            recorded = (read_stamp(ctx.stamp_path(ref)) or {}).get("inputs")
            if not recorded:
                return True, ["its inputs changed (its stamp, of an older condoit, names none)"]
            from ..explain import reasons
            return True, reasons(recorded, recorded_inputs(parts), stage.name, _recipe(ref, ctx),
                                 ctx.settings.target_platform)
        if result_check(stage, ref, ctx, result) != stamp.get("check"):
            damage: str | None = "its files were changed, added or removed since it finished"
        else:
            damage = stage.damage(_recipe(ref, ctx), ctx, result, inputs)
    except (CondoitError, KeyError, TypeError, ValueError) as exc:
        return True, [f"its inputs cannot be read now ({exc})"]
    return None if damage is None else (True, [damage])


def is_current(stage: Stage, ref: Ref, ctx: Context) -> bool:
    """doit ``uptodate`` check; a job that had a stamp says why it runs again (one line)."""
    stale = why_stale(stage, ref, ctx)
    if stale is None and (why := shared.record_stale(TEMPLATE, stage, ref, ctx)) is not None:
        stale = True, [why]   # restored without its files, which a dependent now needs
    if stale is None:
        return True
    had_stamp, why = stale
    if had_stamp:
        from ..explain import summary
        print(f"condoit: {ref.task(ctx.plan.target)} runs again: {summary(why)}", file=sys.stderr)
    return False


def execute(stage: Stage, ref: Ref, ctx: Context) -> TaskFailed | None:
    """doit action: run one job and write its stamp last (with the inputs it was made from and
    what the run cost); every run, failed or not, is appended to the run log (``doit report``)."""
    stamp_path = ctx.stamp_path(ref)
    recipe = _recipe(ref, ctx)
    task = ref.task(ctx.plan.target)
    clock = RunClock.start()
    try:
        inputs = load_inputs(stage, ref, ctx)
        if inputs is None:
            missing = [str(up) for up in stage.upstream(recipe, ctx) if read_result(up, ctx) is None]
            raise CondoitError(f"[{ref.recipe or 'stack'}] stage '{stage.name}' cannot start: "
                               f"unfinished upstream stage(s) {', '.join(missing)}")
        parts = signature_parts(stage, ref, ctx, inputs)
        remove_stamp(stamp_path)  # the old result is no longer vouched for
        sig = signature(parts)
        got = shared.obtain(TEMPLATE, stage, ref, ctx, recipe, inputs, sig)  # restored, made on a worker, or run here
        result = got.result
        run = clock.stop(task)
        write_stamp(stamp_path, sig, result.to_json(), result_check(stage, ref, ctx, result),
                    inputs=recorded_inputs(parts), run={**run.to_json(), **got.note})
        shared.publish(stage, ref, ctx, recipe, sig, got)
    except CondoitError as exc:
        append_run(ctx.layout.run_log, clock.stop(task, ok=False))
        return TaskFailed(str(exc))
    append_run(ctx.layout.run_log, run)
    return None


# what the shared cache (tasks/sharedcache/) calls back: it cannot import this module
TEMPLATE = shared.Template(_finished, _recipe, read_result, signature_parts, Inputs, load_inputs, execute)


def clean(stage: Stage, ref: Ref, ctx: Context) -> None:
    remove_stamp(ctx.stamp_path(ref))
    stage.clean(_recipe(ref, ctx), ctx)
