"""Line selectors: every selector name, for linux-aarch64 and linux-64, and their semantics."""
from __future__ import annotations

import pytest
from render_helpers import problems, recipe_dir, render, stack

NAMES = ["linux", "linux32", "linux64", "armv6", "armv6l", "armv7l", "aarch64", "arm64", "ppc64le",
         "s390x", "x86", "x86_64", "osx", "unix", "win", "win32", "win64", "py3k", "py2k", "py26",
         "py27", "py33", "py36", "py311", "py312", "nomkl", "arm"]
TRUE_FOR = {
    "linux-aarch64": {"linux", "aarch64", "unix", "py3k", "py311"},
    "linux-64": {"linux", "linux64", "x86", "x86_64", "unix", "py3k", "py311"},
    "linux-ppc64le": {"linux", "ppc64le", "unix", "py3k", "py311"},
}


def _meta(lines: list[str]) -> str:
    body = "\n".join(f"    - {line}" for line in lines)
    return f"package:\n  name: sel\n  version: '1.0'\nrequirements:\n  run:\n{body}\n"


@pytest.mark.parametrize("target", sorted(TRUE_FOR))
def test_every_selector_name(tmp_path, target):
    meta = _meta([f"pkg-{n.replace('_', '-')}  # [{n}]" for n in NAMES])
    recipe = render(tmp_path, meta, target=target)
    kept = {spec[len("pkg-"):].replace("-", "_") for spec in recipe.requirements.run}
    assert kept == TRUE_FOR[target]


@pytest.mark.parametrize("expr, expected", [
    ("linux and aarch64", True), ("linux and not aarch64", False), ("osx and arm64", False),
    ("target_platform == 'linux-aarch64'", True), ("build_platform == 'linux-64'", True),
    ("build_platform != target_platform", True), ("py == 311", True), ("py >= 38", True),
    ("py < 30", False), ("np == 126", True), ("np >= 200", False), ("os.name == 'posix'", True),
    ("environ.get('CONDOIT_TEST_SEL') == 'yes'", True), ("not win", True), ("unix and py3k", True),
])
def test_selector_expressions(tmp_path, monkeypatch, expr, expected):
    monkeypatch.setenv("CONDOIT_TEST_SEL", "yes")
    recipe = render(tmp_path, _meta(["always", f"maybe  # [{expr}]"]))
    assert ("maybe" in recipe.requirements.run) is expected


def test_nomkl_from_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("FEATURE_NOMKL", "1")
    assert render(tmp_path, _meta(["a  # [nomkl]", "b  # [not nomkl]"])).requirements.run == ("a",)


def test_python_and_numpy_from_settings_and_env(tmp_path, monkeypatch):
    root = tmp_path / "recipes"
    recipe_dir(root, "r", _meta(["p312  # [py312]", "p39  # [py == 39]", "np2  # [np == 20]"]))
    assert stack(root, python="3.12").recipes[0].requirements.run == ("p312",)
    monkeypatch.setenv("CONDA_PY", "39")
    monkeypatch.setenv("CONDA_NPY", "2.0")
    assert stack(root).recipes[0].requirements.run == ("p39", "np2")


def test_variants_file_sets_python_and_selector_names(tmp_path):
    root = tmp_path / "recipes"
    (root).mkdir()
    (root / "conda_build_config.yaml").write_text("python:\n  - 3.10\nblas_impl:\n  - openblas\n"
                                                  "cuda_major:\n  - 12\n")
    recipe_dir(root, "r", _meta(["a  # [py310]", "b  # [blas_impl == 'openblas']",
                                 "c  # [cuda_major >= 11]", "d  # [py311]"]))
    recipe = stack(root).recipes[0]
    assert recipe.requirements.run == ("a", "b", "c")
    assert dict(recipe.variant) == {"python": "3.10", "blas_impl": "openblas", "cuda_major": "12"}


def test_removed_lines_keep_line_numbers(tmp_path):
    meta = """\
    package:
      name: lines
      version: '1.0'
    requirements:
      run:
        - a  # [win]
        - b  # [win]
        - bad spec with four parts
    """
    assert problems(tmp_path, meta) == [
        "r/meta.yaml:8:7: requirements/run: bad match spec 'bad spec with four parts': 5 parts, expected 1 to 3"]


def test_unknown_name_is_false_like_conda_build(tmp_path):
    recipe = render(tmp_path, _meta(["a  # [some_unset_variant]", "b  # [not some_unset_variant]"]))
    assert recipe.requirements.run == ("b",)


def test_comment_lines_and_quoted_lines(tmp_path):
    meta = """\
    package:
      name: q
      version: '1.0'
    test:
      commands:
        # - never  # [linux]
        - 'echo "a # b"  # [linux]'
        - echo win  # [win]
    """
    recipe = render(tmp_path, meta)
    assert recipe.test.commands == ('echo "a # b"',)


def test_selector_with_trailing_comment(tmp_path):
    recipe = render(tmp_path, _meta(["a  # [linux] the linux one", "b  # [win] the windows one"]))
    assert recipe.requirements.run == ("a",)
