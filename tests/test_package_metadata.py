"""What a package says about itself: info/ files, requirements flowing between recipes,
and the metadata a build script may override. Small recipes, real doit, real py-rattler."""
from __future__ import annotations

import io
import json
import tarfile
import zipfile
from pathlib import Path

from backports import zstd

from doit_runner import run_doit, write_recipe
from tasks.paths import Layout


def info_files(cache: Path, subdir: str, name: str) -> dict[str, bytes]:
    (archive,) = [p for p in (cache / "channel" / subdir).glob(f"{name}-*.conda")
                  if p.name.rsplit("-", 2)[0] == name]
    with zipfile.ZipFile(archive) as zf:
        member = next(n for n in zf.namelist() if n.startswith("info-"))
        raw = zstd.decompress(zf.read(member))
    with tarfile.open(fileobj=io.BytesIO(raw)) as tar:
        return {m.name: tar.extractfile(m).read() for m in tar.getmembers() if m.isfile()}


def test_info_metadata_of_a_package(stack_dirs):
    recipes, cache = stack_dirs
    write_recipe(recipes, "tool", """
        package: {name: tool, version: "0.0.0"}
        build:
          number: 3
          noarch: generic
          features: [fast]
          track_features: [fast]
          run_exports:
            weak: ["{{ pin_subpackage('tool', max_pin='x.x') }}"]
        requirements:
          run: [other-package >=2]
        test:
          commands: [grep -q "$PREFIX" $PREFIX/etc/tool.conf]
        about: {home: "https://example.invalid/tool", license: MIT, summary: a tool}
        extra: {maintainers: [someone]}
        """, build_sh="""
        mkdir -p $PREFIX/etc $PREFIX/bin
        echo "home=$PREFIX" > $PREFIX/etc/tool.conf
        echo 2.5.1 > $SRC_DIR/__conda_version__.txt
        """, **{"post-link.sh": "echo linked > $PREFIX/.messages.txt\n"})
    run = run_doit(recipes, cache, "package:tool")
    assert run.returncode == 0, run.output
    info = info_files(cache, "noarch", "tool")
    index = json.loads(info["info/index.json"])
    assert index["version"] == "2.5.1"  # __conda_version__.txt wins over meta.yaml
    assert index["build_number"] == 3 and index["build"].endswith("_3")
    assert index["noarch"] == "generic" and index["subdir"] == "noarch"
    assert index["arch"] is None and index["platform"] is None
    assert index["features"] == "fast" and index["track_features"] == "fast"
    assert index["depends"] == ["other-package >=2"]
    assert index["license"] == "MIT" and isinstance(index["timestamp"], int)
    assert json.loads(info["info/run_exports.json"]) == {"weak": ["tool >=0.0.0,<0.1.0a0"]}
    placeholder = Layout(cache).canonical_host_prefix("tool")  # the same in every cache
    assert len(placeholder) == len(str(Layout(cache).host_prefix("tool"))) and str(cache) not in placeholder
    assert info["info/has_prefix"].decode() == f"{placeholder} text etc/tool.conf\n"
    paths = json.loads(info["info/paths.json"])
    by_path = {p["_path"]: p for p in paths["paths"]}
    assert by_path["etc/tool.conf"]["prefix_placeholder"] == placeholder
    assert by_path["etc/tool.conf"]["file_mode"] == "text"
    assert "bin/.tool-post-link.sh" in by_path  # link scripts travel in bin/
    assert info["info/files"].decode().splitlines() == sorted(by_path)
    about = json.loads(info["info/about.json"])
    assert about["summary"] == "a tool" and about["extra"] == {"maintainers": ["someone"]}
    assert "info/recipe/meta.yaml" in info and "info/recipe/meta.yaml.template" in info
    assert b"pin_subpackage" not in info["info/recipe/meta.yaml"]
    assert b'grep -q "$PREFIX"' in info["info/test/run_test.sh"]
    hash_input = json.loads(info["info/hash_input.json"])
    assert hash_input["target_platform"] == "linux-aarch64"


