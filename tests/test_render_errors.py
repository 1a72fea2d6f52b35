"""Precise errors: every bad input gives file:line:col, a message and a hint, never a traceback."""
from __future__ import annotations

import pytest
from render_helpers import located, outcome, problems, recipe_dir, stack, write

# name: (meta.yaml text, expected problems as "file:line:col: message")
SNAPSHOTS = {
    'yaml': (
        "package:\n  name: x\n   version: '1'\n",
        ['r/meta.yaml:3:11: YAML error: mapping values are not allowed in this context']),
    'unclosed_quote': (
        "package:\n  name: x\n  version: '1\nbuild:\n  number: 0\n",
        ['r/meta.yaml:3:12: YAML error: while scanning a quoted scalar found unexpected end of stream']),
    'selector_syntax': (
        "package:\n  name: x\n  version: '1'\nrequirements:\n  run:\n    - a  # [linux and]\n",
        ['r/meta.yaml:6:13: invalid selector [linux and]: invalid syntax']),
    'selector_typo': (
        "package:\n  name: x\n  version: '1'\nrequirements:\n  run:\n    - a  # [linx]\n",
        ["r/meta.yaml:6:13: unknown selector name 'linx' in [linx]"]),
    'undefined': (
        "{% set version = '1' %}\npackage:\n  name: x\n  version: {{ verison }}\n",
        ["r/meta.yaml:4:15: undefined jinja2 variable: 'verison' is undefined"]),
    'jinja_syntax': (
        "package:\n  name: x\n  version: '1'\n{% if true %}\nbuild: {number: 1}\n",
        ["r/meta.yaml:4:1: jinja2 syntax error: Unexpected end of template. Jinja was looking for the following tags: 'elif' or 'else' or 'endif'. The innermost block that needs to be closed is 'if'."]),
    'wrong_type': (
        "package:\n  name: [a, b]\n  version: '1'\n",
        ['r/meta.yaml:2:9: package/name must be a string, got a list']),
    'missing_name': (
        "package:\n  version: '1'\n",
        ['r/meta.yaml:1:1: missing package/name']),
    'missing_version': (
        'package:\n  name: x\n',
        ['r/meta.yaml:1:1: missing package/version']),
    'no_package': (
        'build:\n  number: 1\n',
        ['r/meta.yaml:1:1: missing package/name and package/version']),
    'spec_parts': (
        "package:\n  name: x\n  version: '1'\nrequirements:\n  host:\n    - a 1 2 3\n",
        ["r/meta.yaml:6:7: requirements/host: bad match spec 'a 1 2 3': 4 parts, expected 1 to 3"]),
    'spec_constraint': (
        "package:\n  name: x\n  version: '1'\nrequirements:\n  host:\n    - zlib >=1.2;<2\n",
        ["r/meta.yaml:6:7: requirements/host: bad match spec 'zlib >=1.2;<2': invalid version constraint '>=1.2;<2'"]),
    'bad_name': (
        "package:\n  name: My_Pkg\n  version: '1'\n",
        ["r/meta.yaml:2:9: invalid package/name 'My_Pkg'"]),
    'bad_version': (
        'package:\n  name: x\n  version: 1.0-beta\n',
        ["r/meta.yaml:3:12: invalid package/version '1.0-beta': bad character(s) '-'"]),
    'patch_missing': (
        "package:\n  name: x\n  version: '1'\nsource:\n  url: https://example.invalid/x.tgz\n  patches:\n    - missing.patch\n",
        ['r/meta.yaml:7:7: patch file not found: missing.patch']),
    'number_type': (
        "package:\n  name: x\n  version: '1'\nbuild:\n  number: abc\n",
        ["r/meta.yaml:5:11: build/number must be an integer, got 'abc'"]),
    'sha_bad': (
        "package:\n  name: x\n  version: '1'\nsource:\n  url: https://example.invalid/x.tgz\n  sha256: 1234\n",
        ["r/meta.yaml:6:11: source/sha256 must be 64 hex digits, got '1234'"]),
    'noarch': (
        "package:\n  name: x\n  version: '1'\nbuild:\n  noarch: pythn\n",
        ["r/meta.yaml:5:11: build/noarch must be 'generic' or 'python', got 'pythn'"]),
    'section_type': (
        "package:\n  name: x\n  version: '1'\nbuild:\n  - number\n",
        ["r/meta.yaml:5:3: section 'build' must be a mapping, got a list"]),
    'jinja_runtime': (
        "package:\n  name: x\n  version: '{{ 1 // 0 }}'\n",
        ['r/meta.yaml:3:13: jinja2 error: ZeroDivisionError: integer division or modulo by zero']),
    'list_item_mapping': (
        "package:\n  name: x\n  version: '1'\nrequirements:\n  run:\n    - foo: bar\n",
        ['r/meta.yaml:6:7: requirements/run entries must be strings, got a mapping']),
    'outputs_type': (
        "package:\n  name: x\n  version: '1'\noutputs:\n  name: y\n",
        ['r/meta.yaml:5:3: outputs must be a list of mappings, got a mapping']),
    'bool_type': (
        "package:\n  name: x\n  version: '1'\nbuild:\n  skip: maybe\n",
        ["r/meta.yaml:5:9: build/skip must be true or false, got a string 'maybe'"]),
    'test_list_type': (
        "package:\n  name: x\n  version: '1'\ntest:\n  commands:\n    cmd: 1\n",
        ['r/meta.yaml:6:5: test/commands must be a list, got a mapping']),
    'pin_bad_call': (
        "package:\n  name: x\n  version: '1'\nrequirements:\n  run:\n    - {{ pin_subpackage() }}\n",
        ["r/meta.yaml:6:7: jinja2 error: TypeError: pin_subpackage() missing 1 required positional argument: 'subpackage_name'"]),
}

