"""Build order across the recipes of a stack, from their build and host requirements.

A recipe depends on another when one of its build/host requirements (its own or its
outputs') is a package the other produces (its name or an output's name). A cycle is
reported as a RecipeProblem naming every recipe on it, in order. The stack's order also
puts the run requirements of what a build installs before it (``install_order``).
"""
from __future__ import annotations

from typing import Iterable, Mapping, Sequence

from .errors import RecipeProblem
from .model import Recipe, spec_name

SECTIONS = ("build", "host")


def providers(recipes: Iterable[Recipe]) -> dict[str, str]:
    """package name -> name of the recipe that produces it."""
    out: dict[str, str] = {}
    for recipe in recipes:
        for package in recipe.provides:
            out.setdefault(package, recipe.name)
    return out


def direct_deps(recipe: Recipe, provider: Mapping[str, str],
                sections: tuple[str, ...] = SECTIONS) -> tuple[str, ...]:
    """Recipes (by name) whose packages ``recipe`` or its outputs require in ``sections``."""
    deps: set[str] = set()
    for reqs in [recipe.requirements] + [o.requirements for o in recipe.outputs]:
        for section in sections:
            for spec in getattr(reqs, section):
                dep = provider.get(spec_name(spec))
                if dep is not None and dep != recipe.name:
                    deps.add(dep)
    return tuple(sorted(deps))


def dependencies(recipes: Iterable[Recipe]) -> dict[str, tuple[str, ...]]:
    """recipe name -> recipes of the stack it needs built first (sorted)."""
    recipes = list(recipes)
    provider = providers(recipes)
    return {recipe.name: direct_deps(recipe, provider) for recipe in recipes}


def build_order(graph: Mapping[str, Iterable[str]]) -> tuple[tuple[str, ...], list[list[str]]]:
    """Names with dependencies first (ties by name), and every cycle found.

    Recipes on a cycle (or depending on one) are left out of the order.
    """
    names = set(graph)
    deps = {n: sorted(names.intersection(d)) for n, d in graph.items()}
    order: list[str] = []
    state: dict[str, int] = {}          # 1 = on the current path, 2 = done
    cycles: list[list[str]] = []
    blocked: set[str] = set()

    for root in sorted(deps):
        if state.get(root):
            continue
        stack: list[tuple[str, int]] = [(root, 0)]
        path: list[str] = [root]
        state[root] = 1
        while stack:
            node, i = stack[-1]
            if i < len(deps[node]):
                stack[-1] = (node, i + 1)
                child = deps[node][i]
                if state.get(child) == 1:
                    cycle = path[path.index(child):]
                    cycles.append(cycle)
                    blocked.update(cycle)
                elif not state.get(child):
                    state[child] = 1
                    stack.append((child, 0))
                    path.append(child)
                continue
            stack.pop()
            path.pop()
            state[node] = 2
            if node in blocked or any(d in blocked for d in deps[node]):
                blocked.add(node)
            else:
                order.append(node)
    return tuple(order), cycles


def install_order(order: Sequence[str], graph: Mapping[str, Iterable[str]],
                  run: Mapping[str, Iterable[str]]) -> tuple[str, ...]:
    """``order`` (``build_order`` of the build/host ``graph``) refined so that a recipe also
    comes after the run requirements, transitively, of what its build installs: conda
    installs a build/host dependency with its run requirements, so they must be in the
    channel first (``pip`` in host needs pip's run requirement ``wheel`` built).

    Run requirements may form cycles (conda installs both packages at once): the recipes
    of such a cycle keep their ``order`` among themselves. Same traversal as ``build_order``
    (dependencies first, ties by name), so without run requirements the order is unchanged.
    """
    rank = {n: i for i, n in enumerate(order)}
    runs = {n: sorted(set(run.get(n, ())) & rank.keys()) for n in order}

    def run_closure(name: str) -> set[str]:
        seen, todo = set(), [name]
        while todo:
            for dep in runs[todo.pop()]:
                if dep not in seen:
                    seen.add(dep)
                    todo.append(dep)
        return seen

    needs: dict[str, list[str]] = {}
    for name in order:
        direct = set(graph.get(name, ())) & rank.keys()
        more = set(direct)
        for dep in direct:
            more |= run_closure(dep)
        more.discard(name)
        needs[name] = sorted(more)

    # Tarjan's strongly connected components: each is emitted after those it needs.
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    out: list[str] = []
    for root in sorted(needs):
        if root in index:
            continue
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        work = [(root, iter(needs[root]))]
        while work:
            node, children = work[-1]
            for child in children:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(needs[child])))
                    break
                if child in on_stack:
                    low[node] = min(low[node], index[child])
            else:
                work.pop()
                if work:
                    parent = work[-1][0]
                    low[parent] = min(low[parent], low[node])
                if low[node] == index[node]:
                    component = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.append(member)
                        if member == node:
                            break
                    out.extend(sorted(component, key=rank.__getitem__))
    return tuple(out)


# Where a recipe's build/host requirements are written: (label, package name, (line, col)).
Written = Sequence[tuple[str, str, tuple[int, int]]]


def requirement_on(recipe: Recipe, dep: Recipe, written: Written) -> tuple[str, str, tuple[int, int]] | None:
    """The first build/host requirement of ``recipe`` (as written) on a package ``dep`` makes."""
    provides = set(dep.provides)
    return next((w for w in written if w[1] in provides), None)


def cycle_problems(cycles: list[list[str]], recipes: Mapping[str, Recipe],
                   written: Mapping[str, Written] | None = None) -> list[RecipeProblem]:
    """One problem per cycle, at the first recipe's requirement on the next one.

    The hint lists each link of the cycle at the line of meta.yaml it is written on.
    """
    written = written or {}
    problems = []
    for cycle in cycles:
        chain = " -> ".join(cycle + [cycle[0]])
        links, first_pos = [], (1, 1)
        for i, name in enumerate(cycle):
            recipe, dep = recipes[name], recipes[cycle[(i + 1) % len(cycle)]]
            found = requirement_on(recipe, dep, written.get(name, ()))
            if found is None:
                links.append(f"{recipe.meta_path}: {name} needs {dep.name}")
                continue
            label, package, (line, col) = found
            made_by = f", made by {dep.name}" if package != dep.name else ""
            links.append(f"{recipe.meta_path}:{line}:{col}: {name} needs '{package}' ({label}{made_by})")
            if i == 0:
                first_pos = (line, col)
        problems.append(RecipeProblem(
            recipes[cycle[0]].meta_path, *first_pos, f"dependency cycle between recipes: {chain}",
            "break the cycle: one of these build/host requirements must go (a recipe cannot need "
            "a package that needs it back):\n      " + "\n      ".join(links)))
    return problems
