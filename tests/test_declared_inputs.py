"""Issue 8.1 and 8.2: stages hand each other typed results, and a stage reads only what it
declares (the test stage's files from the patched tree; an undeclared read raises)."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from doit_runner import run_doit, write_recipe
from tasks.stages.base import Stage
from tasks.stages.extract import Tree

META = """
package: {{name: checked, version: "1.0"}}
source:
  path: {src}
build:
  noarch: generic
test:
  source_files:
    - expected.txt
  commands:
    - grep -qx "$(cat expected.txt)" $PREFIX/share/checked.txt
"""
BUILD = "mkdir -p $PREFIX/share\necho forty-two > $PREFIX/share/checked.txt\n"


def test_an_edit_to_a_test_source_file_alone_runs_the_test_again(stack_dirs, tmp_path):
    recipes, cache = stack_dirs
    src = tmp_path / "src"
    src.mkdir()
    (src / "expected.txt").write_text("forty-two\n")
    write_recipe(recipes, "checked", META.format(src=src), build_sh=BUILD)
    assert run_doit(recipes, cache, "build:checked").returncode == 0
    # the package does not contain expected.txt: only the test reads it
    (src / "expected.txt").write_text("forty-three\n")
    run = run_doit(recipes, cache, "build:checked")
    assert "package:checked" in run.uptodate, run.output
    assert "test:checked" in run.ran, run.output
    assert run.returncode == 1 and "tests of checked failed" in run.output


# -- issue 8.1: typed results, handed to the stages that declare them ----------------------------

def test_every_stamp_holds_a_typed_result_with_one_json_form(stack_dirs):
    from doit_runner import text_recipe
    from tasks.stages import STAGES
    from tasks.stages.compile import CompileResult
    from tasks.stages.package import PackageRecord, PackageResult
    from tasks.stamps import read_stamp
    recipes, cache = stack_dirs
    text_recipe(recipes, "alpha")
    assert run_doit(recipes, cache, "build:alpha").returncode == 0
    engine = _engine(recipes, cache)
    for name, stage in STAGES.items():
        for ref, ctx, _recipe in engine.jobs(name):
            if ref.recipe != "alpha":
                continue
            stamp = read_stamp(ctx.stamp_path(ref))
            result = stage.result.from_json(stamp["result"])
            assert type(result) is stage.result and result.to_json() == stamp["result"], ref
            assert str(cache) not in json.dumps(result.fingerprint())   # what dependents hash: no path
    compiled = _result(engine, "compile", "alpha")
    assert isinstance(compiled, CompileResult) and compiled.files == ("share/alpha.txt",)
    made = _result(engine, "package", "alpha")
    assert isinstance(made, PackageResult)
    (record,) = made.packages
    assert isinstance(record, PackageRecord) and (record.name, record.version, record.subdir) == \
        ("alpha", "1.0", "noarch")
    assert record.spec == f"alpha ==1.0 {record.build}" and record.archive == f"alpha-1.0-{record.build}.conda"


# -- issue 8.2: a stage reads only what it declares ----------------------------------------------

def test_asking_for_an_undeclared_result_raises():
    from tasks.stages.base import Inputs, Ref, UndeclaredInput
    from tasks.stages.extract import Tree
    inputs = Inputs(Ref("compile", "x", "linux-aarch64"), {Ref("patch", "x"): Tree("digest", Path("/t"))})
    assert inputs.get("patch").tree == "digest"          # shared source stage: found without a platform
    for stage, recipe in (("extract", None), ("patch", "y"), ("index", "x")):
        with pytest.raises(UndeclaredInput, match="does not declare"):
            inputs.get(stage, recipe)


class _Peek(Stage):
    """A stage that declares the patched tree but reads the pristine one."""

    name = "peek"
    result = Tree

    def upstream(self, recipe, ctx):
        return [ctx.ref("patch", recipe.name)]

    def run(self, recipe, ctx, inputs):
        return inputs.get("extract")


def test_a_stage_that_reads_what_it_did_not_declare_fails(tmp_path):
    from sources_helpers import make_context, make_recipe
    from tasks.stages import STAGES
    recipe = make_recipe(tmp_path)
    engine = make_context(tmp_path, recipe)
    engine.stages["peek"] = _Peek()
    for stage in ("download", "extract", "patch"):
        assert engine.execute(stage, "pkg") is None
    failed = engine.execute("peek", "pkg")
    assert failed is not None and "peek:pkg@linux-aarch64 read extract:pkg" in str(failed) and "does not declare" in str(failed)
    assert "peek" not in STAGES


def test_no_stage_opens_another_stages_files_or_stamps_by_hand():
    """Stage modules get upstream results from ``inputs`` only: no stamp reading, and no
    ``layout.work(name, <another stage>)``: the path of an upstream tree is in its result."""
    import ast
    from doit_runner import ROOT
    found = []
    for path in sorted((ROOT / "tasks" / "stages").glob("*.py")):
        if path.name in ("base.py", "__init__.py"):
            continue
        tree = ast.parse(path.read_text())
        own = path.stem
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.endswith("stamps"):
                found += [f"{path.name}: imports {a.name} from stamps" for a in node.names if a.name != "signature"]
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
                if node.func.attr in ("stamp", "stamp_path", "read_result"):
                    found.append(f"{path.name}:{node.lineno}: .{node.func.attr}(...)")
                if node.func.attr == "work" and len(node.args) == 2 and isinstance(node.args[1], ast.Constant) \
                        and node.args[1].value != own:
                    found.append(f"{path.name}:{node.lineno}: layout.work(..., {node.args[1].value!r})")
    assert found == []


def _engine(recipes, cache):
    from tasks.engine import Engine
    from tasks.settings import load_settings
    return Engine(load_settings({"recipes": str(recipes), "cache": str(cache)}))


def _result(engine, stage, recipe):
    from tasks.stages.base import read_result
    _stage, ref, ctx = engine.job(stage, recipe)
    return read_result(ref, ctx)
