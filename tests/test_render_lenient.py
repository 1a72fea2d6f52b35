"""Recipes conda-build reads are read: leniencies are warnings, and strict=1 refuses them.

Each test renders small real recipes twice where it matters: as conda-build would (the
recipe builds, with a located warning) and with strict=1 (the same place is a problem).
"""
from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
from render_helpers import located, outcome, recipe_dir, render, stack, write

from tasks.render.recipe import render_recipe
from tasks.render.source_vars import PLACEHOLDERS, git_info, hg_info, pep440_from_describe
from tasks.render.stack_loader import render_with_source
from tasks.settings import load_settings

HEAD = "package:\n  name: r\n  version: '1.0'\n"


def _both(tmp_path: Path, meta: str, files: dict[str, str] | None = None):
    """(lenient stack, its warnings) and (strict stack, its problems)."""
    lenient, problems, warnings = outcome(tmp_path / "lenient", meta, files)
    assert problems == [], problems
    strict, strict_problems, strict_warnings = outcome(tmp_path / "strict", meta, files, strict="1")
    assert strict_warnings == [] and strict.recipes == ()
    return lenient, warnings, strict_problems


# -- duplicate keys ------------------------------------------------------------------------
def test_duplicate_keys_keep_the_last_value(tmp_path):
    meta = HEAD + "build:\n  number: 1\n  number: 2\nabout:\n  summary: one\n  summary: two\n"
    s, warned, refused = _both(tmp_path, meta)
    recipe = s.recipes[0]
    assert (recipe.build.number, recipe.about["summary"]) == (2, "two")
    assert warned == ["r/meta.yaml:6:3: duplicate key 'number' (first at line 5); the last one is used",
                      "r/meta.yaml:9:3: duplicate key 'summary' (first at line 8); the last one is used"]
    assert refused == warned
    assert "strict=1" in stack(tmp_path / "strict" / "recipes", strict="1").problems[0].hint


# -- keys in the wrong section, keys only conda-build uses -----------------------------------
def test_keys_in_the_wrong_section_are_warnings(tmp_path):
    meta = HEAD + "build:\n  commands:\n    - make\nrequirements:\n  commands: [x]\n  host:\n    - zlib\n" \
                  "test:\n  command:\n    - 'true'\n"
    s, warned, refused = _both(tmp_path, meta)
    assert warned == ["r/meta.yaml:5:3: unknown key 'build/commands'",
                      "r/meta.yaml:8:3: unknown key 'requirements/commands'",
                      "r/meta.yaml:12:3: unknown key 'test/command'"]
    assert refused == warned
    assert s.recipes[0].requirements.host == ("zlib",)
    (hint,) = {w.hint for w in s.warnings if "test/command" in w.message}
    assert hint == "did you mean 'commands'?"


def test_keys_conda_build_knows_are_accepted_even_strict(tmp_path):
    sha = "0" * 64
    meta = HEAD + f"""\
source:
  url: https://example.invalid/r-1.0.tar.gz
  sha256: {sha}
  sha224: {'1' * 56}
  sha384: {'2' * 96}
  sha512: {'3' * 128}
  content_sha256: {sha}
build:
  ignore_verify_codes: [C1122]
  python_version_independent: true
requirements:
  preferred_env: py3
  host:
    - zlib
outputs:
  - name: r
  - name: r-data
    noarch: generic
    missing_dso_whitelist:
      - "*/libcuda.so*"
    build:
      ignore_verify_codes: [C1122]
      error_overlinking: true
    test:
      script_interpreter: python
      commands:
        - 'true'
"""
    recipe = render(tmp_path / "strict", meta, strict="1")
    data = recipe.outputs[1]
    assert data.build.noarch == "generic"
    assert data.build.missing_dso_whitelist == ("*/libcuda.so*",)
    assert recipe.build.other["ignore_verify_codes"] == ("C1122",)
    s, problems, warnings = outcome(tmp_path / "lenient", meta)
    assert (problems, warnings) == ([], [])


