"""Which recipe is built for which platform, and what each build installs before build.sh runs.

The target platform builds every recipe of the stack. A cross build (target != build
platform) whose ``requirements/build`` names a package the stack provides needs that package
*runnable on the build machine*: its recipe is built for the build platform as well, with
what that build needs in turn and the run requirements of what is installed, transitively.
A noarch recipe is built once (for the target) and serves both platforms. A cross build
with ``python`` in ``host`` also needs the build machine's python (its ``$PYTHON``, which
builds for the target: tasks/crosspython.py), listed in ``build`` or not: a noarch: python
recipe is thus built by the build machine's python, never an emulated one. A native build's
build requirements are the target's own packages, as before.

A node is ``(recipe name, platform)``; ``needs[node]`` lists the nodes whose packages the
node's compile stage installs (host prefix and build prefix), so it must come after their
index stage. Plain data: pickled with the contexts into doit's workers.
"""
from __future__ import annotations

from functools import cached_property
from dataclasses import dataclass, field
from typing import Callable, Mapping

from .model import Recipe, spec_name
from .stack import Stack

Node = tuple[str, str]          # (recipe name, platform)


@dataclass(frozen=True)
class Plan:
    target: str
    build: str
    nodes: tuple[Node, ...] = ()                              # every node, the target's first
    needs: Mapping[Node, tuple[Node, ...]] = field(default_factory=dict)
    missing: Mapping[Node, tuple[str, ...]] = field(default_factory=dict)   # tools with no build-platform recipe

    @property
    def cross(self) -> bool:
        return self.target != self.build

    @cached_property
    def node_set(self) -> frozenset[Node]:
        """``nodes`` for membership tests (built once: every recipe's test stage asks)."""
        return frozenset(self.nodes)

    def closure(self, node: Node) -> tuple[Node, ...]:
        """``node`` and every node it needs, transitively, dependencies first."""
        seen: dict[Node, None] = {}

        def visit(n: Node, path: frozenset[Node]) -> None:
            if n in seen or n in path:
                return
            for dep in self.needs.get(n, ()):
                visit(dep, path | {n})
            seen.setdefault(n, None)

        visit(node, frozenset())
        return tuple(seen)


def builds_with_itself(recipe: Recipe) -> bool:
    """``requirements/build`` names a package of the recipe itself (CPython's cross build needs
    a python of its own version on the build machine): not a cycle, its build-platform node."""
    own = {recipe.name, *(o.name for o in recipe.outputs)}
    return any(spec_name(s) in own for s in recipe.requirements.build)


def make_plan(stack: Stack, target: str, build: str, build_stack: Callable[[], Stack]) -> Plan:
    """The nodes of ``stack`` for ``target``, plus the build-platform nodes its cross builds need.

    ``build_stack`` renders the stack for the build platform; it is called only when a cross
    build needs a non-noarch recipe of the stack on the build machine.
    """
    needs: dict[Node, tuple[Node, ...]] = {}
    missing: dict[Node, list[str]] = {}
    extra: list[Node] = []                   # build-platform nodes, dependencies first
    rendered: list[Stack] = []

    def native_stack() -> Stack:
        if not rendered:
            rendered.append(build_stack())
        return rendered[0]

    def runnable(name: str, owner: Node, path: frozenset[str]) -> list[Node]:
        """Nodes that make package recipe ``name`` runnable on the build machine (with its run deps)."""
        if name in path:
            return []
        recipe = stack.recipe(name)
        if recipe.build.noarch:
            node, source = (name, target), stack
        else:
            source = native_stack()
            if name not in source.by_name():
                missing.setdefault(owner, []).append(
                    f"{name}: the stack has no recipe of it for {build} (skipped or broken there)")
                return []
            node = (name, build)
            add_native(node, source, path | {name})
        found = [node]
        for dep in source.recipe_deps(name, ("run",)):
            found += runnable(dep, owner, path | {name})
        return found

    def add_native(node: Node, source: Stack, path: frozenset[str]) -> None:
        if node in needs:
            return
        needs[node] = ()                     # a cycle through run requirements stops here
        deps: list[Node] = []
        for dep in source.recipe_deps(node[0], ("build", "host")):
            deps += runnable(dep, node, path)
        needs[node] = tuple(dict.fromkeys(deps))
        extra.append(node)

    nodes: list[Node] = []
    for recipe in stack.in_build_order():
        node = (recipe.name, target)
        nodes.append(node)
        host_deps = stack.recipe_deps(recipe.name, ("host",))
        # the host prefix gets the host requirements and what they need at run time
        deps = [(d, target) for d in run_closure(stack, host_deps) if d != recipe.name]
        build_deps = list(stack.recipe_deps(recipe.name, ("build",)))
        if target != build and "python" in host_deps and "python" not in build_deps:
            build_deps.append("python")     # $PYTHON of a cross build: the build machine's (tasks/crosspython.py)
        if target != build and builds_with_itself(recipe):
            build_deps.append(recipe.name)  # python's cross build runs python of the build machine
        for dep in build_deps:
            deps += runnable(dep, node, frozenset({recipe.name} - {dep})) if target != build else [(dep, target)]
        needs[node] = tuple(dict.fromkeys(deps))
    return Plan(target, build, tuple(nodes + extra), needs, {n: tuple(m) for n, m in missing.items()})


def run_closure(stack: Stack, names: tuple[str, ...] | list[str]) -> tuple[str, ...]:
    """``names`` and the recipes their run requirements need, transitively: what an
    environment that installs those packages pulls from the stack."""
    seen: dict[str, None] = {}
    todo = list(names)
    while todo:
        name = todo.pop(0)
        if name in seen:
            continue
        seen[name] = None
        todo.extend(stack.recipe_deps(name, ("run",)))
    return tuple(seen)
