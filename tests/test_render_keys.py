"""Every section and key of the recipe reference lands in the model."""
from __future__ import annotations

from pathlib import Path

from render_helpers import render

from tasks.model import RunExports

FULL = """\
{% set version = "1.10" %}
package:
  name: bsdiff4
  version: {{ version }}

source:
  fn: bsdiff4-{{ version }}.tar.gz
  url: https://example.invalid/bsdiff4-{{ version }}.tar.gz
  md5: 29f6089290505fc1a852e176bd276c43
  sha1: f0a2c9a30073449cfb7d171c57552f3109d93894
  sha256: 5a022ff4c1d1de87232b1c70bde50afbb98212fd246be4a867d8737173cf1f8f
  folder: src
  patches:
    - fix.patch
    - patches/second.patch   # [linux]
    - never.patch            # [win]

build:
  number: 1
  string: abc_1
  entry_points:
    - bsdiff4 = bsdiff4.cli:main_bsdiff4
    - bspatch4 = bsdiff4.cli:main_bspatch4
  osx_is_app: yes
  binary_relocation: false
  features:
    - feature1
  track_features:
    - feature2
  preserve_egg_dir: yes
  no_softlink: (bin/path1\\.py|bin/path2)
  no_link:
    - bin/python
  script: python setup.py install
  script_env:
    - MY_VAR
    - OTHER=1
  has_prefix_files:
    - bin/file1
    - lib/file2
  binary_has_prefix_files:
    - lib/libfoo.so
  ignore_prefix_files:
    - share/doc/x
  detect_binary_files_with_prefix: false
  noarch: generic
  run_exports:
    weak:
      - bsdiff4 >=1.10
    strong:
      - libgcc-ng >=12
    weak_constrains:
      - other <2
  ignore_run_exports:
    - libstdcxx-ng
  ignore_run_exports_from:
    - {{ compiler('cxx') }}
  rpaths:
    - lib/
    - lib/R/lib/
  always_include_files:
    - lib/keep.txt
  missing_dso_whitelist:
    - "*/libcuda.so*"
  merge_build_host: true
  skip_compile_pyc:
    - "*.py"
  pin_depends: record

requirements:
  build:
    - python
  host:
    - python 3.11.* *_cpython
    - numpy>=1.11
    - setuptools >= 40.0
  run:
    - python
    - argparse  # [py26]
    - foo 1.0|1.4*
    - bar >=1.2,<2
  run_constrained:
    - baz !=1.5

test:
  files:
    - test-data.txt
  source_files:
    - tests/
  requires:
    - nose
  commands:
    - bsdiff4 -h
    - bspatch4 -h
  imports:
    - bsdiff4

about:
  home: https://example.invalid/bsdiff4
  license: BSD
  summary: binary diff and patch using the BSDIFF4-format
  custom_key:
    nested: [1, 2]
  pi: 3.10

extra:
  recipe-maintainers:
    - someone
  anything: goes
"""


