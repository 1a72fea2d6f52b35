"""One condoit run as one object: settings -> stacks -> plan -> contexts -> jobs.

``Engine(settings)`` holds everything a run shares, explicitly: the settings, the stack
rendered for each platform the plan needs (the target's; the build machine's only when a
cross build needs a recipe of the stack as a build tool), the ``Plan``, one ``Context`` per
platform, and the cache lock once it is taken. Nothing happens when it is made: the first
``open()`` (doit's first task generator) renders and, for commands that write, takes the
lock. doit's side (task dicts, ``dodo.py``) is tasks/taskgen.py.

A job is one stage of one recipe for one platform (``Ref``); ``jobs(stage)`` lists a
stage's jobs, and ``execute``/``is_current``/``clean``/``signature`` run one through the
template of tasks/stages/base.py, which is what doit calls too.
"""
from __future__ import annotations

import atexit
import os
import sys
from dataclasses import replace
from functools import cached_property
from typing import Iterator, Mapping

from doit.exceptions import TaskFailed

from .errors import LockBusy
from .locking import hold_cache_lock, unusable_cache
from .model import Recipe
from .paths import Layout
from .plan import Plan, make_plan
from .recovery import sweep_partial_packages
from .render.stack_memo import cached_stack
from .runlog import compact as compact_run_log
from .settings import Settings
from .stack import Stack
from .stages import STAGES
from .stages import base
from .stages.base import SOURCE, STACK, Context, Ref, Stage


