"""A stage reads only what it declares: the test stage's files from the patched tree."""
from __future__ import annotations

from doit_runner import run_doit, write_recipe

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