# -- render order: what a selector drops, and comments, cannot fail ------------------------------
def test_false_selector_and_comment_lines_cannot_fail(tmp_path):
    meta = """\
{% set version = "1.0" %}
package:
  name: r
  version: {{ version }}
# the old way: {{ load_setup_py_data()['version'] | bogus_filter }}
#   {{ undefined_thing }}
build:
  number: 0
  script: {{ not_defined_on_linux }}  # [win]
requirements:
  host:
    - {{ windows_only_call() }}  # [win]
    - zlib  # [linux]
about:
  summary: {{ version }}
"""
    s, warned, refused = _both(tmp_path, meta)
    recipe = s.recipes[0]
    assert (recipe.requirements.host, recipe.build.script, recipe.about["summary"]) == (("zlib",), None, "1.0")
    assert warned == []
    assert refused == [
        "r/meta.yaml:5:16: jinja2 syntax error: No filter named 'bogus_filter'. "
        "(on a line a selector drops or a comment line; rendered because strict=1)"]


def test_strict_renders_dropped_lines_undefined(tmp_path):
    meta = HEAD + "build:\n  script: {{ not_defined_on_linux }}  # [win]\n"
    s, warned, refused = _both(tmp_path, meta)
    assert refused == ["r/meta.yaml:5:14: undefined jinja2 variable: 'not_defined_on_linux' is undefined "
                       "(on a line a selector drops or a comment line; rendered because strict=1)"]


def test_true_selector_line_still_fails_at_its_position(tmp_path):
    meta = "# comment\n\n" + HEAD + "requirements:\n  host:\n    - {{ nope }}  # [linux]\n"
    root = tmp_path / "recipes"
    recipe_dir(root, "r", meta)
    assert located(root, stack(root).problems) == ["r/meta.yaml:8:10: undefined jinja2 variable: 'nope' is undefined"]


def test_skip_reason_from_a_selector_cut_before_jinja(tmp_path):
    root = tmp_path / "recipes"
    recipe_dir(root, "r", HEAD + "build:\n  skip: true  # [aarch64]\n  script: {{ undefined }}  # [win]\n")
    s = stack(root)
    assert [(k.name, k.reason) for k in s.skipped] == [("r", "selector: aarch64")]


# -- the jinja context -------------------------------------------------------------------------
def test_conda_build_environment_names(tmp_path):
    meta = HEAD + "about:\n  summary: {{ SUBDIR }} {{ ARCH }} {{ CONDA_BUILD_STATE }} {{ target_platform }}\n"
    assert render(tmp_path, meta).about["summary"] == "linux-aarch64 aarch64 RENDER linux-aarch64"
    assert render(tmp_path / "x", meta, target="linux-64").about["summary"] == "linux-64 64 RENDER linux-64"


def test_load_file_data_from_the_recipe_dir_and_str_data(tmp_path):
    meta = """\
{% set meta = load_file_data('info.json', from_recipe_dir=True) %}
{% set py = load_file_data('pyproject.toml', from_recipe_dir=True) %}
{% set y = load_file_data('more.yaml', from_recipe_dir=True) %}
{% set s = load_str_data('{"a": "b"}', 'json') %}
package:
  name: {{ meta['name'] }}
  version: {{ py['project']['version'] }}
about:
  summary: {{ y.summary }} {{ s.a }}
"""
    files = {"info.json": json.dumps({"name": "fromjson"}),
             "pyproject.toml": "[project]\nversion = '2.3.4'\n", "more.yaml": "summary: yaml\n"}
    recipe = render(tmp_path, meta, files=files, strict="1")
    assert (recipe.name, recipe.version, recipe.about["summary"]) == ("fromjson", "2.3.4", "yaml b")
    assert recipe.needs_source == ()


def test_source_files_and_git_vars_render_with_placeholders(tmp_path):
    meta = """\
{% set data = load_setuptools() %}
{% set m = load_file_regex(load_file='src/version.h', regex_pattern='VERSION "(.*)"') %}
{% set toml = load_file_data('pyproject.toml') %}
package:
  name: r
  version: {{ GIT_DESCRIBE_TAG[1:] }}
build:
  number: {{ GIT_DESCRIBE_NUMBER }}
  string: {{ GIT_BUILD_STR }}
about:
  summary: {{ m.group(1) }} {{ toml['project']['version'] }} {{ data.get('name', 'noname') }}
"""
    s, warned, refused = _both(tmp_path, meta)
    recipe = s.recipes[0]
    assert (recipe.version, recipe.build.number, recipe.build.string) == ("0", 0, PLACEHOLDERS["GIT_BUILD_STR"])
    assert recipe.about["summary"] == "0 0 noname"
    assert recipe.needs_source == ("GIT_DESCRIBE_TAG", "GIT_DESCRIBE_NUMBER", "GIT_BUILD_STR",
                                   "load_setuptools('setup.py')", "load_file_regex('src/version.h')",
                                   "load_file_data('pyproject.toml')")
    assert warned == ["r/meta.yaml:1:15: renders with placeholders until its source is fetched: "
                      + ", ".join(recipe.needs_source)]
    assert refused == warned


