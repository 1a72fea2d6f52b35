"""Issue 4: a library and a program that links it, cross-compiled for linux-aarch64 from
C sources the test writes; which stages re-run after each kind of edit."""
from __future__ import annotations

import hashlib
import json
import zipfile
from pathlib import Path

import pytest

from conftest import require_cross_toolchain
from doit_runner import run_doit, write_recipe
from test_package_metadata import info_files
from tasks.paths import Layout

LIBFOO_META = """
package:
  name: libfoo
  version: "1.10"
source:
  path: {src}
build:
  number: 0
  run_exports:
    - {{{{ pin_subpackage('libfoo', max_pin='x') }}}}
requirements:
  build:
    - {{{{ compiler('c') }}}}
about:
  summary: {summary}
  license: MIT
test:
  commands:
    - test -f $PREFIX/lib/libfoo.so
"""

LIBFOO_BUILD = """
mkdir -p $PREFIX/lib $PREFIX/include
$CC $CFLAGS -shared -fPIC -o $PREFIX/lib/libfoo.so foo.c $LDFLAGS
cp foo.h $PREFIX/include/
"""

APP_META = """
package:
  name: app
  version: "0.1"
source:
  path: {src}
requirements:
  build:
    - {{{{ compiler('c') }}}}
  host:
    - libfoo
  run: [{run}]
test:
  commands:
    - app | grep -x "{expect}"
"""

APP_BUILD = """
mkdir -p $PREFIX/bin
$CC $CFLAGS $CPPFLAGS -o $PREFIX/bin/app app.c $LDFLAGS -lfoo
"""

ALL_STAGES = ("download", "extract", "patch", "compile", "package", "index", "test")


def stages(name: str, *which: str) -> set[str]:
    return {f"{s}:{name}" for s in which}


def write_sources(root: Path, value: int) -> tuple[Path, Path]:
    lib, app = root / "src" / "libfoo", root / "src" / "app"
    lib.mkdir(parents=True, exist_ok=True)
    app.mkdir(parents=True, exist_ok=True)
    (lib / "foo.h").write_text("int foo(void);\n")
    (lib / "foo.c").write_text(f'#include "foo.h"\nint foo(void) {{ return {value}; }}\n')
    (app / "app.c").write_text('#include <stdio.h>\n#include <foo.h>\n'
                               'int main(void) { printf("foo says %d\\n", foo()); return 0; }\n')
    return lib, app


@pytest.fixture
def two_recipes(stack_dirs):
    require_cross_toolchain()
    recipes, cache = stack_dirs
    lib_src, app_src = write_sources(recipes.parent, 42)
    write_recipe(recipes, "libfoo", LIBFOO_META.format(src=lib_src, summary="foo library"), build_sh=LIBFOO_BUILD)
    write_recipe(recipes, "app", APP_META.format(src=app_src, run="", expect="foo says 42"), build_sh=APP_BUILD)
    first = run_doit(recipes, cache, "build:app")
    assert first.returncode == 0, first.output
    assert first.ran >= stages("libfoo", *ALL_STAGES) | stages("app", *ALL_STAGES)
    return recipes, cache, lib_src, app_src


def index_json(cache: Path, name: str) -> dict:
    (archive,) = (cache / "channel" / "linux-aarch64").glob(f"{name}-*.conda")
    with zipfile.ZipFile(archive) as zf:
        member = next(n for n in zf.namelist() if n.startswith("info-"))
        import io, tarfile
        from backports import zstd
        raw = zstd.decompress(zf.read(member))
    with tarfile.open(fileobj=io.BytesIO(raw)) as tar:
        return json.load(tar.extractfile("info/index.json"))


def test_noop_run_is_all_up_to_date(two_recipes):
    recipes, cache, *_ = two_recipes
    again = run_doit(recipes, cache, "build:app")
    assert again.returncode == 0
    assert again.ran == frozenset(), again.output
    assert stages("app", *ALL_STAGES) <= again.uptodate