def test_run_exports_flow_to_dependents_unless_ignored(stack_dirs):
    recipes, cache = stack_dirs
    write_recipe(recipes, "libdep", """
        package: {name: libdep, version: "1.4.2"}
        build:
          noarch: generic
          run_exports:
            weak: ["{{ pin_subpackage('libdep', max_pin='x') }}"]
            strong: ["libdep-runtime"]
            noarch: ["libdep-data"]
        """, build_sh="mkdir -p $PREFIX/share && echo dep > $PREFIX/share/libdep.txt\n")
    write_recipe(recipes, "middle", """
        package: {name: middle, version: "1"}
        build:
          run_exports: [middle-runtime]
          ignore_run_exports_from: [libdep]
        requirements:
          host: [libdep]
          run: [libdep]
        """, build_sh="mkdir -p $PREFIX/share && echo m > $PREFIX/share/middle.txt\n")
    for name, extra, noarch in (("uses", "", ""), ("ignores", "  ignore_run_exports: [libdep]\n", ""),
                                ("ignores-from", "  ignore_run_exports_from: [libdep]\n", ""),
                                ("noarch-user", "", "  noarch: generic\n")):
        write_recipe(recipes, name, f"""
package: {{name: {name}, version: "1"}}
build:
{noarch}{extra}  number: 0
requirements:
  host: [libdep]
""", build_sh=f"mkdir -p $PREFIX/share && echo {name} > $PREFIX/share/{name}.txt\n")
    # only what the recipe names in host exports: middle's host dependency libdep does not
    write_recipe(recipes, "indirect", """
package: {name: indirect, version: "1"}
requirements:
  host: [middle]
""", build_sh="mkdir -p $PREFIX/share && echo i > $PREFIX/share/indirect.txt\n")
    names = ("uses", "ignores", "ignores-from", "indirect")
    run = run_doit(recipes, cache, *(f"package:{n}" for n in names + ("noarch-user",)))
    assert run.returncode == 0, run.output
    depends = {n: json.loads(info_files(cache, "linux-aarch64", n)["info/index.json"])["depends"] for n in names}
    assert depends["uses"] == ["libdep >=1.4.2,<2.0a0", "libdep-runtime"]
    assert depends["ignores"] == ["libdep-runtime"]  # by name: the weak export is dropped
    assert depends["ignores-from"] == []             # everything libdep exports is dropped
    assert depends["indirect"] == ["middle-runtime"]  # not libdep's: it is middle's host dependency
    noarch = json.loads(info_files(cache, "noarch", "noarch-user")["info/index.json"])["depends"]
    assert noarch == ["libdep-data"]                 # a noarch package takes the noarch exports only


def test_missing_compiler_and_unknown_tool_are_named_with_how_to_get_them(stack_dirs):
    recipes, cache = stack_dirs
    write_recipe(recipes, "needs", """
        package: {name: needs, version: "1"}
        requirements:
          build:
            - "{{ compiler('fortran') }}"
            - frobnicator
        """, build_sh="true\n")
    run = run_doit(recipes, cache, "compile:needs")
    assert run.returncode != 0
    assert "[needs] build requirements cannot be met" in run.output
    assert "gfortran_linux-aarch64: needs `aarch64-linux-gnu-gfortran` " \
           "(apt-get install gfortran-aarch64-linux-gnu)" in run.output
    assert "frobnicator: neither a compiler, a known build-machine tool, nor a recipe of the stack" in run.output
    assert "Traceback" not in run.output


def test_a_host_requirement_nobody_builds_is_a_clear_compile_error(stack_dirs):
    recipes, cache = stack_dirs
    write_recipe(recipes, "wants", """
        package: {name: wants, version: "1"}
        requirements:
          host: [libnowhere >=2]
        """, build_sh="true\n")
    run = run_doit(recipes, cache, "compile:wants")
    assert run.returncode != 0
    assert "[wants] stage 'compile' failed: cannot create the host prefix of wants" in run.output
    assert "libnowhere >=2" in run.output
    assert f"log: {Layout(cache).log('wants', 'compile')}" in run.output
    assert "Traceback" not in run.output
    assert not Layout(cache).stamp("wants", "compile").exists()