def test_resolved_packages_is_an_empty_list_with_a_warning(tmp_path):
    meta = HEAD + """\
requirements:
  host:
    - zlib
  run_constrained:
{% for package in resolved_packages('host') %}
    - {{ package }}
{% endfor %}
"""
    s, warned, refused = _both(tmp_path, meta)
    assert s.recipes[0].requirements.run_constrained == ()
    assert warned == ["r/meta.yaml:8:19: resolved_packages('host') gives an empty list: "
                      "the environment is solved after rendering"]


def test_import_and_include_from_the_recipe_dir(tmp_path):
    macros = """\
{% macro dep(name) -%}
{{ name }}-dev
{%- endmacro %}
{% set c = 'c-on-win' %}  # [win]
{% set c = 'c-on-linux' %}  # [linux]
"""
    meta = """\
{% import 'macros.j2' as m %}
package:
  name: r
  version: '1.0'
requirements:
  host:
    - {{ m.dep('zlib') }}
    - {{ m.c }}
{% include 'about.yaml' %}
"""
    files = {"macros.j2": macros, "about.yaml": "about:\n  summary: included\n  home: x  # [win]\n"}
    recipe = render(tmp_path, meta, files=files, strict="1")
    assert recipe.requirements.host == ("zlib-dev", "c-on-linux")
    assert dict(recipe.about) == {"summary": "included"}
    root = tmp_path / "missing" / "recipes"
    recipe_dir(root, "r", meta, {"macros.j2": macros})
    (problem,) = stack(root).problems
    assert (problem.line, "about.yaml" in problem.message) == (9, True)


def test_script_env_variables_are_in_the_context(tmp_path, monkeypatch):
    monkeypatch.setenv("CONDOIT_TEST_TOKEN", "from-env")
    meta = HEAD + """\
build:
  script_env:
    - CONDOIT_TEST_TOKEN
    - GIVEN=inline
about:
  summary: {{ CONDOIT_TEST_TOKEN }} {{ GIVEN }}
"""
    assert render(tmp_path, meta, strict="1").about["summary"] == "from-env inline"
    monkeypatch.delenv("CONDOIT_TEST_TOKEN")
    root = tmp_path / "unset" / "recipes"
    recipe_dir(root, "r", meta)
    assert located(root, stack(root).problems) == [
        "r/meta.yaml:9:15: undefined jinja2 variable: 'CONDOIT_TEST_TOKEN' is undefined"]


# -- source-derived values from a real checkout --------------------------------------------------
def _git(repo: Path, *args: str) -> str:
    env = {"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.invalid", "GIT_COMMITTER_NAME": "t",
           "GIT_COMMITTER_EMAIL": "t@example.invalid", "GIT_AUTHOR_DATE": "2020-01-01T00:00:00Z",
           "GIT_COMMITTER_DATE": "2020-01-01T00:00:00Z", "HOME": str(repo.parent), "PATH": "/usr/bin:/bin"}
    return subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True, text=True,
                          env=env).stdout.strip()


def _git_repo(path: Path, tags: int = 2) -> Path:
    path.mkdir(parents=True)
    _git(path, "init", "-q")
    for i in range(3):
        (path / "f").write_text(f"{i}\n")
        _git(path, "add", "f")
        _git(path, "commit", "-q", "-m", f"c{i}")
        if i == 0 and tags:
            _git(path, "tag", "-a", "v1.2.0", "-m", "release")
    return path


