"""Issue 8.4: portable signatures. A stage's signature depends on content only: the same
stack in another checkout, with another cache and another CPU count, gets the same
signature for every stage; a variant value enters only the recipes that use it."""
from __future__ import annotations

import json
import os
from pathlib import Path

from doit_runner import ROOT, run_doit, text_recipe, write_recipe
from render_helpers import render
from tasks.paths import Layout
from tasks.fsutil import tree_digest
from tasks.settings import Settings, load_settings
from tasks.signatures import locations, portable
from tasks.engine import Engine
from tasks.stages import STAGES
from tasks.stages.base import STACK, Inputs, stage_signature

RECIPE_STAGES = [name for name, stage in STAGES.items() if stage.scope != STACK]

LIB_META = """
package:
  name: lib
  version: "1.0"
source:
  path: ../../src/lib
  patches:
    - fix.patch
build:
  noarch: generic
test:
  files:
    - expected.txt
  commands:
    - grep -qx "prefix=$PREFIX" $PREFIX/lib/pkgconfig/lib.pc
"""
LIB_BUILD = """
mkdir -p $PREFIX/share/lib $PREFIX/lib/pkgconfig
cp greeting.txt $PREFIX/share/lib/
echo "prefix=$PREFIX" > $PREFIX/lib/pkgconfig/lib.pc
"""
LIB_PATCH = """\
--- a/greeting.txt
+++ b/greeting.txt
@@ -1 +1 @@
-hello
+hello, world
"""
LIB_RUN_TEST = "cmp expected.txt $PREFIX/share/lib/greeting.txt\n"

APP_META = """
package:
  name: app
  version: "2.0"
source:
  path: ../../src/app
build:
  noarch: generic
requirements:
  host:
    - lib
  run:
    - lib
test:
  commands:
    - grep -q "hello, world" $PREFIX/share/app/app.txt
"""
APP_BUILD = """
mkdir -p $PREFIX/share/app
cat $PREFIX/share/lib/greeting.txt app.txt > $PREFIX/share/app/app.txt
"""


def write_checkout(root: Path) -> Path:
    """A checkout: recipes/ (a patch, a build.sh, test files) and src/ for their path: sources."""
    (root / "src" / "lib").mkdir(parents=True)
    (root / "src" / "app").mkdir(parents=True)
    (root / "src" / "lib" / "greeting.txt").write_text("hello\n")
    (root / "src" / "app" / "app.txt").write_text("from app\n")
    recipes = root / "recipes"
    write_recipe(recipes, "lib", LIB_META, build_sh=LIB_BUILD, run_test_sh=LIB_RUN_TEST)
    (recipes / "lib" / "fix.patch").write_text(LIB_PATCH)
    (recipes / "lib" / "expected.txt").write_text("hello, world\n")
    write_recipe(recipes, "app", APP_META, build_sh=APP_BUILD)
    # A package's time stamp is its source's newest file time (SOURCE_DATE_EPOCH): a path:
    # source's mtimes are part of what the package is made of, so both checkouts share them.
    for dirpath, _dirs, files in os.walk(root):
        for name in files:
            os.utime(os.path.join(dirpath, name), (1_700_000_000, 1_700_000_000))
    return recipes


def stamps(cache: Path, names: tuple[str, ...]) -> dict[str, dict]:
    layout = Layout(cache)
    out = {}
    for name in names:
        for stage in RECIPE_STAGES:
            out[f"{stage}:{name}"] = json.loads(layout.stamp(name, stage).read_text())
    out["channel"] = json.loads(Layout(cache, "").stamp("@stack", "channel").read_text())
    return out


def test_same_stack_elsewhere_gives_the_same_signatures(tmp_path):
    first = tmp_path / "one" / "checkout"
    second = tmp_path / "somewhere" / "else" / "another-checkout"
    places = [(first, write_checkout(first), first / "cache", "1"),
              (second, write_checkout(second), tmp_path / "caches" / "shared-cache", "7")]
    found = []
    for root, recipes, cache, cpus in places:
        run = run_doit(recipes, cache, "build", cwd=root, cpu_count=cpus)
        assert run.returncode == 0, run.output
        assert {"compile:lib", "compile:app", "test:app"} <= run.ran
        found.append(stamps(cache, ("lib", "app")))
    one, two = found
    assert one.keys() == two.keys() and len(one) == 2 * len(RECIPE_STAGES) + 1
    differ = [task for task in one if one[task]["signature"] != two[task]["signature"]]
    assert not differ, f"signatures differ between the two places: {differ}"
    # and so do the results: same trees, same package bytes (all but where they are)
    results = [{t: STAGES[t.split(":")[0]].result.from_json(stamps[t]["result"]).fingerprint() for t in stamps}
               for stamps in (one, two)]
    assert [t for t in one if results[0][t] != results[1][t]] == []


def shipped_signatures(root: Path, cache: Path, cpus: int) -> dict[str, str]:
    """Every stage's signature for the shipped recipes copied to ``root``, without upstream
    results (the same in every cache), so inputs() of every stage of every real recipe are compared."""
    settings = load_settings({"cache": str(cache), "cpu_count": cpus}, root=root)
    engine = Engine(settings)
    assert not engine.stack.problems and engine.stack.recipes
    found = {}
    for stage in STAGES:
        for ref, ctx, _recipe in engine.jobs(stage):
            found[str(ref)] = stage_signature(STAGES[stage], ref, ctx, Inputs(ref, {}))
    return found


