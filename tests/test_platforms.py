"""Issue 8.5: more than one platform in one graph. A cross build whose `requirements/build`
names a recipe of the stack gets that recipe built natively for the build platform
(`...@linux-64` tasks), installed into its build prefix, and runs it."""
from __future__ import annotations

import json
from pathlib import Path

from doit_runner import run_doit, write_recipe
from render_helpers import stack as render_stack
from tasks.plan import make_plan

TOOL_META = """
package: {name: mytool, version: "1.0"}
requirements:
  build:
    - {{ compiler('c') }}
test:
  commands:
    - mytool | grep -qx made-by-mytool
"""
TOOL_BUILD = """
mkdir -p $PREFIX/bin
printf '#include <stdio.h>\\nint main(void) { puts("made-by-mytool"); return 0; }\\n' > mytool.c
$CC $CFLAGS $LDFLAGS mytool.c -o $PREFIX/bin/mytool
"""
APP_META = """
package: {name: app, version: "1.0"}
requirements:
  build:
    - mytool
test:
  commands:
    - grep -qx made-by-mytool $PREFIX/share/app.txt
"""
APP_BUILD = """
test "$(command -v mytool)" = "$BUILD_PREFIX/bin/mytool"
mkdir -p $PREFIX/share
mytool > $PREFIX/share/app.txt
"""
EM_X86_64 = 62


def elf_machine(path: Path) -> int:
    return int.from_bytes(path.read_bytes()[18:20], "little")


def test_a_cross_build_uses_a_tool_of_the_stack_built_for_the_build_machine(stack_dirs):
    recipes, cache = stack_dirs
    write_recipe(recipes, "mytool", TOOL_META, build_sh=TOOL_BUILD)
    write_recipe(recipes, "app", APP_META, build_sh=APP_BUILD)

    listing = run_doit(recipes, cache, "list", "--all", target="linux-aarch64", build="linux-64")
    assert listing.returncode == 0, listing.output
    names = {line.split()[0] for line in listing.stdout.splitlines()}
    native = {f"{stage}:mytool@linux-64" for stage in ("compile", "package", "index", "test")}
    assert native | {"build:mytool@linux-64", "compile:mytool", "compile:app", "download:mytool"} <= names
    assert "compile:app@linux-64" not in names and "download:mytool@linux-64" not in names

    run = run_doit(recipes, cache, "build:app", target="linux-aarch64", build="linux-64")
    assert run.returncode == 0, run.output
    assert {"compile:mytool@linux-64", "index:mytool@linux-64", "compile:app", "test:app"} <= run.ran, run.ran
    assert "compile:mytool" not in run.ran      # the target's own mytool is not what app needs
    # the tool was compiled natively, packaged for linux-64, and run by app's build
    (tool,) = (cache / "channel" / "linux-64").glob("mytool-1.0-*.conda")
    native_bin = next((cache / "prefix" / "linux-64" / "mytool").glob("_h_env*/bin/mytool"))
    assert elf_machine(native_bin) == EM_X86_64
    assert "build requirements from the stack" in (cache / "logs" / "app" / "linux-aarch64" / "compile.log").read_text()
    (package,) = (cache / "channel" / "linux-aarch64").glob("app-1.0-*.conda")
    assert tool.name and package.name
    stamp = json.loads((cache / "stamps" / "mytool" / "linux-64" / "compile.json").read_text())
    assert stamp["result"]["packages"][0]["files"] == ["bin/mytool"]

    again = run_doit(recipes, cache, "build:app", target="linux-aarch64", build="linux-64")
    assert again.returncode == 0 and again.ran == frozenset(), again.output


def test_the_plan_builds_for_the_build_machine_only_what_a_cross_build_needs(tmp_path):
    root = tmp_path / "recipes"
    write_recipe(root, "lib", 'package: {name: lib, version: "1"}\n')
    write_recipe(root, "script", 'package: {name: script, version: "1"}\nbuild: {noarch: generic}\n'
                                 "requirements: {run: [lib]}\n")
    write_recipe(root, "tool", 'package: {name: tool, version: "1"}\nrequirements: {host: [lib]}\n')
    write_recipe(root, "app", 'package: {name: app, version: "1"}\n'
                              "requirements: {build: [tool, script], host: [lib]}\n")
    target = render_stack(root)
    built = []

    def native():
        built.append(1)
        return render_stack(root, target="linux-64")

    plan = make_plan(target, "linux-aarch64", "linux-64", native)
    # the noarch script serves both platforms; its run requirement is needed natively too
    assert set(plan.needs[("app", "linux-aarch64")]) == {
        ("lib", "linux-aarch64"), ("tool", "linux-64"), ("lib", "linux-64"), ("script", "linux-aarch64")}
    assert plan.needs[("tool", "linux-64")] == (("lib", "linux-64"),)
    assert ("script", "linux-64") not in plan.nodes and ("app", "linux-64") not in plan.nodes
    assert plan.closure(("app", "linux-aarch64"))[-1] == ("app", "linux-aarch64")
    # a native build needs no second rendering and no build-platform node
    assert built == [1]
    same = make_plan(target, "linux-aarch64", "linux-aarch64", native)
    assert built == [1] and {p for _, p in same.nodes} == {"linux-aarch64"}