def test_git_info_from_a_real_checkout(tmp_path):
    repo = _git_repo(tmp_path / "repo")
    full = _git(repo, "rev-parse", "HEAD")
    short = "g" + _git(repo, "rev-parse", "--short=7", "HEAD")
    info = git_info(repo)
    assert info["GIT_DESCRIBE_TAG"] == "v1.2.0"
    assert info["GIT_DESCRIBE_NUMBER"] == "2"
    assert info["GIT_DESCRIBE_HASH"].startswith(short)
    assert info["GIT_FULL_HASH"] == full
    assert info["GIT_BUILD_STR"] == f"2_{info['GIT_DESCRIBE_HASH']}"
    assert info["GIT_DESCRIBE_TAG_PEP440"] == f"v1.2.0.post2+{info['GIT_DESCRIBE_HASH']}"
    untagged = git_info(_git_repo(tmp_path / "untagged", tags=0))
    assert set(untagged) == {"GIT_DESCRIBE_HASH", "GIT_FULL_HASH"}
    assert pep440_from_describe("1.0-0-gabcdef1") == "1.0"


def test_hg_info_from_a_real_checkout(tmp_path):
    hg = shutil.which("hg")
    assert hg, "hg (Debian package mercurial) is needed"
    repo = tmp_path / "hgrepo"
    env = {"HGUSER": "t", "HOME": str(tmp_path), "PATH": "/usr/bin:/bin", "HGPLAIN": "1"}
    subprocess.run([hg, "init", str(repo)], check=True, env=env)
    (repo / "f").write_text("x\n")
    for args in (["add", "f"], ["commit", "-m", "c0"], ["tag", "2.5"]):
        subprocess.run([hg, *args], check=True, env=env, capture_output=True, cwd=repo)
    info = hg_info(repo)
    assert (info["HG_LATEST_TAG"], info["HG_LATEST_TAG_DISTANCE"], info["HG_NUM_ID"], info["HG_BRANCH"]) == \
        ("2.5", "1", "1", "default")
    assert info["HG_BUILD_STR"] == f"1_{info['HG_SHORT_ID']}" and len(info["HG_SHORT_ID"]) == 12


def test_render_again_with_the_fetched_source(tmp_path):
    root = tmp_path / "recipes"
    meta = """\
{% set m = load_file_regex(load_file='f', regex_pattern='(\\\\d+)') %}
package:
  name: r
  version: {{ GIT_DESCRIBE_TAG[1:] }}
source:
  git_url: https://example.invalid/r.git
  folder: src
build:
  number: {{ GIT_DESCRIBE_NUMBER }}
  string: {{ GIT_BUILD_STR }}
about:
  summary: content {{ m.group(1) }}
"""
    recipe_dir(root, "r", meta)
    first = stack(root).recipes[0]
    assert first.version == "0" and "GIT_DESCRIBE_TAG" in first.needs_source
    work = tmp_path / "work"
    _git_repo(work / "src")
    (work / "f").write_text("version 42\n")
    settings = load_settings({"recipes": str(root), "cache": str(tmp_path / "cache")}, root=tmp_path)
    result = render_with_source(settings, root / "r" / "meta.yaml", work)
    assert result.problems == [] and result.warnings == []
    recipe = result.recipe
    assert (recipe.version, recipe.build.number, recipe.about["summary"]) == ("1.2.0", 2, "content 42")
    assert recipe.build.string == git_info(work / "src")["GIT_BUILD_STR"]
    assert recipe.needs_source == ()
    # a source that is not a checkout leaves the names undefined, as in conda-build
    plain = tmp_path / "plain"
    plain.mkdir()
    (plain / "f").write_text("1\n")
    again = render_recipe(root / "r" / "meta.yaml", settings, {}, source_dir=plain)
    assert [p.message for p in again.problems] == ["undefined jinja2 variable: 'GIT_DESCRIBE_TAG' is undefined"]


# -- variant files -------------------------------------------------------------------------------
def test_variant_files_on_the_command_line(tmp_path):
    root = tmp_path / "recipes"
    write(root / "conda_build_config.yaml", "zlib:\n  - 1.2\nlibpng:\n  - 1.6\n")
    write(root / "r" / "conda_build_config.yaml", "zlib:\n  - 1.3\n")
    recipe_dir(root, "r", HEAD + "requirements:\n  host:\n    - zlib {{ zlib }}\n    - libpng {{ libpng }}\n"
                                 "    - xz {{ xz }}\n")
    one = write(tmp_path / "one.yaml", "zlib:\n  - 2.0\nxz:\n  - 5.4\n")
    two = write(tmp_path / "two.yaml", "xz: 5.6\nxz: 5.8\nlibpng: 1.7\n")
    s = stack(root, variants=f"{one},{two}")
    assert s.recipes[0].requirements.host == ("zlib 2.0", "libpng 1.7", "xz 5.8")
    assert located(tmp_path, s.warnings) == [
        "two.yaml:2:1: duplicate key 'xz' (first at line 1); the last one is used"]
    assert s.problems == ()
    strict = stack(root, variants=f"{one},{two}", strict="1")
    assert located(tmp_path, strict.problems) == located(tmp_path, s.warnings)
    missing = stack(root, variants=str(tmp_path / "nope.yaml"))
    assert [(p.path.name, p.line, "cannot read variant file" in p.message) for p in missing.problems
            if p.path.suffix == ".yaml" and p.path.name != "meta.yaml"] == [
        ("nope.yaml", 1, True)]