def test_run_exports_reach_the_dependent(two_recipes):
    _, cache, *_ = two_recipes
    index = index_json(cache, "app")
    assert any(d.startswith("libfoo >=1.10") and "<2" in d for d in index["depends"]), index["depends"]
    assert index["subdir"] == "linux-aarch64" and index["arch"] == "aarch64"
    assert any(d.startswith("__glibc >=") for d in index["depends"]), index["depends"]


def test_build_sh_edit_reruns_that_recipe_from_compile_on(two_recipes):
    """build.sh is in the package (info/recipe), so it is re-made; nothing upstream re-runs."""
    recipes, cache, *_ = two_recipes
    build = recipes / "app" / "build.sh"
    build.write_text(build.read_text().replace("$CFLAGS", "$CFLAGS -DUNUSED=1 -O1"))
    run = run_doit(recipes, cache, "build:app")
    assert run.returncode == 0, run.output
    assert run.ran == stages("app", "compile", "package", "index", "test"), run.output


def test_dependency_rebuilt_with_identical_output_leaves_dependents_alone(two_recipes):
    recipes, cache, *_ = two_recipes
    build = recipes / "libfoo" / "build.sh"
    build.write_text(build.read_text() + "\n# rebuilt, same bytes\n")
    run = run_doit(recipes, cache, "build:app")
    assert run.returncode == 0, run.output
    # libfoo is re-made (its info/recipe/build.sh changed) but what it installs did not
    # change, so the app that builds against it stays up to date (early cutoff).
    assert run.ran == stages("libfoo", "compile", "package", "index", "test"), run.output


def test_dependency_with_changed_output_rebuilds_dependents(two_recipes):
    recipes, cache, lib_src, _ = two_recipes
    (lib_src / "foo.c").write_text('#include "foo.h"\nint foo(void) { return 43; }\n')
    meta = recipes / "app" / "meta.yaml"
    meta.write_text(meta.read_text().replace("foo says 42", "foo says 43"))
    run = run_doit(recipes, cache, "build:app")
    assert run.returncode == 0, run.output
    expected = stages("libfoo", "download", "extract", "patch", "compile", "package", "index", "test") | \
        stages("app", "compile", "package", "index", "test")
    assert run.ran == expected, run.output


def test_run_requirement_edit_repackages_only(two_recipes):
    recipes, cache, *_ = two_recipes
    meta = recipes / "app" / "meta.yaml"
    meta.write_text(meta.read_text().replace("run: []", "run: [libfoo >=1.10]"))
    run = run_doit(recipes, cache, "build:app")
    assert run.returncode == 0, run.output
    assert run.ran == stages("app", "package", "index", "test"), run.output
    assert "libfoo >=1.10" in index_json(cache, "app")["depends"] or \
        any(d.startswith("libfoo >=1.10") for d in index_json(cache, "app")["depends"])


def test_about_edit_repackages_the_recipe_but_not_its_dependents(two_recipes):
    recipes, cache, *_ = two_recipes
    meta = recipes / "libfoo" / "meta.yaml"
    meta.write_text(meta.read_text().replace("summary: foo library", "summary: the foo library"))
    run = run_doit(recipes, cache, "build:app")
    assert run.returncode == 0, run.output
    assert run.ran == stages("libfoo", "package", "index", "test"), run.output
    # the re-made package keeps its file name; repodata must describe the new bytes
    (archive,) = (cache / "channel" / "linux-aarch64").glob("libfoo-*.conda")
    repodata = json.loads((archive.parent / "repodata.json").read_text())
    assert repodata["packages.conda"][archive.name]["sha256"] == hashlib.sha256(archive.read_bytes()).hexdigest()
    assert set(repodata["packages.conda"]) == {archive.name, *(p.name for p in archive.parent.glob("app-*.conda"))}


def test_same_prefix_gives_byte_identical_package(two_recipes):
    recipes, cache, *_ = two_recipes
    (archive,) = (cache / "channel" / "linux-aarch64").glob("libfoo-*.conda")
    before = archive.read_bytes()
    Layout(cache).stamp("libfoo", "package").unlink()  # forces a re-package
    run = run_doit(recipes, cache, "package:libfoo")
    assert run.ran == stages("libfoo", "package"), run.output
    assert archive.read_bytes() == before