class Engine:
    """The state of one run, passed down explicitly (no module-level state, no import-time work)."""

    def __init__(self, settings: Settings, stack: Stack | None = None, *,
                 stages: Mapping[str, Stage] | None = None, writes: bool = False, verbose_skips: bool = False):
        self.settings = settings
        self.stages: dict[str, Stage] = dict(stages if stages is not None else STAGES)
        self.writes = writes                    # take the cache lock in open() (doit run, clean...)
        self.verbose_skips = verbose_skips      # say which recipes are skipped (doit list)
        self._stacks: dict[str, Stack] = {} if stack is None else {settings.target_platform: stack}
        self._contexts: dict[str, Context] = {}
        self._shared: dict = {}                 # Context.shared of every platform's context
        self._lock: int | None = None
        self._opened = False

    # -- what the run builds ---------------------------------------------------------------------
    @property
    def target(self) -> str:
        return self.settings.target_platform

    @cached_property
    def layout(self) -> Layout:
        return Layout.of(self.settings)

    def settings_for(self, platform: str) -> Settings:
        """The settings of a build for ``platform`` ("" or the target: the run's own).

        A package built for the build machine only runs there: ``max_glibc`` is the target's."""
        if platform in ("", self.target):
            return self.settings
        return replace(self.settings, target_platform=platform, max_glibc="")

    def stack_for(self, platform: str) -> Stack:
        """The stack rendered for ``platform`` (selectors, skips and variants of that platform); the
        last call's while nothing its render read has changed (tasks/render/stack_memo.py)."""
        platform = platform or self.target
        if platform not in self._stacks:
            self._stacks[platform] = cached_stack(self.settings_for(platform))
        return self._stacks[platform]

    def rendered_settings(self) -> tuple[Settings, ...]:
        """The settings of every platform this run has rendered the stack for, the target's first."""
        return tuple(self.settings_for(p) for p in dict.fromkeys([self.target, *self._stacks]))

    @property
    def stack(self) -> Stack:
        return self.stack_for(self.target)

    @cached_property
    def plan(self) -> Plan:
        build = self.settings.build_platform
        return make_plan(self.stack, self.target, build, lambda: self.stack_for(build))

    def context(self, platform: str = "") -> Context:
        """What a job for ``platform`` gets ("" for shared source stages and stack stages)."""
        if platform not in self._contexts:
            self._contexts[platform] = Context(self.settings_for(platform), self.stack_for(platform), self.plan,
                                               self.stages, platform, shared=self._shared)
        return self._contexts[platform]

    def jobs(self, stage_name: str) -> Iterator[tuple[Ref, Context, Recipe | None]]:
        """Every enabled job of a stage: (ref, context, recipe), the target's first."""
        stage = self.stages[stage_name]
        if stage.scope == STACK:
            ctx = self.context("")
            if stage.is_enabled(None, ctx):
                yield Ref(stage.name), ctx, None
            return
        if stage.scope == SOURCE:
            ctx = self.context("")
            for name in dict.fromkeys(name for name, _ in self.plan.nodes):
                recipe = ctx.stack.recipe(name)
                if stage.is_enabled(recipe, ctx):
                    yield Ref(stage.name, name), ctx, recipe
            return
        for name, platform in self.plan.nodes:
            ctx = self.context(platform)
            recipe = ctx.stack.recipe(name)
            if stage.is_enabled(recipe, ctx):
                yield Ref(stage.name, name, platform), ctx, recipe

    # -- one job, as doit runs it (for tools and tests) -------------------------------------------
    def job(self, stage_name: str, recipe: str = "", platform: str | None = None) -> tuple[Stage, Ref, Context]:
        stage = self.stages[stage_name]
        ref = self.context("").ref(stage_name, recipe, platform or self.target)
        return stage, ref, self.context(ref.platform)

    def execute(self, stage: str, recipe: str = "", platform: str | None = None) -> TaskFailed | None:
        return base.execute(*self.job(stage, recipe, platform))

    def is_current(self, stage: str, recipe: str = "", platform: str | None = None) -> bool:
        return base.is_current(*self.job(stage, recipe, platform))

    def clean(self, stage: str, recipe: str = "", platform: str | None = None) -> None:
        base.clean(*self.job(stage, recipe, platform))

    def signature(self, stage: str, recipe: str = "", platform: str | None = None) -> str | None:
        return base.stage_signature(*self.job(stage, recipe, platform))

    # -- the run ---------------------------------------------------------------------------------
    def open(self) -> None:
        """Render the stack (say what is wrong or skipped) and, for a run that writes, take the
        cache lock and empty what a killed run left half-written. Once per engine."""
        if self._opened:
            return
        self._opened = True
        stack = self.stack
        if stack.warnings:          # leniencies: the recipes are built (strict=1 makes them problems)
            print(f"condoit: {len(stack.warnings)} warning(s) in the recipes under {self.settings.recipes_dir}:",
                  file=sys.stderr)
            for warning in stack.warnings:
                print(str(warning), file=sys.stderr)
        if stack.problems:
            print(f"condoit: {len(stack.problems)} problem(s) in the recipes under {self.settings.recipes_dir}:",
                  file=sys.stderr)
            for problem in stack.problems:
                print(str(problem), file=sys.stderr)
        if self.verbose_skips:
            for skipped in stack.skipped:
                print(f"condoit: {skipped.name} is skipped for {self.target} "
                      f"({skipped.reason}): {skipped.meta_path}", file=sys.stderr)
        if self.writes:
            try:
                self._lock = hold_cache_lock(self.layout.lock)
            except LockBusy as exc:
                print(f"condoit: {exc}", file=sys.stderr)
                raise SystemExit(3)
            except OSError as exc:      # the cache cannot be made or written where it is set
                print(unusable_cache(self.layout.cache, f"{exc.strerror} ({exc.filename})"), file=sys.stderr)
                raise SystemExit(2)
            sweep_partial_packages(self.layout)
            compact_run_log(self.layout.run_log)
            atexit.register(self._save_stamp_index, os.getpid())

    def _save_stamp_index(self, pid: int) -> None:
        """At the end of a run that holds the lock (not in a worker it forked): keep what it
        read of the stamps for the next run (tasks/stamp_index.py)."""
        index = self._shared.get("index")
        if index is not None and os.getpid() == pid and self._lock is not None:
            try:
                index.save()
            except OSError as exc:      # only a copy: the next run reads the stamps
                print(f"condoit: the stamp index was not saved ({exc})", file=sys.stderr)

    def __getstate__(self) -> dict:
        raise TypeError("an Engine is not sent to workers: jobs get their Context")
