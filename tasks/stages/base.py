"""The stage framework: a stage is a doit task per recipe, chained only through files.

Each stage says which upstream stamps it reads, which other inputs it depends on, how
to run, and how to clean. The framework turns that into doit task dicts whose
up-to-date check is the stamp's signature, so doit schedules and the stamps decide.
"""
from __future__ import annotations

import sys
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any, ClassVar

from doit.exceptions import TaskFailed

from ..errors import CondoitError
from ..fsutil import stat_fingerprint
from ..model import Recipe
from ..paths import SOURCE_STAGES, Layout
from ..settings import Settings
from ..signatures import locations, portable
from ..stack import Stack
from ..stamps import read_stamp, remove_stamp, signature, stamp_outputs, write_stamp


@dataclass(frozen=True)
class Context:
    """What every stage gets: the run's settings and the whole rendered stack."""

    settings: Settings
    stack: Stack

    @cached_property
    def layout(self) -> Layout:
        return Layout.of(self.settings)


class Stage:
    """Base of every stage. Subclasses set ``name``/``doc`` and override the hooks."""

    name: ClassVar[str] = ""
    doc: ClassVar[str] = ""
    # Bump when a stage's code changes what it produces: its stamps become stale.
    version: ClassVar[int] = 1

    def upstream(self, recipe: Recipe, ctx: Context) -> list[tuple[str, str]]:
        """(stage, recipe name) pairs whose finished stamps this stage reads."""
        return []

    def inputs(self, recipe: Recipe, ctx: Context) -> Any:
        """Plain data of every non-upstream input (recipe sections, file digests, tools)."""
        return None

    def run(self, recipe: Recipe, ctx: Context) -> dict[str, Any]:
        """Do the work; return output digests for the stamp (content only, no times)."""
        raise NotImplementedError

    def output_paths(self, recipe: Recipe, ctx: Context, outputs: dict[str, Any]) -> list[Path]:
        """Files and trees the stamp vouches for. Their names, sizes and mtimes are recorded
        when the stage finishes; any difference later means the result was damaged."""
        return []

    def damage(self, recipe: Recipe, ctx: Context, outputs: dict[str, Any]) -> str | None:
        """Why a finished result can no longer be trusted (a check of the stage's own), or None."""
        return None

    def clean(self, recipe: Recipe, ctx: Context) -> None:
        """Remove this stage's outputs (``doit clean``)."""

    def is_enabled(self, recipe: Recipe, ctx: Context) -> bool:
        return True


def stage_signature(stage: Stage, recipe: Recipe, ctx: Context) -> str | None:
    """Signature of the stage's inputs now, or None while an upstream stage is unfinished.

    Content only (tasks/signatures.py): paths of the checkout and the cache are written as
    symbolic names, and no machine fact but the platforms is part of it.
    """
    upstream: dict[str, Any] = {}
    for up_stage, up_name in stage.upstream(recipe, ctx):
        outputs = stamp_outputs(ctx.layout.stamp(up_name, up_stage))
        if outputs is None:
            return None
        upstream[f"{up_stage}:{up_name}"] = outputs
    # portable: the same recipe in another checkout or cache gets the same signature
    return signature(portable({
        "stage": stage.name,
        "stage_version": stage.version,
        "settings": {} if stage.name in SOURCE_STAGES else ctx.settings.cache_key(),
        "inputs": stage.inputs(recipe, ctx),
        "upstream": upstream,
    }, locations(recipe, ctx.settings)))


def result_check(stage: Stage, recipe: Recipe, ctx: Context, outputs: dict[str, Any]) -> str:
    """The stat fingerprint of what the stage produced (recorded in its stamp)."""
    return stat_fingerprint(stage.output_paths(recipe, ctx, outputs))


def damage_found(stage: Stage, recipe: Recipe, ctx: Context, stamp: dict[str, Any]) -> str | None:
    """Why a stamped result is damaged (files changed since the stamp, a stage check), or None."""
    outputs = stamp.get("outputs", {})
    if result_check(stage, recipe, ctx, outputs) != stamp.get("check"):
        return "its files were changed, added or removed since it finished"
    return stage.damage(recipe, ctx, outputs)


def is_current(stage: Stage, recipe_name: str, ctx: Context) -> bool:
    """doit ``uptodate`` check: the stamp matches the inputs and its result is undamaged."""
    recipe = ctx.stack.recipe(recipe_name)
    stamp = read_stamp(ctx.layout.stamp(recipe.name, stage.name))
    if stamp is None:
        return False
    try:
        sig = stage_signature(stage, recipe, ctx)
    except CondoitError:
        return False
    if sig != stamp.get("signature"):
        return False
    damage = damage_found(stage, recipe, ctx, stamp)
    if damage is not None:
        print(f"condoit: {stage.name}:{recipe.name} runs again: {damage}", file=sys.stderr)
        return False
    return True


def execute(stage: Stage, recipe_name: str, ctx: Context) -> TaskFailed | None:
    """doit action: run one stage of one recipe and write its stamp last."""
    recipe = ctx.stack.recipe(recipe_name)
    stamp_path = ctx.layout.stamp(recipe.name, stage.name)
    try:
        sig = stage_signature(stage, recipe, ctx)
        if sig is None:
            missing = [f"{s}:{n}" for s, n in stage.upstream(recipe, ctx)
                       if read_stamp(ctx.layout.stamp(n, s)) is None]
            raise CondoitError(f"[{recipe.name}] stage '{stage.name}' cannot start: "
                               f"unfinished upstream stage(s) {', '.join(missing)}")
        remove_stamp(stamp_path)  # the old result is no longer vouched for
        outputs = stage.run(recipe, ctx)
        write_stamp(stamp_path, sig, outputs, result_check(stage, recipe, ctx, outputs))
    except CondoitError as exc:
        return TaskFailed(str(exc))
    return None


def clean(stage: Stage, recipe_name: str, ctx: Context) -> None:
    recipe = ctx.stack.recipe(recipe_name)
    remove_stamp(ctx.layout.stamp(recipe.name, stage.name))
    stage.clean(recipe, ctx)


def task_dict(stage: Stage, recipe: Recipe, ctx: Context) -> dict[str, Any]:
    """The doit task of one stage of one recipe (plain data; picklable actions)."""
    return {
        "name": recipe.name,
        "doc": f"{stage.doc} ({recipe.name} {recipe.version})",
        "actions": [(execute, [stage, recipe.name, ctx])],
        "uptodate": [(is_current, [stage, recipe.name, ctx])],
        "task_dep": [f"{s}:{n}" for s, n in stage.upstream(recipe, ctx)],
        "targets": [str(ctx.layout.stamp(recipe.name, stage.name))],
        "clean": [(clean, [stage, recipe.name, ctx])],
    }