# Leniencies (conda-build reads these): warnings by default, problems with strict=1.
LENIENT_SNAPSHOTS = {
    'unknown_section': (
        "package:\n  name: x\n  version: '1'\nrequirement:\n  run: [a]\n",
        ["r/meta.yaml:4:1: unknown section 'requirement'"]),
    'unknown_key': (
        "package:\n  name: x\n  version: '1'\nbuild:\n  numbr: 1\n",
        ["r/meta.yaml:5:3: unknown key 'build/numbr'"]),
    'dup_key': (
        "package:\n  name: x\n  version: '1'\n  name: y\n",
        ["r/meta.yaml:4:3: duplicate key 'name' (first at line 2); the last one is used"]),
}


@pytest.mark.parametrize("name", sorted(SNAPSHOTS))
def test_error_snapshot(tmp_path, name):
    meta, expected = SNAPSHOTS[name]
    assert problems(tmp_path, meta) == expected
    assert problems(tmp_path / "strict", meta, strict="1") == expected


@pytest.mark.parametrize("name", sorted(LENIENT_SNAPSHOTS))
def test_lenient_snapshot(tmp_path, name):
    meta, expected = LENIENT_SNAPSHOTS[name]
    s, found, warned = outcome(tmp_path, meta)
    assert (found, warned, len(s.recipes)) == ([], expected, 1)
    assert all(str(w).split(": ", 2)[1] == "warning" for w in s.warnings)
    s, found, warned = outcome(tmp_path / "strict", meta, strict="1")
    assert (found, warned, len(s.recipes)) == (expected, [], 0)


@pytest.mark.parametrize("meta, hint", [
    ("package:\n  name: x\n  version: '1'\nrequirements:\n  run:\n    - a  # [linx]\n", "did you mean 'linux'?"),
    ("{% set version = '1' %}\npackage:\n  name: x\n  version: {{ verison }}\n", "did you mean 'version'?"),
    ("package:\n  name: x\n  version: '1'\nrequirement:\n  run: [a]\n", "did you mean 'requirements'?"),
    ("package:\n  name: x\n  version: '1'\nbuild:\n  numbr: 1\n", "did you mean 'number'?"),
    ("package:\n  name: x\n  version: '1'\nsource:\n  sha265: abc\n", "did you mean 'sha256'?"),
    ("package:\n  name: x\n  version: '1'\ntest:\n  command: [a]\n", "did you mean 'commands'?"),
    ("package:\n  name: x\n  version: '1'\nrequirements:\n  host:\n    - a 1 2 3\n", "name [version [build]]"),
])
def test_hints(tmp_path, meta, hint):
    root = tmp_path / "recipes"
    recipe_dir(root, "r", meta)
    (problem,) = stack(root, strict="1").problems
    assert hint in problem.hint
    assert str(problem).startswith(f"{root / 'r' / 'meta.yaml'}:{problem.line}:{problem.col}: ")