# -- layouts ---------------------------------------------------------------------------------------
def test_recipes_nested_deeper_are_found(tmp_path):
    root = tmp_path / "recipes"
    pkg = "package:\n  name: {n}\n  version: '1.0'\nrequirements:\n  host:\n    - zlib {{{{ zlib }}}}\n"
    write(root / "group" / "conda_build_config.yaml", "zlib:\n  - 1.3\n")
    for where, name in (("flat", "flat"), ("x-feedstock/recipe", "feed"), ("group/sub/deep", "deep"),
                        ("y-feedstock/recipes/yy", "yy"), ("group/other/recipe", "other")):
        recipe_dir(root, where, pkg.format(n=name), {"nested/meta.yaml": "not: a recipe\n"})
    write(root / "conda_build_config.yaml", "zlib:\n  - 1.2\n")
    s = stack(root)
    assert not s.problems
    found = {r.name: (str(r.recipe_dir.relative_to(root)), r.requirements.host) for r in s.recipes}
    assert found == {"flat": ("flat", ("zlib 1.2",)), "feed": ("x-feedstock/recipe", ("zlib 1.2",)),
                     "deep": ("group/sub/deep", ("zlib 1.3",)), "yy": ("y-feedstock/recipes/yy", ("zlib 1.2",)),
                     "other": ("group/other/recipe", ("zlib 1.3",))}


def test_requirement_the_stack_cannot_satisfy(tmp_path):
    root = tmp_path / "recipes"
    recipe_dir(root, "foo", "package:\n  name: foo\n  version: '1.0'\noutputs:\n  - name: libfoo\n    version: '1.5'\n")
    recipe_dir(root, "app", "package:\n  name: app\n  version: '1'\nrequirements:\n  host:\n    - foo 2.0\n"
                            "    - libfoo >=1.2,<2\n")
    recipe_dir(root, "ok", "package:\n  name: ok\n  version: '1'\nrequirements:\n  host:\n    - foo 1.0\n"
                           "    - libfoo 1.5.*\n  run:\n    - foo >=1\n")
    recipe_dir(root, "runner", "package:\n  name: runner\n  version: '1'\nrequirements:\n  run:\n"
                               "    - libfoo >=2\n")
    s = stack(root)
    assert sorted(r.name for r in s.recipes) == ["foo", "ok"]
    foo = root / "foo" / "meta.yaml"
    assert located(root, s.problems) == [
        f"app/meta.yaml:6:7: requirement 'foo 2.0' (requirements/host) is not satisfied by the stack: "
        f"recipe 'foo' builds foo 1.0 ({foo}:2:9)",
        f"runner/meta.yaml:6:7: requirement 'libfoo >=2' (requirements/run) is not satisfied by the stack: "
        f"recipe 'foo' builds libfoo 1.5 ({foo}:5:11)"]


def test_requirement_on_a_version_known_only_after_fetching(tmp_path):
    """``version: {{ GIT_DESCRIBE_TAG }}...`` is a placeholder until the source is fetched
    (conda-build renders it again then): a constraint on it is not judged against the placeholder."""
    root = tmp_path / "recipes"
    recipe_dir(root, "tool", "package:\n  name: tool\n"
                             "  version: {{ GIT_DESCRIBE_TAG.split('-')[-1] }}.{{ GIT_BUILD_STR }}\n"
                             "source:\n  git_url: https://example.invalid/tool.git\n  git_tag: abc\n")
    recipe_dir(root, "app", "package:\n  name: app\n  version: '1'\nrequirements:\n  build:\n"
                            "    - tool >=1.23.0.442_g622d059\n")
    s = stack(root)
    assert not s.problems, [str(p) for p in s.problems]
    assert list(s.order) == ["tool", "app"]
    assert [w.message for w in s.warnings if "placeholders" in w.message]


