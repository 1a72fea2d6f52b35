"""tasks/dataclass_code.py: the methods @dataclass writes come compiled from a cache, and the
classes made from it behave exactly as the ones Python compiles itself.

Each case runs in a fresh interpreter, so the hook it installs (process-wide) starts clean.
"""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# A module of dataclasses covering what the engine uses: frozen, defaults, default_factory,
# order, __post_init__, inheritance, ClassVar, InitVar, replace.
CLASSES = '''
import dataclasses
from dataclasses import dataclass, field, InitVar
from typing import ClassVar

@dataclass(frozen=True)
class Point:
    x: int
    y: int = 2
    tags: tuple[str, ...] = ()
    KIND: ClassVar[str] = "point"

@dataclass(frozen=True, order=True)
class Version:
    major: int
    minor: int = 0

@dataclass
class Box:
    items: list = field(default_factory=list)
    scale: InitVar[int] = 1
    def __post_init__(self, scale):
        self.items = [i * scale for i in self.items]

@dataclass(frozen=True)
class Point3(Point):
    z: int = 3
'''

PROBE = CLASSES + '''
def probe():
    p, q = Point(1), Point(1, 2, ())
    out = {"repr": [repr(p), repr(Point3(1, z=5)), repr(Box([1, 2], 3)), repr(Version(1, 2))],
           "eq": [p == q, p == Point(2), Version(1, 2) < Version(1, 3), sorted([Version(2), Version(1, 5)]) == [Version(1, 5), Version(2)]],
           "hash": hash(p) == hash(q),
           "fields": [[f.name for f in dataclasses.fields(c)] for c in (Point, Version, Box, Point3)],
           "replace": repr(dataclasses.replace(p, y=7)),
           "asdict": dataclasses.asdict(Point3(4)),
           "unhashable_mutable": Box.__hash__ is None}
    try:
        p.x = 5
    except dataclasses.FrozenInstanceError as exc:
        out["frozen"] = type(exc).__name__
    try:
        del p.y
    except dataclasses.FrozenInstanceError as exc:
        out["frozen_del"] = type(exc).__name__
    return out
'''


def run_python(code: str) -> dict:
    """Run ``code`` in a new interpreter at the repository root (with string annotations, as
    the engine's modules have); it prints one JSON line last."""
    proc = subprocess.run([sys.executable, "-c", "from __future__ import annotations\n" + code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout.strip().splitlines()[-1])


def hooked(cache: Path, body: str) -> str:
    return (f"from tasks.dataclass_code import use_compiled_dataclass_code, write_cache\n"
            f"hook = use_compiled_dataclass_code({str(cache)!r})\n" + body)


def test_classes_from_the_cache_behave_as_python_compiles_them(tmp_path: Path) -> None:
    cache = tmp_path / "dc.marshal"
    plain = run_python(PROBE + "import json; print(json.dumps(probe()))")
    first = run_python(hooked(cache, PROBE + "write_cache(hook, " + repr(str(cache)) + ")\n"
                              "import json; print(json.dumps({**probe(), 'hits': hook.hits, 'compiled': hook.compiled}))"))
    second = run_python(hooked(cache, PROBE + "import json; print(json.dumps({**probe(), 'hits': hook.hits, 'compiled': hook.compiled}))"))
    assert first["hits"] == 0 and first["compiled"] > 10    # nothing cached yet: every method compiled
    assert second["compiled"] == 0 and second["hits"] == first["compiled"]   # all from the file
    for result in (first, second):
        assert {k: v for k, v in result.items() if k not in ("hits", "compiled")} == plain
    assert plain["frozen"] == plain["frozen_del"] == "FrozenInstanceError"
    assert plain["eq"] == [True, False, True, True] and plain["hash"] is True


def test_an_edited_class_misses_only_its_changed_methods(tmp_path: Path) -> None:
    cache = tmp_path / "dc.marshal"
    run_python(hooked(cache, CLASSES + f"write_cache(hook, {str(cache)!r})\nprint('{{}}')"))
    edited = CLASSES.replace("    y: int = 2\n", "    y: int = 2\n    w: int = 9\n")
    result = run_python(hooked(cache, edited + "import json; print(json.dumps({'hits': hook.hits, 'compiled': hook.compiled, "
                                              "'w': Point(1).w, 'r': repr(Point3(1))}))"))
    assert result["compiled"] > 0 and result["hits"] > 0      # Point and Point3 changed; Version and Box did not
    assert result["w"] == 9 and result["r"] == "Point3(x=1, y=2, w=9, tags=(), z=3)"


def test_a_damaged_or_foreign_cache_is_ignored(tmp_path: Path) -> None:
    plain = run_python(PROBE + "import json; print(json.dumps(probe()))")
    damaged = tmp_path / "damaged.marshal"
    damaged.write_bytes(b"\x00not marshal at all")
    import marshal
    foreign = tmp_path / "foreign.marshal"
    foreign.write_bytes(marshal.dumps(((1, "2.7.18 (another python)"), {"def f(): pass": compile("1", "x", "eval")})))
    for cache in (damaged, foreign, tmp_path / "missing.marshal"):
        result = run_python(hooked(cache, PROBE + "import json; print(json.dumps({**probe(), 'hits': hook.hits}))"))
        assert result.pop("hits") == 0
        assert result == plain


def test_the_setup_command_covers_every_class_a_doit_call_makes(tmp_path: Path) -> None:
    """`python -m tasks.dataclass_code PATH` (the setup script's step) records the methods of
    every class the engine makes when doit loads it: a later process compiles none."""
    cache = tmp_path / "engine.marshal"
    proc = subprocess.run([sys.executable, "-m", "tasks.dataclass_code", str(cache)], cwd=ROOT,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert "methods compiled into" in proc.stdout
    result = run_python(hooked(cache, "import tasks.taskgen, tasks.engine, tasks.stages, tasks.render.recipe\n"
                                      "import json; print(json.dumps({'hits': hook.hits, 'compiled': hook.compiled}))"))
    assert result["compiled"] == 0 and result["hits"] > 200
