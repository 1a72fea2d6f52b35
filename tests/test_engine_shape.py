"""Issue 8 (3): loading the tasks stays light, the engine's modules import without cycles, and
a run's state is one explicit Engine (nothing rendered or locked at import)."""
from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
from pathlib import Path

from doit_runner import ROOT, write_recipe
from tasks.graph import build_order

HEAVY = ("lief", "rattler")


def test_loading_the_tasks_imports_neither_lief_nor_py_rattler(stack_dirs):
    recipes, cache = stack_dirs
    write_recipe(recipes, "alpha", 'package: {name: alpha, version: "1.0"}\nbuild: {noarch: generic}\n',
                 build_sh="true\n")
    # the real `doit list --all`, with a report of the loaded modules when it exits
    probe = ("import atexit, runpy, sys;"
             f"atexit.register(lambda: print('HEAVY', sorted(m for m in sys.modules if m.split('.')[0] in {HEAVY!r})));"
             "sys.argv = ['doit', '-f', sys.argv[1], 'list', '--all', 'recipes=' + sys.argv[2], 'cache=' + sys.argv[3]];"
             "runpy.run_module('doit', run_name='__main__')")
    # a toy stack, and the shipped one (whose version constraints are checked at every load)
    for stack, expect in ((recipes, "compile:alpha"), (ROOT / "recipes", "compile:readline")):
        proc = subprocess.run([sys.executable, "-c", probe, str(ROOT / "dodo.py"), str(stack), str(cache)], cwd=ROOT,
                              capture_output=True, text=True, timeout=120)
        assert proc.returncode == 0, proc.stdout + proc.stderr
        assert expect in proc.stdout, proc.stdout
        assert "HEAVY []" in proc.stdout, proc.stdout


def _module_names(root: Path) -> dict[str, Path]:
    names = {}
    for path in root.rglob("*.py"):
        parts = list(path.relative_to(root.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        names[".".join(parts)] = path
    return names


def _imports(name: str, path: Path, modules: dict[str, Path]) -> set[str]:
    """Modules of ours that ``name`` imports anywhere (function-local imports count too)."""
    package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            base = package.split(".")[: len(package.split(".")) - node.level + 1] if node.level else []
            target = ".".join(base + ([node.module] if node.module else []))
            submodules = [f"{target}.{a.name}" for a in node.names if f"{target}.{a.name}" in modules]
            found.update(submodules if len(submodules) == len(node.names) else [target, *submodules])
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
    return {m for m in found if m in modules and m != name}


def test_the_engine_has_no_import_cycles():
    modules = _module_names(ROOT / "tasks")
    graph = {name: _imports(name, path, modules) for name, path in modules.items()}
    assert graph["tasks.taskgen"], "the import scan found nothing: it is broken"
    _order, cycles = build_order(graph)   # the stack's own cycle finder, on modules
    assert cycles == []


# -- no hidden global state -----------------------------------------------------------------------

def test_importing_dodo_neither_renders_nor_locks(stack_dirs):
    """dodo.py only builds the Engine from the settings; doit asking for the tasks renders and
    (for a command that writes) locks."""
    recipes, cache = stack_dirs
    write_recipe(recipes, "alpha", 'package: {name: alpha, version: "1.0"}\nbuild: {noarch: generic}\n',
                 build_sh="true\n")
    probe = ("import runpy, sys, json; sys.argv = ['doit', 'build:alpha'];"
             "ns = runpy.run_path(DODO);"
             "engine = ns['ENGINE'];"
             "print('STATE', json.dumps({'rendered': sorted(engine._stacks), 'writes': engine.writes,"
             "'locked': engine._lock is not None, 'cache': str(engine.settings.cache_dir)}))")
    env = {**os.environ, "CONDOIT_RECIPES": str(recipes), "CONDOIT_CACHE": str(cache)}
    proc = subprocess.run([sys.executable, "-c", f"DODO = {str(ROOT / 'dodo.py')!r}\n" + probe], cwd=ROOT,
                          capture_output=True, text=True, timeout=120, env=env)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    state = json.loads(proc.stdout.split("STATE ", 1)[1])
    assert state == {"rendered": [], "writes": True, "locked": False, "cache": str(cache)}
    assert not (cache / ".lock").exists() and not (cache / "render").exists()


def test_two_engines_in_one_process_share_nothing(tmp_path):
    from tasks.engine import Engine
    from tasks.settings import load_settings
    engines = []
    for name in ("one", "two"):
        recipes = tmp_path / name / "recipes"
        write_recipe(recipes, name, f'package: {{name: {name}, version: "1.0"}}\nbuild: {{noarch: generic}}\n',
                     build_sh="true\n")
        engines.append(Engine(load_settings({"recipes": str(recipes), "cache": str(tmp_path / name / "cache")})))
    first, second = engines
    assert [str(r) for r, _c, _ in first.jobs("compile")] == ["compile:one@linux-aarch64"]
    assert [str(r) for r, _c, _ in second.jobs("compile")] == ["compile:two@linux-aarch64"]
    assert first.context("").layout.cache != second.context("").layout.cache
    assert first.plan.nodes == (("one", "linux-aarch64"),) and second.plan.nodes == (("two", "linux-aarch64"),)
