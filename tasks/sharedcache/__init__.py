"""A stage cache shared by machines: results stored under their (portable) signatures.

The stage template (tasks/stages/base.py) asks this module for a job's result before it runs
the stage (``obtain``) and offers it the result after the stamp is written (``publish``):

- a stage of ``shared_stages`` is looked up by its signature; a hit restores its files
  (each verified by sha256; a bad entry is refused and the stage runs) and its result;
- ``compile`` and ``test`` are shared as their *result only* (``RECORD_ONLY``): a compile
  record is restored only when the package made from it can be restored too, so a machine
  with a warm shared cache compiles nothing and holds no build tree. Should that package
  have to be made here after all (an ``about:`` edit, a refused entry), the compile runs
  first (``record_stale``, ``_materialize``);
- with ``executor`` set, a shareable stage that misses runs on a Dask worker (tasks/remote.py),
  which publishes it; this side then restores it like any hit. Whatever fails on the way
  (a worker killed, the store gone, a full bucket) ends in one line and a local run.

Backends: tasks/sharedcache/localdir.py (a directory, NFS), tasks/sharedcache/s3.py (boto3).
"""
from __future__ import annotations

import contextvars
import sys
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

from ..errors import CondoitError
from ..signatures import locations, portable
from ..stamps import signature

if TYPE_CHECKING:   # .entry and .store are imported where used: a run without a shared cache needs neither
    from ..model import Recipe
    from ..settings import Settings
    from .store import Store
# The stage template's types (tasks/stages/base.py imports this package: no import back)
Stage = Ref = Context = Inputs = Result = Any

# Shared as their result only: their files stay on the machine that made them.
RECORD_ONLY = frozenset({"compile", "test"})
# Never shared: they describe this machine's channel.
NEVER_SHARED = frozenset({"index", "channel"})
# Stages a Dask worker runs when ``executor`` is set (the others are quick, or local by nature).
REMOTE_STAGES = frozenset({"compile", "test"})
# Set while a record-only upstream is made here because its files are needed: no restore then.
_LOCAL_ONLY: contextvars.ContextVar[bool] = contextvars.ContextVar("condoit_shared_local_only", default=False)


@dataclass(frozen=True)
class Template:
    """The parts of the stage template (tasks/stages/base.py) this module calls back; base.py
    hands them in (it imports this package, so this package cannot import it)."""

    finished: Callable[..., Any]        # (ref, ctx) -> (stamp, result) | None
    recipe: Callable[..., Any]          # (ref, ctx) -> the job's recipe
    read_result: Callable[..., Any]     # (ref, ctx) -> result | None
    signature_parts: Callable[..., Any]  # (stage, ref, ctx, inputs) -> plain data
    inputs: Callable[..., Any]          # Inputs(owner, results)
    load_inputs: Callable[..., Any]     # (stage, ref, ctx) -> Inputs | None
    execute: Callable[..., Any]         # (stage, ref, ctx) -> TaskFailed | None


@dataclass(frozen=True)
class Obtained:
    """A job's result and how it came: ``ran`` here, ``restored``, ``record`` (result only),
    or ``remote`` (made on a Dask worker, then restored)."""

    result: Any
    how: str = "ran"
    publish: bool = False

    @property
    def note(self) -> dict[str, str]:
        """What the stamp's ``run`` record says of it (``record`` stamps are checked by ``record_stale``)."""
        return {} if self.how == "ran" else {"shared": "record" if self.how in ("record", "remote-record") else self.how}


def shares(settings: "Settings", stage: str) -> bool:
    return bool(settings.shared_cache) and stage in settings.shared_stages and stage not in NEVER_SHARED


def open_store(url: str, base: Path) -> Store:
    """``s3://bucket/prefix`` (boto3: credentials and endpoint from the usual AWS_* variables or
    profile), ``file:///dir`` or a directory (relative to ``base``; an NFS mount works)."""
    from .store import StoreError
    if url.startswith("s3://"):
        from .s3 import S3Store
        bucket, _, prefix = url[len("s3://"):].partition("/")
        if not bucket:
            raise StoreError(f"shared_cache={url!r}: no bucket named (expected s3://bucket/prefix)")
        return S3Store(bucket, prefix.strip("/"))
    from .localdir import LocalDirStore
    path = Path(url[len("file://"):] if url.startswith("file://") else url)
    if "://" in url and not url.startswith("file://"):
        raise StoreError(f"shared_cache={url!r}: unknown scheme (use s3://bucket/prefix, file:///dir or a directory)")
    return LocalDirStore(path if path.is_absolute() else (base / path).resolve())


@lru_cache(maxsize=8)
def _open(url: str, base: str) -> Store:
    return open_store(url, Path(base))


def store_of(settings: "Settings") -> Store:
    return _open(settings.shared_cache, str(settings.root))


def _say(text: str) -> None:
    print(f"condoit: {text}", file=sys.stderr, flush=True)


def _size(n: int) -> str:
    return f"{n / 1e6:.1f} MB" if n >= 1e5 else f"{n / 1e3:.1f} kB"


# -- the hooks of the stage template ----------------------------------------------------------------