def test_all_problems_of_a_stack_in_one_run(tmp_path):
    root = tmp_path / "recipes"
    recipe_dir(root, "good", "package: {name: good, version: '1'}\n")
    recipe_dir(root, "two-problems", """\
    package: {name: two, version: '1'}
    build:
      numbr: 1
    requirements:
      run:
        - a 1 2 3
    """)
    recipe_dir(root, "yaml-broken", "package:\n  name: [\n")
    recipe_dir(root, "jinja-broken", "package: {name: j, version: '{{ nope }}'}\n")
    s = stack(root)
    assert [r.name for r in s.recipes] == ["good"]
    assert sorted((p.path.parent.name, p.line) for p in s.problems) == [
        ("jinja-broken", 1), ("two-problems", 6), ("yaml-broken", 3)]
    assert [(p.path.parent.name, p.line) for p in s.warnings] == [("two-problems", 3)]
    s = stack(root, strict="1")
    assert sorted((p.path.parent.name, p.line) for p in s.problems) == [
        ("jinja-broken", 1), ("two-problems", 3), ("two-problems", 6), ("yaml-broken", 3)]


def test_duplicate_package_names_name_both_files(tmp_path):
    root = tmp_path / "recipes"
    recipe_dir(root, "a", "package: {name: same, version: '1'}\n")
    recipe_dir(root, "b-feedstock/recipe", "package: {name: other, version: '1'}\noutputs:\n  - name: same\n")
    s = stack(root)
    assert [r.name for r in s.recipes] == ["same"]
    (problem,) = s.problems
    assert problem.path == root / "b-feedstock" / "recipe" / "meta.yaml"
    assert str(root / "a" / "meta.yaml") in problem.message
    assert "duplicate package name 'same'" in problem.message


def test_duplicate_package_name_points_at_both_name_lines(tmp_path):
    root = tmp_path / "recipes"
    recipe_dir(root, "a", "{% set name = 'same' %}\n\npackage:\n  name: {{ name }}\n  version: '1'\n")
    recipe_dir(root, "b", "package:\n  name: other\n  version: '1'\nbuild:\n  number: 0\n"
                          "outputs:\n  - name: libother\n  - name: same\n")
    recipe_dir(root, "c", "# a copy\npackage:\n    name: same\n    version: '2'\n")
    s = stack(root)
    assert [r.name for r in s.recipes] == ["same"]
    first = root / "a" / "meta.yaml"
    assert [str(p).splitlines()[0] for p in s.problems] == [
        f"{root / 'b' / 'meta.yaml'}:8:11: duplicate package name 'same': also produced by {first}:4:9",
        f"{root / 'c' / 'meta.yaml'}:3:11: duplicate package name 'same': also produced by {first}:4:9",
    ]


def test_problems_in_variant_file(tmp_path):
    root = tmp_path / "recipes"
    write(root / "conda_build_config.yaml", "zlib:\n  - 1.2\n  bad: [\npython:  # [lnux]\n  - 3.11\n")
    recipe_dir(root, "r", "package: {name: r, version: '1'}\n")
    s = stack(root)
    assert [r.name for r in s.recipes] == ["r"]
    assert [(p.path.name, p.line, p.col) for p in s.problems] == [
        ("conda_build_config.yaml", 4, 13), ("conda_build_config.yaml", 3, 3)]
    assert "did you mean 'linux'?" in s.problems[0].hint


def test_unreadable_recipe_and_missing_root(tmp_path):
    root = tmp_path / "recipes"
    recipe_dir(root, "bin", "")
    (root / "bin" / "meta.yaml").write_bytes(b"package: \xff\xfe\n")
    s = stack(root)
    assert len(s.problems) == 1 and "cannot read recipe" in s.problems[0].message
    missing = stack(tmp_path / "nowhere")
    assert "recipes directory not found" in missing.problems[0].message