def test_shipped_recipes_in_two_checkouts_have_the_same_signatures(tmp_path):
    import shutil
    one, two = tmp_path / "a", tmp_path / "b" / "second-checkout"
    for root in (one, two):
        shutil.copytree(ROOT / "recipes", root / "recipes")
    first = shipped_signatures(one, one / "cache", 2)
    second = shipped_signatures(two, tmp_path / "elsewhere" / "cache", 48)
    assert None not in first.values() and first.keys() == second.keys()
    assert [task for task in first if first[task] != second[task]] == []


def test_settings_key_holds_no_path_and_no_machine_fact(tmp_path):
    a = Settings(root=tmp_path / "a", recipes_dir=tmp_path / "a" / "recipes", cache_dir=tmp_path / "c1",
                 cpu_count=1)
    b = Settings(root=tmp_path / "b", recipes_dir=tmp_path / "r", cache_dir=tmp_path / "x" / "c2",
                 cpu_count=64, python="3.12", numpy="2.0")
    assert a.cache_key() == b.cache_key()
    assert str(tmp_path) not in json.dumps(a.cache_key())


def test_places_become_names(tmp_path):
    settings = Settings(root=tmp_path / "co", recipes_dir=tmp_path / "co" / "recipes",
                        cache_dir=tmp_path / "cache")
    recipe = render(tmp_path / "co", 'package: {name: r, version: "1"}\n')
    places = locations(recipe, settings)
    data = {"a": str(recipe.recipe_dir / "run_test.sh"), "b": [f"cd {tmp_path}/co/src && make"],
            "c": f"{tmp_path}/cache/x", "d": f"{tmp_path}/co-other/y", str(tmp_path / "co" / "k"): 1}
    assert portable(data, places) == {"a": "$RECIPE_DIR/run_test.sh", "b": ["cd $ROOT/src && make"],
                                      "c": "$CACHE/x", "d": f"{tmp_path}/co-other/y", "$ROOT/k": 1}


def test_every_place_in_one_string_is_named_and_no_longer_name_is_cut():
    places = (("/w/co/recipes", "$RECIPES"), ("/w/cache", "$CACHE"), ("/w/co", "$ROOT"))
    text = "/w/co-2/a /w/co/b:/w/co/recipes/x /w/cache /w/cachet /w/co/recipes2 /w/co"
    assert portable(text, places) == "/w/co-2/a $ROOT/b:$RECIPES/x $CACHE /w/cachet $ROOT/recipes2 $ROOT"


def test_built_files_digest_ignores_where_the_prefix_is(tmp_path):
    digests = []
    for where in ("p", "another/prefix"):
        prefix = tmp_path / where / "_h_env_placehold"
        (prefix / "lib").mkdir(parents=True)
        (prefix / "lib" / "x.pc").write_text(f"prefix={prefix}\nlibdir={prefix}/lib\n")
        (prefix / "lib" / "bin.so").write_bytes(b"\0ELF" + str(prefix).encode() + b"/lib\0" * 3)
        os.symlink(f"{prefix}/lib/x.pc", prefix / "lib" / "y.pc")
        digests.append(tree_digest(prefix, files=["lib/x.pc", "lib/bin.so", "lib/y.pc"], relocatable=True))
    assert digests[0] == digests[1]


def test_python_variant_reruns_only_the_recipes_that_use_it(stack_dirs):
    recipes, cache = stack_dirs
    text_recipe(recipes, "plain")
    text_recipe(recipes, "jinja", meta=TEXT_META_PYTHON)
    text_recipe(recipes, "script", build="mkdir -p $PREFIX/share\necho $PKG_NAME > $PREFIX/share/$PKG_NAME.txt\n"
                                         "echo $PY_VER > $PREFIX/share/$PKG_NAME.py\n")
    first = run_doit(recipes, cache, "build")
    assert first.returncode == 0, first.output
    again = run_doit(recipes, cache, "build", cpu_count="13")
    assert again.returncode == 0 and not again.ran, again.output
    py312 = run_doit(recipes, cache, "build", python="3.12")
    assert py312.returncode == 0, py312.output
    assert not {t for t in py312.ran if t.endswith(":plain")}, py312.ran
    assert {f"{s}:plain" for s in RECIPE_STAGES} <= py312.uptodate
    assert {"compile:jinja", "compile:script"} <= py312.ran
    assert not {t for t in py312.ran if t.split(":")[0] in ("download", "extract", "patch")}


TEXT_META_PYTHON = """
package: {{name: {name}, version: "1.0"}}
build:
  noarch: generic
about:
  summary: "made for python {{{{ python }}}}"
test:
  commands:
    - grep -qx {name} $PREFIX/share/{name}.txt
"""


def test_derived_jinja_names_count_as_using_the_key(tmp_path):
    recipe = render(tmp_path, 'package: {name: r, version: "1"}\nabout: {summary: "py{{ PY_VER }}"}\n')
    assert set(recipe.variant) == {"python"}
    plain = render(tmp_path / "other", 'package: {name: r, version: "1"}\n')
    assert "python" not in plain.variant and "numpy" not in plain.variant