def obtain(t: Template, stage: "Stage", ref: "Ref", ctx: "Context", recipe: "Recipe | None", inputs: "Inputs",
           sig: str) -> Obtained:
    """The job's result: restored from the shared cache, made on a Dask worker, or made here."""
    settings = ctx.settings
    task = ref.task(ctx.plan.target)
    if not (settings.shared_cache or settings.executor) or _LOCAL_ONLY.get():
        return Obtained(stage.run(recipe, ctx, inputs), publish=shares(settings, stage.name) and settings.shared_write)
    if settings.executor and not settings.shared_cache:
        raise CondoitError(f"executor={settings.executor} needs shared_cache=...: workers hand results back "
                           f"through it (README, 'Beyond one machine')")
    shared = shares(settings, stage.name)
    if shared:
        got = _restore(t, stage, ref, ctx, recipe, inputs, sig)
        if got is not None:
            return got
    if shared and settings.executor and stage.name in REMOTE_STAGES:
        got = _remote(t, stage, ref, ctx, recipe, inputs, sig, task)
        if got is not None:
            return got
    inputs = _materialize(t, stage, ref, ctx, recipe, inputs)
    return Obtained(stage.run(recipe, ctx, inputs), publish=shared and settings.shared_write)


def publish(stage: "Stage", ref: "Ref", ctx: "Context", recipe: "Recipe | None", sig: str, got: Obtained) -> None:
    """Store a result made here under its signature (blobs first, the manifest last). A store
    that fails costs only the sharing: the line says why, and the build goes on."""
    if not got.publish:
        return
    from .entry import Entry, scan
    from .entry import publish as publish_entry
    from .store import StoreError
    settings = ctx.settings
    task = ref.task(ctx.plan.target)
    record_only = stage.name in RECORD_ONLY
    cache = settings.cache_dir.resolve()
    outputs = [] if record_only else [Path(p).resolve() for p in _outputs(stage, recipe, ctx, got.result)]
    outside = [str(p) for p in outputs if cache not in p.parents]
    if outside:
        _say(f"{task} not shared: {outside[0]} is outside the cache")
        return
    rels, files, blobs = scan(cache, outputs)
    result = portable(got.result.to_json(), locations(recipe, settings))
    entry = Entry(stage.name, sig, result, rels, files, record_only)
    try:
        publish_entry(store_of(settings), entry, blobs)
    except StoreError as exc:
        _say(f"{task} not shared: {exc}; the build goes on (nothing half-written is visible)")


def record_stale(t: Template, stage: "Stage", ref: "Ref", ctx: "Context") -> str | None:
    """Why a job restored as a result only must run after all (a dependent needs its files and
    cannot be restored), or None. Only stamps of ``record`` restores are looked at."""
    found = t.finished(ref, ctx)
    if found is None or found[0].get("run", {}).get("shared") != "record":
        return None
    stamp, result = found
    if not stage.output_paths(t.recipe(ref, ctx), ctx, result):
        return None
    missing = _dependents_missing(t, stage, ref, ctx, result)
    return None if missing is None else f"it was restored from the shared cache without its files, and {missing}"


# -- the parts ---------------------------------------------------------------------------------------

def _outputs(stage: "Stage", recipe: "Recipe | None", ctx: "Context", result: "Result") -> list[Path]:
    """The files a shared entry of ``stage`` carries: what its stamp vouches for; for
    ``package``, the archives in the channel (its stamp checks them by sha256 instead)."""
    if stage.name == "package":
        return [ctx.layout.channel_subdir(p.subdir) / p.archive for p in result.packages]
    return [Path(p) for p in stage.output_paths(recipe, ctx, result)]


def localized(data: Any, recipe: "Recipe | None", settings: "Settings") -> Any:
    """The inverse of ``portable``: ``$CACHE``... written as this run's paths."""
    names: dict[str, str] = {}
    for path, name in locations(recipe, settings):
        names.setdefault(name, path)
    import re
    pattern = re.compile(r"\$(RECIPE_DIR|RECIPES|ROOT|CACHE)(?![\w])")

    def walk(value: Any) -> Any:
        if isinstance(value, str):
            return pattern.sub(lambda m: names.get(m.group(0), m.group(0)), value) if "$" in value else value
        if isinstance(value, dict):
            return {k: walk(v) for k, v in value.items()}
        if isinstance(value, list):
            return [walk(v) for v in value]
        return value

    return walk(data)


