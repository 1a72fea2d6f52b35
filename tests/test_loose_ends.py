"""Issue 8.8: one sha256, one tree digest, one archive-name parser, one test-file generator
(what ships in info/test is what the test stage runs), link.json for noarch: python entry
points, refused keys that are never silently ignored, the tool version from the metadata."""
from __future__ import annotations

import ast
import io
import json
import os
import re
import sys
import tarfile
import zipfile
from importlib.metadata import version
from pathlib import Path

import pytest
from backports import zstd

from doit_runner import ROOT, run_doit, write_recipe
from tasks.condapkg import parse_archive_name
from tasks.envs import create_env
from tasks.errors import CondoitError
from tasks.fsutil import sha256_file, tree_digest
from tasks.settings import load_settings

PYTHON_META = """
package: {name: python, version: "3.11.0"}
"""
# A stand-in for python: the interpreter running the tests, looking into this prefix's
# site-packages (a shell script: the kernel runs it as the interpreter of a #! line too).
PYTHON_BUILD = (
    "mkdir -p $PREFIX/bin $PREFIX/lib/python3.11/site-packages\n"
    "printf '#!/bin/sh\\nhere=$(cd \"$(dirname \"$0\")/..\" && pwd)\\n"
    f"PYTHONPATH=\"$here/lib/python3.11/site-packages\" exec {sys.executable} \"$@\"\\n' "
    "> $PREFIX/bin/python3.11\n"
    "chmod +x $PREFIX/bin/python3.11\n"
    "ln -s python3.11 $PREFIX/bin/python\n"
)
DEMO_META = """
package: {name: demo, version: "1.0"}
build:
  noarch: python
  entry_points:
    - demo-cli = demo.cli:main
requirements:
  host: [python]
  run: [python]
test:
  imports: [demo.cli]
  commands:
    - demo-cli | grep -qx hello-from-demo
"""
DEMO_BUILD = (
    "mkdir -p $PREFIX/site-packages/demo\n"
    "touch $PREFIX/site-packages/demo/__init__.py\n"
    "printf 'def main():\\n    print(\"hello-from-demo\")\\n' > $PREFIX/site-packages/demo/cli.py\n"
)


def info_files(archive: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(archive) as zf:
        member = next(n for n in zf.namelist() if n.startswith("info-"))
        raw = zstd.decompress(zf.read(member))
    with tarfile.open(fileobj=io.BytesIO(raw)) as tar:
        return {m.name: tar.extractfile(m).read() for m in tar.getmembers() if m.isfile()}


def test_noarch_python_entry_points_are_in_link_json_and_installed(stack_dirs, tmp_path):
    recipes, cache = stack_dirs
    write_recipe(recipes, "python", PYTHON_META, build_sh=PYTHON_BUILD)
    write_recipe(recipes, "demo", DEMO_META, build_sh=DEMO_BUILD)
    run = run_doit(recipes, cache, "build:demo")
    assert run.returncode == 0, run.output
    (archive,) = (cache / "channel" / "noarch").glob("demo-1.0-*.conda")
    info = info_files(archive)
    assert json.loads(info["info/link.json"]) == {
        "noarch": {"type": "python", "entry_points": ["demo-cli = demo.cli:main"]}, "package_metadata_version": 1}
    assert "bin/demo-cli" not in info["info/files"].decode().split()    # the installer writes it
    # what ships in info/test is what the test stage ran: the imports too
    assert b"import demo.cli" in info["info/test/run_test.py"]
    assert b"demo-cli | grep -qx hello-from-demo" in info["info/test/run_test.sh"]
    log = (cache / "logs" / "demo" / "linux-aarch64" / "test.log").read_text()
    assert "run_test.py" in log and "import: demo.cli" in log
    assert json.loads(info["info/about.json"])["tool_version"] == version("condoit")
    # py-rattler writes the entry point script from link.json
    prefix = tmp_path / "installed"
    create_env(["demo"], prefix, load_settings({"recipes": str(recipes), "cache": str(cache)}))
    script = (prefix / "bin" / "demo-cli").read_text()
    assert "demo.cli" in script and script.startswith(f"#!{prefix}/bin/python")


def test_merge_build_host_and_wheel_outputs_are_refused_when_built(stack_dirs):
    recipes, cache = stack_dirs
    write_recipe(recipes, "merged", """
        package: {name: merged, version: "1.0"}
        build: {merge_build_host: true, noarch: generic}
        """, build_sh="mkdir -p $PREFIX/share && touch $PREFIX/share/merged\n")
    write_recipe(recipes, "wheely", """
        package: {name: wheely, version: "1.0"}
        outputs:
          - name: wheely
            type: wheel
        """, build_sh="true\n")
    run = run_doit(recipes, cache, "build")
    assert run.returncode == 1, run.output
    assert "build/merge_build_host: true" in run.output and "is not supported: condoit cross compiles" in run.output
    assert re.search(r"type:? '?wheel'? is not supported: condoit makes conda packages only", run.output), run.output
    assert "compile:merged" in run.ran and "package:merged" not in run.ran


def test_one_archive_name_parser():
    parsed = parse_archive_name("python-dateutil-2.8.2-pyhd8ed1ab_0.tar.bz2")
    assert (parsed.name, parsed.version, parsed.build, parsed.suffix) == \
        ("python-dateutil", "2.8.2", "pyhd8ed1ab_0", ".tar.bz2")
    assert parsed.stem == "python-dateutil-2.8.2-pyhd8ed1ab_0"
    assert parse_archive_name("repodata.json") is None and parse_archive_name("x-1.conda") is None
    # nobody else slices package file names
    sliced = []
    for path in (ROOT / "tasks").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) \
                    and node.func.attr == "removesuffix" and node.args and isinstance(node.args[0], ast.Constant) \
                    and node.args[0].value in (".conda", ".tar.bz2"):
                sliced.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert sliced == []