def test_failing_build_script_names_recipe_stage_and_log(stack_dirs):
    require_cross_toolchain()
    recipes, cache = stack_dirs
    write_recipe(recipes, "broken", """
        package: {name: broken, version: "1"}
        requirements:
          build: ["{{ compiler('c') }}"]
        """, build_sh="echo about to fail\nexit 7\n")
    run = run_doit(recipes, cache, "build:broken")
    assert run.returncode != 0
    assert "[broken] stage 'compile' failed" in run.output
    assert "about to fail" in run.output  # the log's tail is on screen
    layout = Layout(cache)
    log = layout.log("broken", "compile")
    assert f"log: {log}" in run.output and log.is_file()
    assert "conda_build.sh" in run.output  # the re-entry script
    assert (layout.work("broken", "compile") / "conda_build.sh").is_file()
    assert not layout.stamp("broken", "compile").exists()
    assert not list((cache / "channel").rglob("broken-*"))


def test_recipe_without_build_script_says_so(stack_dirs):
    """A source and no build.sh nor build/script: 'no build script', before any environment
    is made; without a source it is a metapackage (conda-build runs no script) and builds."""
    recipes, cache = stack_dirs
    src = recipes.parent / "src"
    src.mkdir()
    (src / "hello.c").write_text("int main(void) { return 0; }\n")
    directory = write_recipe(recipes, "noscript", f"""
        package: {{name: noscript, version: "1"}}
        source:
          path: {src}
        build:
          number: 0
        """)
    write_recipe(recipes, "meta", """
        package: {name: meta, version: "1"}
        about: {summary: only requirements}
        """)
    run = run_doit(recipes, cache, "build:noscript")
    assert run.returncode != 0
    assert "[noscript] stage 'compile' failed: no build script: the recipe directory " \
           f"{directory} has no build.sh and {directory / 'meta.yaml'}:4 has no `build: script:`" in run.output
    assert f"hint: add {directory / 'build.sh'}" in run.output and "`build: script: ...`" in run.output
    assert "installed nothing" not in run.output
    assert not Layout(cache).host_prefix("noscript").exists()      # failed before making environments
    meta = run_doit(recipes, cache, "build:meta")
    assert meta.returncode == 0, meta.output
    assert stages("meta", "compile", "package", "index") <= meta.ran
    info = info_files(cache, "linux-aarch64", "meta")
    assert json.loads(info["info/paths.json"])["paths"] == []           # a package with no files


def test_native_build_of_the_same_recipes(stack_dirs):
    """target=linux-64 on this x86_64 machine: same recipes, native compiler, runs directly."""
    recipes, cache = stack_dirs
    lib_src, app_src = write_sources(recipes.parent, 42)
    write_recipe(recipes, "libfoo", LIBFOO_META.format(src=lib_src, summary="foo library"), build_sh=LIBFOO_BUILD)
    write_recipe(recipes, "app", APP_META.format(src=app_src, run="", expect="foo says 42"), build_sh=APP_BUILD)
    run = run_doit(recipes, cache, "build:app", target="linux-64")
    assert run.returncode == 0, run.output
    assert stages("app", *ALL_STAGES) <= run.ran
    (archive,) = (cache / "channel" / "linux-64").glob("app-0.1-*.conda")
    assert archive.is_file()
    build_log = Layout(cache, "linux-64").log("app", "compile").read_text()
    assert "x86_64-linux-gnu-gcc" in build_log
    # the aarch64 state is separate: building for it afterwards does not disturb linux-64's
    cross = run_doit(recipes, cache, "build:app")
    assert cross.returncode == 0, cross.output
    assert "compile:app" in cross.ran and "download:app" in cross.uptodate
    again = run_doit(recipes, cache, "build:app", target="linux-64")
    assert again.ran == frozenset(), again.output