def _restore(t: Template, stage: "Stage", ref: "Ref", ctx: "Context", recipe: "Recipe | None", inputs: "Inputs",
             sig: str, how: str = "restored") -> Obtained | None:
    """The job's entry restored and verified, or None (a miss, a refused entry, a failing store:
    the line says which and the stage runs)."""
    from .entry import Entry, Refused, entry_key, restore
    from .store import StoreError
    settings = ctx.settings
    task = ref.task(ctx.plan.target)
    try:
        store = store_of(settings)
        blob = store.read(entry_key(stage.name, sig))
        if blob is None:
            return None
        entry = Entry.from_bytes(blob)
        if entry.stage != stage.name or entry.signature != sig:
            raise Refused(f"it names {entry.stage} {entry.signature[:12]}...")
        result = stage.result.from_json(localized(entry.result, recipe, settings))
        if entry.record_only:
            missing = _dependents_missing(t, stage, ref, ctx, result)
            if missing is not None:
                return None
            _say(f"{task} restored from the shared cache (its result only)")
            return Obtained(result, "record" if how == "restored" else "remote-record")
        restore(store, entry, settings.cache_dir, ctx.layout.tmp / "shared")
        damage = stage.damage(recipe, ctx, result, inputs)
        if damage:
            raise Refused(damage)
        if stage.name == "package":
            _drop_older_builds(ctx, result)
        _say(f"{task} restored from the shared cache ({len(entry.files)} file(s), {_size(entry.size)})")
        return Obtained(result, how)
    except Refused as exc:
        _say(f"{task}: the shared cache's entry is refused ({exc}); running it here")
    except (StoreError, TypeError, ValueError, KeyError) as exc:
        _say(f"{task}: the shared cache cannot be used ({exc}); running it here")
    return None


def _drop_older_builds(ctx: "Context", result: Any) -> None:
    """A restored package replaces the recipe's older builds in the channel, as a made one does."""
    from ..condapkg import remove_older_builds
    for p in result.packages:
        remove_older_builds(ctx.layout.channel_subdir(p.subdir), p.name, p.archive)


def _dependents_missing(t: Template, stage: "Stage", ref: "Ref", ctx: "Context", result: "Result") -> str | None:
    """None when every stage that reads ``ref``'s result is current here or in the shared
    cache, given ``result``; else which one is not."""
    from .entry import entry_key
    from .store import StoreError
    settings = ctx.settings
    for dep in ctx.stages.values():
        if dep.scope != stage.scope or dep.name == stage.name:
            continue
        dref = ctx.ref(dep.name, ref.recipe, ref.platform or None)
        ups = dep.upstream(t.recipe(dref, ctx), ctx)
        if ref not in ups:
            continue
        task = dref.task(ctx.plan.target)
        results = {}
        for up in ups:
            results[up] = result if up == ref else t.read_result(up, ctx)
            if results[up] is None:
                return f"{task} waits for {up}"
        dsig = signature(t.signature_parts(dep, dref, ctx, t.inputs(dref, results)))
        found = t.finished(dref, ctx)
        if found is not None and found[0].get("signature") == dsig:
            continue
        try:
            if shares(settings, dep.name) and store_of(settings).has(entry_key(dep.name, dsig)):
                continue
        except StoreError as exc:
            return f"the shared cache cannot tell whether it holds {task} ({exc})"
        return f"{task} is not in the shared cache"
    return None


def _materialize(t: Template, stage: "Stage", ref: "Ref", ctx: "Context", recipe: "Recipe | None", inputs: "Inputs") -> "Inputs":
    """Make here the upstream jobs that were restored without the files this job reads."""
    ran = False
    for up in stage.upstream(recipe, ctx):
        found = t.finished(up, ctx)
        if found is None or found[0].get("run", {}).get("shared") != "record":
            continue
        up_stage = ctx.stages[up.stage]
        if not up_stage.output_paths(t.recipe(up, ctx), ctx, found[1]):
            continue
        _say(f"{ref.task(ctx.plan.target)}: {up.task(ctx.plan.target)} was restored "
             f"without its files; running it here first")
        token = _LOCAL_ONLY.set(True)
        try:
            failed = t.execute(up_stage, up, ctx)
        finally:
            _LOCAL_ONLY.reset(token)
        if failed is not None:
            raise CondoitError(str(failed))
        ran = True
    return (t.load_inputs(stage, ref, ctx) or inputs) if ran else inputs


def _remote(t: Template, stage: "Stage", ref: "Ref", ctx: "Context", recipe: "Recipe | None", inputs: "Inputs",
            sig: str, task: str) -> Obtained | None:
    """Run the job on a Dask worker (with the dependents that carry its files, for a
    record-only stage), then restore what the worker published."""
    from ..remote import RemoteFailed, run_remote
    targets = [task]
    if stage.name in RECORD_ONLY:
        targets = _file_dependents(t, stage, ref, ctx) or targets
    try:
        took = run_remote(ctx.settings, targets)
    except RemoteFailed as exc:
        _say(f"{task}: not built on the cluster ({exc}); running it here")
        return None
    got = _restore(t, stage, ref, ctx, recipe, inputs, sig, how="remote")
    if got is None:
        _say(f"{task}: the worker finished in {took:.1f} s but its result is not in the shared cache; running it here")
    return got


def _file_dependents(t: Template, stage: "Stage", ref: "Ref", ctx: "Context") -> list[str]:
    """doit task names of the stages that read ``ref`` (a worker runs them to publish files)."""
    out = []
    for dep in ctx.stages.values():
        if dep.scope == stage.scope and dep.name != stage.name:
            dref = ctx.ref(dep.name, ref.recipe, ref.platform or None)
            if ref in dep.upstream(t.recipe(dref, ctx), ctx):
                out.append(dref.task(ctx.plan.target))
    return out
