"""Discovery, skipping, build order and cycles of a whole stack; and doit on top of it."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from render_helpers import recipe_dir, stack

from tasks.graph import build_order

DODO = Path(__file__).resolve().parent.parent / "dodo.py"


def _pkg(name: str, host: tuple[str, ...] = (), build: tuple[str, ...] = (), run: tuple[str, ...] = (),
         extra: str = "") -> str:
    def section(key: str, items: tuple[str, ...]) -> str:
        return f"  {key}:\n" + "".join(f"    - {i}\n" for i in items) if items else ""
    reqs = section("build", build) + section("host", host) + section("run", run)
    return f"package:\n  name: {name}\n  version: '1.0'\n" + (f"requirements:\n{reqs}" if reqs else "") + extra


def test_discovery_flat_and_feedstock(tmp_path):
    root = tmp_path / "recipes"
    recipe_dir(root, "flat", _pkg("flat"))
    recipe_dir(root, "thing-feedstock/recipe", _pkg("thing"))
    recipe_dir(root, ".hidden", _pkg("hidden"))
    recipe_dir(root, "notes", "")
    (root / "notes" / "meta.yaml").unlink()
    (root / "README.md").write_text("not a recipe\n")
    s = stack(root)
    assert sorted(r.name for r in s.recipes) == ["flat", "thing"]
    assert s.recipe("thing").recipe_dir == root / "thing-feedstock" / "recipe"
    assert not s.problems


def test_skip_with_reason(tmp_path):
    root = tmp_path / "recipes"
    recipe_dir(root, "winonly", _pkg("winonly", extra="build:\n  skip: true  # [not win]\n"))
    recipe_dir(root, "always", _pkg("always", extra="build:\n  skip: True\n  bogus_key: 1\n"))
    recipe_dir(root, "kept", _pkg("kept", extra="build:\n  skip: true  # [win]\n"))
    s = stack(root)
    assert [r.name for r in s.recipes] == ["kept"]
    reasons = {k.name: k.reason for k in s.skipped}
    assert reasons == {"winonly": "selector: not win", "always": "build/skip is true"}
    assert not s.problems            # a skipped recipe's other problems do not matter here


def test_order_from_build_and_host_including_outputs(tmp_path):
    root = tmp_path / "recipes"
    recipe_dir(root, "a-app", _pkg("app", host=("libbar >=1", "zlib"), run=("runonly",)))
    recipe_dir(root, "b-bar", _pkg("bar-split", build=("tool",),
                                   extra="outputs:\n  - name: libbar\n  - name: bar\n"))
    recipe_dir(root, "c-tool", _pkg("tool", host=("zlib",)))
    recipe_dir(root, "d-zlib", _pkg("zlib"))
    recipe_dir(root, "e-runonly", _pkg("runonly", run=("app",)))
    s = stack(root)
    assert not s.problems
    order = list(s.order)
    assert sorted(order) == sorted(r.name for r in s.recipes)
    assert order.index("zlib") < order.index("tool") < order.index("bar-split") < order.index("app")
    assert s.recipe_deps("app") == ("bar-split", "zlib")
    assert s.recipe_deps("runonly") == ()                 # run requirements do not order


def test_cycle_names_every_recipe_and_blocks_dependents(tmp_path):
    root = tmp_path / "recipes"
    recipe_dir(root, "a", _pkg("a", host=("b",)))
    recipe_dir(root, "b", _pkg("b", build=("c",)))
    recipe_dir(root, "c", _pkg("c-split", extra="outputs:\n  - name: c\n    requirements:\n      host: [a]\n"))
    recipe_dir(root, "d", _pkg("d", host=("a",)))
    recipe_dir(root, "e", _pkg("e"))
    s = stack(root)
    assert [r.name for r in s.recipes] == ["e"] and s.order == ("e",)
    cycle = next(p for p in s.problems if "cycle" in p.message)
    assert cycle.message == "dependency cycle between recipes: a -> b -> c-split -> a"
    for name in ("a", "b", "c"):
        assert str(root / name / "meta.yaml") in cycle.hint
    blocked = next(p for p in s.problems if p.path == root / "d" / "meta.yaml")
    assert "needs a" in blocked.message


def test_cycle_points_at_each_requirement_line(tmp_path):
    """Each link of a cycle is located where meta.yaml writes it (lines of the file, not of
    the jinja output), and recipes blocked by it at their requirement on it."""
    root = tmp_path / "recipes"
    recipe_dir(root, "a", _pkg("a", host=("zlib", "b >=1")))
    recipe_dir(root, "b", """\
    {% set deps = ["tool", "c"] %}
    package:
      name: b
      version: '1.0'
    requirements:
      build:
    {% for dep in deps %}
        - {{ dep }}
    {% endfor %}
    """)
    recipe_dir(root, "c", _pkg("c-split", extra="outputs:\n  - name: c\n    requirements:\n      host: [zlib, a]\n"))
    recipe_dir(root, "d", _pkg("d", build=("make",), host=("a",)))
    recipe_dir(root, "zlib", _pkg("zlib"))
    s = stack(root)
    (cycle,) = (p for p in s.problems if p.message.startswith("dependency cycle"))
    assert (cycle.path, cycle.line, cycle.col) == (root / "a" / "meta.yaml", 7, 7)
    links = cycle.hint.splitlines()[1:]
    assert [link.strip() for link in links] == [
        f"{root / 'a' / 'meta.yaml'}:7:7: a needs 'b' (requirements/host)",
        f"{root / 'b' / 'meta.yaml'}:8:7: b needs 'c' (requirements/build, made by c-split)",
        f"{root / 'c' / 'meta.yaml'}:7:20: c-split needs 'a' (requirements/host of output c)",
    ]
    (blocked,) = (p for p in s.problems if p.path == root / "d" / "meta.yaml")
    assert (blocked.line, blocked.col) == (8, 7)
    assert str(cycle).startswith(f"{root / 'a' / 'meta.yaml'}:7:7: dependency cycle")


def test_build_order_is_deterministic():
    graph = {"z": (), "y": ("z",), "x": ("z",), "w": ("x", "y")}
    assert build_order(graph) == (("z", "x", "y", "w"), [])
    order, cycles = build_order({"p": ("q",), "q": ("p",), "r": ()})
    assert order == ("r",) and cycles == [["p", "q"]]


def _doit(root: Path, cache: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "doit", "-f", str(DODO), f"recipes={root}", f"cache={cache}",
                           *args], capture_output=True, text=True, timeout=120, cwd=DODO.parent)


def test_doit_list_and_render_on_a_generated_stack(tmp_path):
    root, cache = tmp_path / "recipes", tmp_path / "cache"
    recipe_dir(root, "zlib", """\
    {% set version = "1.3.1" %}
    package:
      name: zlib
      version: {{ version }}
    build:
      run_exports:
        - {{ pin_subpackage('zlib', max_pin='x.x') }}
    requirements:
      build:
        - {{ compiler('c') }}
        - make  # [unix]
    """)
    recipe_dir(root, "app", _pkg("app", host=("zlib",)))
    recipe_dir(root, "broken", "package:\n  name: broken\n  version: '1'\nbuild:\n  number: abc\n")
    recipe_dir(root, "winonly", _pkg("winonly", extra="build:\n  skip: true  # [not win]\n"))
    listing = _doit(root, cache, "list")
    skipped = root / "winonly" / "meta.yaml"
    assert f"condoit: winonly is skipped for linux-aarch64 (selector: not win): {skipped}" in listing.stderr
    assert listing.returncode == 0, listing.stderr
    groups = {line.split()[0] for line in listing.stdout.splitlines()}
    assert {"build", "render"} <= groups
    assert "Traceback" not in listing.stderr
    assert f"{root / 'broken' / 'meta.yaml'}:5:11: build/number must be an integer" in listing.stderr
    full = _doit(root, cache, "list", "--all")
    assert full.returncode == 0, full.stderr
    names = {line.split()[0] for line in full.stdout.splitlines()}
    assert {"render:zlib", "render:app", "build:zlib", "build:app"} <= names
    assert not any(n.endswith(":broken") for n in names)
    rendered = _doit(root, cache, "render:zlib")
    assert rendered.returncode == 0, rendered.stderr
    target = cache / "rendered" / "zlib.yaml"
    assert str(target) in rendered.stdout
    text = target.read_text()
    assert "version: 1.3.1" in text and "- zlib >=1.3.1,<1.4.0a0" in text and "- gcc_linux-aarch64" in text


def test_stack_closure_and_deps_follow_requirements(tmp_path):
    root = tmp_path / "recipes"
    for i in range(12):
        deps = tuple(f"p{j}" for j in (i - 1, i // 2, i // 3) if 0 <= j < i)
        recipe_dir(root, f"p{i}", _pkg(f"p{i}", host=deps, run=("p0",)))
    fast = stack(root)
    assert fast.recipe_deps("p6") == ("p2", "p3", "p5")
    assert fast.recipe_deps("p6", ("run",)) == ("p0",)
    closure = fast.closure("p11")
    assert closure[-1] == "p11" and set(closure) == {f"p{i}" for i in range(12)}
    for name in closure:  # dependencies first
        assert all(closure.index(d) < closure.index(name) for d in fast.recipe_deps(name))
    assert fast.provider("p3") == "p3" and fast.provider("nothing") is None
    import pickle
    assert pickle.loads(pickle.dumps(fast)).closure("p11") == closure


def test_order_puts_run_requirements_of_what_a_build_installs_first(tmp_path):
    """conda installs a host dependency with its run requirements: ``pip`` in host needs
    pip's ``wheel`` in the channel first, though nothing builds against wheel."""
    root = tmp_path / "recipes"
    recipe_dir(root, "a-app", _pkg("app", host=("pip",)))
    recipe_dir(root, "p-pip", _pkg("pip", host=("interp",), run=("interp", "wheel")))
    recipe_dir(root, "interp", _pkg("interp"))
    recipe_dir(root, "w-wheel", _pkg("wheel", host=("interp",), run=("interp", "setuptools")))
    recipe_dir(root, "s-setuptools", _pkg("setuptools", host=("interp",), run=("interp", "certifi")))
    recipe_dir(root, "c-certifi", _pkg("certifi", host=("interp",), run=("interp", "setuptools")))
    s = stack(root)
    assert not s.problems
    order = list(s.order)
    assert sorted(order) == sorted(r.name for r in s.recipes)
    # certifi <-> setuptools is a run cycle (legal): both before app, whose build installs pip
    assert max(order.index(n) for n in ("pip", "wheel", "setuptools", "certifi")) < order.index("app")
    assert order.index("interp") < min(order.index(n) for n in ("pip", "wheel", "setuptools", "certifi"))


def test_install_order_keeps_build_order_without_run_requirements():
    from tasks.graph import install_order
    graph = {"w": ("x", "y"), "x": ("z",), "y": ("z",), "z": ()}
    order, _ = build_order(graph)
    assert install_order(order, graph, {}) == order
    # a run cycle between two dependencies: build/host order kept between them
    graph = {"app": ("b",), "a": (), "b": ()}
    order, _ = build_order(graph)
    assert install_order(order, graph, {"a": ("b",), "b": ("a",)}) == ("a", "b", "app")
