"""The stage framework: a stage is a doit task per recipe, chained only through files.

Each stage says which upstream stamps it reads, which other inputs it depends on, how
to run, and how to clean. The framework turns that into doit task dicts whose
up-to-date check is the stamp's signature, so doit schedules and the stamps decide.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Any, ClassVar

from doit.exceptions import TaskFailed

from ..errors import CondoitError
from ..model import Recipe
from ..paths import SOURCE_STAGES, Layout
from ..settings import Settings
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

    def outputs_present(self, recipe: Recipe, ctx: Context, outputs: dict[str, Any]) -> bool:
        """Whether the outputs a stamp describes are still on disk."""
        return True

    def clean(self, recipe: Recipe, ctx: Context) -> None:
        """Remove this stage's outputs (``doit clean``)."""

    def is_enabled(self, recipe: Recipe, ctx: Context) -> bool:
        return True


def stage_signature(stage: Stage, recipe: Recipe, ctx: Context) -> str | None:
    """Signature of the stage's inputs now, or None while an upstream stage is unfinished."""
    upstream: dict[str, Any] = {}
    for up_stage, up_name in stage.upstream(recipe, ctx):
        outputs = stamp_outputs(ctx.layout.stamp(up_name, up_stage))
        if outputs is None:
            return None
        upstream[f"{up_stage}:{up_name}"] = outputs
    return signature({
        "stage": stage.name,
        "stage_version": stage.version,
        "settings": {} if stage.name in SOURCE_STAGES else ctx.settings.cache_key(),
        "inputs": stage.inputs(recipe, ctx),
        "upstream": upstream,
    })


def is_current(stage_name: str, recipe_name: str, ctx: Context) -> bool:
    """doit ``uptodate`` check: the stamp matches the inputs and its outputs exist."""
    from . import STAGES
    stage = STAGES[stage_name]
    recipe = ctx.stack.recipe(recipe_name)
    stamp = read_stamp(ctx.layout.stamp(recipe.name, stage.name))
    if stamp is None:
        return False
    try:
        sig = stage_signature(stage, recipe, ctx)
    except CondoitError:
        return False
    return sig == stamp.get("signature") and stage.outputs_present(recipe, ctx, stamp.get("outputs", {}))


def execute(stage_name: str, recipe_name: str, ctx: Context) -> TaskFailed | None:
    """doit action: run one stage of one recipe and write its stamp last."""
    from . import STAGES
    stage = STAGES[stage_name]
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
        write_stamp(stamp_path, sig, outputs)
    except CondoitError as exc:
        return TaskFailed(str(exc))
    return None


def clean(stage_name: str, recipe_name: str, ctx: Context) -> None:
    from . import STAGES
    stage = STAGES[stage_name]
    recipe = ctx.stack.recipe(recipe_name)
    remove_stamp(ctx.layout.stamp(recipe.name, stage.name))
    stage.clean(recipe, ctx)


def task_dict(stage: Stage, recipe: Recipe, ctx: Context) -> dict[str, Any]:
    """The doit task of one stage of one recipe (plain data; picklable actions)."""
    return {
        "name": recipe.name,
        "doc": f"{stage.doc} ({recipe.name} {recipe.version})",
        "actions": [(execute, [stage.name, recipe.name, ctx])],
        "uptodate": [(is_current, [stage.name, recipe.name, ctx])],
        "task_dep": [f"{s}:{n}" for s, n in stage.upstream(recipe, ctx)],
        "targets": [str(ctx.layout.stamp(recipe.name, stage.name))],
        "clean": [(clean, [stage.name, recipe.name, ctx])],
    }