def test_variant_pin_the_stack_cannot_satisfy(tmp_path):
    root = tmp_path / "recipes"
    write(root / "conda_build_config.yaml", "zlib:\n  - 1.2\n")
    recipe_dir(root, "zlib", "package:\n  name: zlib\n  version: '1.3.1'\n")
    recipe_dir(root, "app", "package:\n  name: app\n  version: '1'\nrequirements:\n  host:\n    - zlib\n")
    (problem,) = stack(root).problems
    assert (problem.path.parent.name, problem.line, problem.col) == ("app", 6, 7)
    assert "requirement 'zlib 1.2.*' (requirements/host)" in problem.message


# -- outputs -----------------------------------------------------------------------------------------
def test_outputs_without_a_top_level_version(tmp_path):
    meta = "package:\n  name: split\noutputs:\n  - name: libsplit\n    version: '2.1'\n" \
           "  - name: split\n    version: '2.2'\n"
    recipe = render(tmp_path, meta, strict="1")
    assert (recipe.version, [(o.name, o.version) for o in recipe.outputs]) == \
        ("2.2", [("libsplit", "2.1"), ("split", "2.2")])
    meta = "package:\n  name: split\noutputs:\n  - name: libsplit\n    version: '2.1'\n  - name: tools\n"
    root = tmp_path / "noversion" / "recipes"
    recipe_dir(root, "r", meta)
    assert located(root, stack(root).problems) == [
        "r/meta.yaml:6:5: outputs[1] has no version, and package/version is missing"]


def test_wheel_outputs_are_refused_clearly(tmp_path):
    root = tmp_path / "recipes"
    recipe_dir(root, "r", HEAD + "outputs:\n  - name: r\n  - name: r-wheel\n    type: wheel\n")
    (problem,) = stack(root).problems
    assert (problem.line, problem.col) == (7, 11)
    assert problem.message == "outputs[1]/type 'wheel' is not supported: condoit makes conda packages only"
    assert "pip" in problem.hint


# -- doit: warnings printed once, strict=1 as a doit variable -----------------------------------------
DODO = Path(__file__).resolve().parent.parent / "dodo.py"


@pytest.mark.parametrize("strict", [False, True])
def test_doit_prints_warnings_once_and_strict_refuses(tmp_path, strict):
    import sys
    root = tmp_path / "recipes"
    recipe_dir(root, "r", HEAD + "test:\n  command:\n    - 'true'\n")
    args = [sys.executable, "-m", "doit", "-f", str(DODO), f"recipes={root}", f"cache={tmp_path / 'cache'}"]
    proc = subprocess.run(args + (["strict=1"] if strict else []) + ["list", "--all"],
                          capture_output=True, text=True, cwd=tmp_path)
    line = f"{root / 'r' / 'meta.yaml'}:5:3: "
    if strict:
        assert f"{line}unknown key 'test/command'" in proc.stderr
        assert "download:r" not in proc.stdout
    else:
        assert proc.stderr.count(f"{line}warning: unknown key 'test/command'") == 1, proc.stderr
        assert "download:r" in proc.stdout


def test_common_version_constraints_are_judged_like_py_rattler_without_loading_it():
    """The stack's requirements are checked on every `doit` call: the usual forms are read
    without py-rattler, and every verdict agrees with the real client's."""
    from rattler import Version, VersionSpec

    from tasks.render.satisfy import _simple_accepts
    cases = [(">=6.4,<7.0a0", "6.4"), (">=6.4,<7.0a0", "7.0"), (">=6.4,<7.0a0", "6.10.1"), ("1.2.*", "1.2.9"),
             ("1.2.*", "1.20"), ("==3.0.20", "3.0.20"), ("==1.0", "1.0.0"), ("1.0|1.4", "1.4.2"), ("1.0|1.4", "1.5"),
             ("!=1.5", "1.5"), (">1.2", "1.2.0"), ("<=2", "2.0"), (">=1.2.13,<1.3.0a0", "1.2.13"), ("3.11", "3.11.2")]
    for constraint, version in cases:
        expected = bool(VersionSpec(constraint).matches(Version(version)))
        assert _simple_accepts(constraint, version) is expected, (constraint, version)
    assert _simple_accepts(">=1.0rc1", "1.0") is None and _simple_accepts(">=1", "1.0rc1") is None