def test_every_key_into_the_model(tmp_path):
    recipe = render(tmp_path, FULL, files={
        "fix.patch": "", "patches/second.patch": "", "run_test.sh": "echo ok\n", "run_test.py": "print(1)\n",
        "run_test.pl": "1;\n", "post-link.sh": "echo post\n", "pre-unlink.sh": "echo pre\n",
        "pre-link.sh": "x\n", "build.sh": "make\n"})
    rdir = tmp_path / "recipes" / "r"
    assert (recipe.name, recipe.version) == ("bsdiff4", "1.10")
    (src,) = recipe.sources
    assert src.kind == "url" and src.get("url") == ("https://example.invalid/bsdiff4-1.10.tar.gz",)
    assert src.get("fn") == "bsdiff4-1.10.tar.gz" and src.folder == "src"
    assert (src.get("md5"), src.get("sha1")) == ("29f6089290505fc1a852e176bd276c43",
                                                 "f0a2c9a30073449cfb7d171c57552f3109d93894")
    assert src.get("sha256").startswith("5a022ff4")
    assert src.patches == (str(rdir / "fix.patch"), str(rdir / "patches" / "second.patch"))
    assert src.line == 7
    b = recipe.build
    assert (b.number, b.string, b.script) == (1, "abc_1", "python setup.py install")
    assert b.entry_points == ("bsdiff4 = bsdiff4.cli:main_bsdiff4", "bspatch4 = bsdiff4.cli:main_bspatch4")
    assert b.osx_is_app is True and b.binary_relocation is False and b.preserve_egg_dir is True
    assert (b.features, b.track_features) == (("feature1",), ("feature2",))
    assert b.no_softlink == "(bin/path1\\.py|bin/path2)" and b.no_link == ("bin/python",)
    assert b.script_env == ("MY_VAR", "OTHER=1")
    assert b.has_prefix_files == ("bin/file1", "lib/file2")
    assert b.binary_has_prefix_files == ("lib/libfoo.so",)
    assert b.ignore_prefix_files == ("share/doc/x",)
    assert b.detect_binary_files_with_prefix is False and b.noarch == "generic"
    assert b.run_exports == RunExports(weak=("bsdiff4 >=1.10",), strong=("libgcc-ng >=12",),
                                       weak_constrains=("other <2",))
    assert b.ignore_run_exports == ("libstdcxx-ng",)
    assert b.ignore_run_exports_from == ("gxx_linux-aarch64",)
    assert b.rpaths == ("lib/", "lib/R/lib/") and b.always_include_files == ("lib/keep.txt",)
    assert b.missing_dso_whitelist == ("*/libcuda.so*",) and b.merge_build_host is True
    assert dict(b.other) == {"skip_compile_pyc": ("*.py",), "pin_depends": "record"}
    r = recipe.requirements
    assert r.build == ("python 3.11.*",)             # pinned by the variant's python
    assert r.host == ("python 3.11.* *_cpython", "numpy >=1.11", "setuptools >=40.0")
    assert r.run == ("python", "foo 1.0|1.4*", "bar >=1.2,<2") and r.run_constrained == ("baz !=1.5",)
    t = recipe.test
    assert (t.files, t.source_files, t.requires) == (("test-data.txt",), ("tests/",), ("nose",))
    assert t.commands == ("bsdiff4 -h", "bspatch4 -h") and t.imports == ("bsdiff4",)
    assert t.scripts == tuple(str(rdir / f"run_test.{e}") for e in ("sh", "py", "pl"))
    assert recipe.about["license"] == "BSD" and recipe.about["custom_key"]["nested"] == (1, 2)
    assert recipe.about["pi"] == "3.10"
    assert recipe.extra["recipe-maintainers"] == ("someone",) and recipe.extra["anything"] == "goes"
    assert dict(recipe.link_scripts) == {a: str(rdir / f"{a}.sh") for a in ("pre-link", "post-link", "pre-unlink")}
    assert recipe.build_script_path is None           # build/script wins over build.sh
    assert "argparse" not in recipe.rendered_text and "{{" not in recipe.rendered_text


def test_source_kinds_list_and_mirrors(tmp_path):
    meta = """\
    package: {name: kinds, version: '1'}
    source:
      - url:
          - https://mirror-a.invalid/x.tar.gz
          - https://mirror-b.invalid/x.tar.gz
        sha256: 5a022ff4c1d1de87232b1c70bde50afbb98212fd246be4a867d8737173cf1f8f
      - git_url: https://example.invalid/repo.git
        git_rev: v1.0
        git_depth: 1
        folder: vendored
      - git_url: https://example.invalid/other.git
        git_tag: v2
      - hg_url: ssh://hg@example.invalid/repo
        hg_tag: 1.1.4
      - svn_url: https://example.invalid/svn
        svn_rev: 1.1.4
        svn_ignore_externals: yes
      - path: ../local-src
    """
    recipe = render(tmp_path, meta)
    url, git, git2, hg, svn, path = recipe.sources
    assert url.kind == "url" and url.get("url") == ("https://mirror-a.invalid/x.tar.gz",
                                                    "https://mirror-b.invalid/x.tar.gz")
    assert (git.kind, git.get("git_url"), git.get("git_rev"), git.get("git_depth"), git.folder) == (
        "git", "https://example.invalid/repo.git", "v1.0", 1, "vendored")
    assert dict(git2.options) == {"git_url": "https://example.invalid/other.git", "git_tag": "v2"}
    assert (hg.kind, hg.get("hg_url"), hg.get("hg_tag")) == ("hg", "ssh://hg@example.invalid/repo", "1.1.4")
    assert (svn.kind, svn.get("svn_rev"), svn.get("svn_ignore_externals")) == ("svn", "1.1.4", True)
    assert (path.kind, path.get("path")) == ("path", str(tmp_path / "recipes" / "local-src"))
    assert [s.line for s in recipe.sources] == [3, 7, 11, 13, 15, 18]


