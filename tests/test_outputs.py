"""Multi-output recipes (conda-build 3 ``outputs:``): one build, one package per output,
each with its own metadata and tests, and dependents building against an output."""
from __future__ import annotations

import json
from pathlib import Path

from doit_runner import run_doit, write_recipe
from test_package_metadata import info_files

SPLIT = """
    package: {name: foo, version: "1.2.3"}
    build: {number: 2}
    outputs:
      - name: libfoo
        files: [lib/libfoo.so*]
        build:
          run_exports: ["{{ pin_subpackage('libfoo', max_pin='x') }}"]
        test:
          commands: [test -f $PREFIX/lib/libfoo.so.1, test ! -e $PREFIX/include/foo.h]
      - name: foo-dev
        files: [include/*]
        requirements:
          run: ["{{ pin_subpackage('libfoo', exact=True) }}"]
        test:
          commands: [test -f $PREFIX/include/foo.h, test -L $PREFIX/lib/libfoo.so]
        about: {summary: headers of foo}
      - name: foo-docs
        version: "1.2.3.1"
        script: install_docs.sh
        build: {noarch: generic}
        test:
          commands: [grep -q "foo-docs 1.2.3.1 from foo" $PREFIX/share/doc/foo/README]
      - name: foo-all
        requirements:
          run: ["{{ pin_subpackage('foo-dev', exact=True) }}", foo-docs]
    about: {license: MIT, summary: the foo library}
    """


def write_stack(recipes: Path) -> None:
    write_recipe(recipes, "foo", SPLIT, build_sh="""
        mkdir -p $PREFIX/lib $PREFIX/include
        echo lib > $PREFIX/lib/libfoo.so.1
        ln -s libfoo.so.1 $PREFIX/lib/libfoo.so
        echo '#define FOO 1' > $PREFIX/include/foo.h
        """, install_docs_sh="""
        mkdir -p $PREFIX/share/doc/foo
        echo "$PKG_NAME $PKG_VERSION from $TOP_PKG_NAME" > $PREFIX/share/doc/foo/README
        """)
    write_recipe(recipes, "usefoo", """
        package: {name: usefoo, version: "1"}
        build: {number: 0}     # an arch package: a noarch one takes only noarch run_exports
        requirements:
          host: [libfoo]
        """, build_sh="""
        test -f $PREFIX/lib/libfoo.so.1
        mkdir -p $PREFIX/share && echo uses > $PREFIX/share/usefoo.txt
        """)


def index_of(cache: Path, subdir: str, name: str) -> dict:
    return json.loads(info_files(cache, subdir, name)["info/index.json"])


def test_split_recipe_makes_one_package_per_output(stack_dirs):
    recipes, cache = stack_dirs
    write_stack(recipes)
    run = run_doit(recipes, cache, "build:usefoo")
    assert run.returncode == 0, run.output
    assert {"compile:foo", "package:foo", "test:foo", "compile:usefoo"} <= run.ran
    arch = cache / "channel" / "linux-aarch64"
    lib, dev, meta = (index_of(cache, "linux-aarch64", n) for n in ("libfoo", "foo-dev", "foo-all"))
    docs = index_of(cache, "noarch", "foo-docs")
    for index in (lib, dev, meta, docs):
        assert index["build_number"] == 2 and index["build"].startswith("h") and index["build"].endswith("_2")
    assert (lib["name"], lib["version"], lib["depends"]) == ("libfoo", "1.2.3", [])
    assert dev["depends"] == ["libfoo 1.2.3 *_2"]  # pin_subpackage(exact=True); installs solve in test:foo
    assert (docs["version"], docs["noarch"]) == ("1.2.3.1", "generic")
    assert meta["depends"] == ["foo-dev 1.2.3 *_2", "foo-docs"]
    files = {n: info_files(cache, s, n)["info/files"].decode().split()
             for n, s in (("libfoo", "linux-aarch64"), ("foo-dev", "linux-aarch64"),
                          ("foo-all", "linux-aarch64"), ("foo-docs", "noarch"))}
    assert files == {"libfoo": ["lib/libfoo.so", "lib/libfoo.so.1"], "foo-dev": ["include/foo.h"],
                     "foo-all": [], "foo-docs": ["share/doc/foo/README"]}
    assert json.loads(info_files(cache, "linux-aarch64", "libfoo")["info/run_exports.json"]) == \
        {"weak": ["libfoo >=1.2.3,<2.0a0"]}
    about = json.loads(info_files(cache, "linux-aarch64", "foo-dev")["info/about.json"])
    assert (about["summary"], about["license"]) == ("headers of foo", "MIT")  # merged over the top-level
    assert not list(arch.glob("foo-1.2.3-*")), "the top-level package is not made when outputs are"
    names = {p["name"] for sub in ("linux-aarch64", "noarch")
             for p in json.loads((cache / "channel" / sub / "repodata.json").read_text())["packages.conda"].values()}
    assert {"libfoo", "foo-dev", "foo-docs", "foo-all", "usefoo"} <= names
    assert index_of(cache, "linux-aarch64", "usefoo")["depends"] == ["libfoo >=1.2.3,<2.0a0"]


def test_editing_one_outputs_about_repackages_only(stack_dirs):
    recipes, cache = stack_dirs
    write_stack(recipes)
    assert run_doit(recipes, cache, "build:usefoo").returncode == 0
    meta = recipes / "foo" / "meta.yaml"
    meta.write_text(meta.read_text().replace("headers of foo", "the foo headers"))
    run = run_doit(recipes, cache, "build:usefoo")
    assert run.returncode == 0, run.output
    assert {"package:foo", "index:foo", "test:foo"} <= run.ran
    assert {"compile:foo", "compile:usefoo", "package:usefoo"} <= run.uptodate  # early cutoff
    about = json.loads(info_files(cache, "linux-aarch64", "foo-dev")["info/about.json"])
    assert about["summary"] == "the foo headers"
    assert len(list((cache / "channel" / "linux-aarch64").glob("libfoo-*.conda"))) == 1


def test_output_named_like_the_recipe_gets_every_built_file(stack_dirs):
    recipes, cache = stack_dirs
    write_recipe(recipes, "bar", """
        package: {name: bar, version: "2"}
        build: {noarch: generic}
        outputs:
          - name: bar-data
            files: [share/bar/data.txt]
            build: {noarch: generic}
          - name: bar
            build: {noarch: generic}
            test:
              commands: [test -f $PREFIX/bin/bar, test -f $PREFIX/share/bar/data.txt]
          - name: bar-failing
            build: {noarch: generic}
            test:
              commands: [test -f $PREFIX/bin/bar]
        """, build_sh="""
        mkdir -p $PREFIX/bin $PREFIX/share/bar
        echo 'echo bar' > $PREFIX/bin/bar
        echo data > $PREFIX/share/bar/data.txt
        """)
    run = run_doit(recipes, cache, "build:bar")
    # conda-build's rule: the same-named output without files/script takes all the build's files
    assert info_files(cache, "noarch", "bar")["info/files"].decode().split() == \
        ["bin/bar", "share/bar/data.txt"]
    # each output runs its own tests: the metapackage has no bin/bar
    assert run.returncode != 0 and "tests of bar-failing failed" in run.output