def test_one_tree_digest_for_source_trees_and_built_files(tmp_path):
    prefix = tmp_path / "prefix"
    (prefix / "lib").mkdir(parents=True)
    (prefix / "lib" / "a.pc").write_text(f"prefix={prefix}\n")
    digests = []
    for mode in (0o644, 0o600):          # a package keeps the executable bits of a mode, nothing else
        os.chmod(prefix / "lib" / "a.pc", mode)
        digests += [tree_digest(prefix, files=["lib/a.pc"], relocatable=True), tree_digest(prefix)]
    assert digests[0] == digests[2] and digests[1] == digests[3]
    os.chmod(prefix / "lib" / "a.pc", 0o755)
    assert tree_digest(prefix, files=["lib/a.pc"], relocatable=True) != digests[0]
    plain = tmp_path / "plain.txt"
    plain.write_text("prefix=$PREFIX\n")
    assert sha256_file(prefix / "lib" / "a.pc", [str(prefix).encode()]) == sha256_file(plain)
    import tasks.prefix_files as prefix_files
    assert not [n for n in vars(prefix_files) if "digest" in n or "sha256" in n]


def test_every_setting_is_a_variable_and_a_misspelt_one_is_an_error(stack_dirs, tmp_path):
    """`doit ... zig_cache=DIR` sets the setting (doit alone would ignore a variable nobody reads);
    a misspelt name fails the command with a suggestion instead of changing nothing."""
    recipes, cache = stack_dirs
    write_recipe(recipes, "one", 'package: {name: one, version: "1"}\nbuild: {noarch: generic}\n')
    bad = run_doit(recipes, cache, "list", zig_cach=str(tmp_path / "zig"))
    assert bad.returncode == 2, bad.output
    assert "unknown variable zig_cach= (did you mean zig_cache=?)" in bad.output and "Traceback" not in bad.output
    good = run_doit(recipes, cache, "list", "--all", zig_cache=str(tmp_path / "zig"), compression_level="3")
    assert good.returncode == 0 and "build:one" in good.output, good.output
    settings = load_settings({"zig_cache": str(tmp_path / "zig"), "compression_level": "3"})
    assert settings.zig_cache == tmp_path / "zig" and settings.compression_level == 3


def test_a_setting_of_the_wrong_kind_or_out_of_range_is_named_with_where_it_came_from(stack_dirs, monkeypatch):
    recipes, cache = stack_dirs
    write_recipe(recipes, "one", 'package: {name: one, version: "1"}\nbuild: {noarch: generic}\n')
    cases = [({"compression_level": "abc"}, "compression_level='abc' (the command line): expected a whole number"),
             ({"compression_level": "30"}, "compression_level 30: zstd (.conda) takes -7 to 22"),
             ({"cpu_count": "0"}, "cpu_count 0: at least 1"),
             ({"format": ".zip"}, "package format '.zip'; known: .conda, .tar.bz2")]
    for variables, message in cases:
        run = run_doit(recipes, cache, "build", **variables)
        assert run.returncode == 2 and f"condoit: {message}" in run.stderr, run.output
        assert "Traceback" not in run.output
    # bzip2 -9 makes .tar.bz2 files whatever the zstd level says: the default level is fine there
    assert load_settings({"format": ".tar.bz2"}).compression_level == 16
    monkeypatch.setenv("CONDOIT_CPU_COUNT", "many")     # (run_doit leaves CONDOIT_ variables out)
    with pytest.raises(CondoitError, match=r"cpu_count='many' \(a CONDOIT_ environment variable\)"):
        load_settings({})