def test_build_value_forms(tmp_path):
    meta = """\
    package: {name: forms, version: 2.0}
    build:
      script:
        - ./configure --prefix=$PREFIX
        - make install
      binary_relocation:
        - lib/*.so
      ignore_prefix_files: true
      noarch: python
      run_exports:
        - {{ pin_subpackage('forms') }}
    """
    recipe = render(tmp_path, meta, files={"build.sh": "never used\n"})
    assert recipe.version == "2.0"
    assert recipe.build.script == "./configure --prefix=$PREFIX\nmake install"
    assert recipe.build.binary_relocation == ("lib/*.so",)
    assert recipe.build.ignore_prefix_files is True and recipe.build.noarch == "python"
    assert recipe.build.run_exports.weak == ("forms >=2.0,<3.0a0",)


def test_build_sh_and_noarch_true(tmp_path):
    recipe = render(tmp_path, "package: {name: bsh, version: '1'}\nbuild:\n  noarch: true\n",
                    files={"build.sh": "make\n"})
    assert recipe.build_script_path == str(tmp_path / "recipes" / "r" / "build.sh")
    assert recipe.build.noarch == "generic"


def test_outputs(tmp_path):
    meta = """\
    package: {name: split, version: '2.1'}
    build: {number: 4}
    requirements:
      build:
        - make
    about: {license: MIT}
    outputs:
      - name: libsplit
        script: install-lib.sh
        files:
          - lib/libsplit.so.*
        requirements:
          - zlib
        test:
          commands:
            - test -f $PREFIX/lib/libsplit.so.2
      - name: split-tools
        version: '2.1.1'
        number: 7
        type: conda
        script: install-tools.py
        script_interpreter: python
        entry_points:
          - tool = split.cli:main
        run_exports:
          strong:
            - split-tools
        requirements:
          host:
            - {{ pin_subpackage('libsplit', exact=True) }}
        about: {summary: tools}
      - name: split
        requirements:
          run:
            - libsplit
      - name: never
        build:
          skip: true  # [linux]
    """
    recipe = render(tmp_path, meta)
    assert recipe.provides == ("split", "libsplit", "split-tools")
    lib, tools, same = recipe.outputs
    assert (lib.version, lib.script, lib.files, lib.build.number) == ("2.1", "install-lib.sh", ("lib/libsplit.so.*",), 4)
    assert lib.requirements.host == ("zlib",) and lib.requirements.run == ("zlib",)
    assert lib.test.commands == ("test -f $PREFIX/lib/libsplit.so.2",)
    assert (tools.version, tools.build.number, tools.script_interpreter) == ("2.1.1", 7, "python")
    assert tools.build.entry_points == ("tool = split.cli:main",)
    assert tools.build.run_exports.strong == ("split-tools",)
    assert tools.requirements.host == ("libsplit 2.1 *_4",)
    assert dict(tools.about) == {"summary": "tools"}
    # an output named like the package takes the top-level sections it does not set
    assert same.requirements.build == ("make",) and same.requirements.run == ("libsplit",)
    assert same.build.number == 4 and dict(same.about) == {"license": "MIT"}


def test_empty_sections_and_jinja_emptied_entries(tmp_path):
    meta = """\
    package: {name: empty, version: '1'}
    source:
    build:
    requirements:
      build:
      host:
        - {{ "" }}
        - zlib
    test:
    about:
    extra:
    """
    recipe = render(tmp_path, meta)
    assert recipe.sources == () and recipe.requirements.host == ("zlib",)


def test_write_rendered(tmp_path, capsys):
    import yaml

    from tasks.render.output import write_rendered
    recipe = render(tmp_path, FULL, files={"fix.patch": "", "patches/second.patch": "", "post-link.sh": "x\n"})
    target = tmp_path / "out" / "bsdiff4.yaml"
    write_rendered(recipe, str(target))
    assert capsys.readouterr().out.strip() == str(target)
    data = yaml.safe_load(target.read_text())
    assert data["package"] == {"name": "bsdiff4", "version": "1.10"}
    assert data["source"]["url"] == "https://example.invalid/bsdiff4-1.10.tar.gz"
    assert data["build"]["number"] == 1 and data["build"]["run_exports"]["strong"] == ["libgcc-ng >=12"]
    assert data["build"]["pin_depends"] == "record"
    assert data["requirements"]["host"][1] == "numpy >=1.11"
    assert data["extra"]["condoit"]["link_scripts"]["post-link"].endswith("post-link.sh")
    assert not list(Path(target.parent).glob(".*.part"))
