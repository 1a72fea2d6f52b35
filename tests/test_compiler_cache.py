"""The compiler cache (ccache in front of the zig wrappers): after a patch edit, the sources the
edit did not change are not compiled again, and the bytes are those of an uncached build.

Real ccache, real zig, real doit builds of a small C recipe tested under qemu. ccache's own
counters (``ccache --print-stats``) tell hits from compiles.
"""
from __future__ import annotations

import hashlib
import subprocess
from pathlib import Path

import pytest

from conftest import require_cross_toolchain, require_programs
from doit_runner import run_doit, write_recipe
from tasks.paths import Layout
from tasks.settings import load_settings
from tasks.toolchain import select_toolchain

pytestmark = pytest.mark.usefixtures("cross_toolchain")


def ccache_stats(directory: Path) -> dict[str, int]:
    """ccache's counters of one cache directory (hits, misses ...)."""
    out = subprocess.run(["ccache", "-d", str(directory), "--print-stats"], capture_output=True, text=True,
                         check=True).stdout
    return {k: int(v) for k, v in (line.split("\t") for line in out.splitlines() if "\t" in line)}


def hits(directory: Path) -> int:
    stats = ccache_stats(directory)
    return stats.get("direct_cache_hit", 0) + stats.get("preprocessed_cache_hit", 0)


def compiles(directory: Path) -> int:
    return ccache_stats(directory).get("cache_miss", 0)


# --- the wrapper, used directly -------------------------------------------------------------------

def installed_cc(tmp_path: Path, name: str, **settings: str) -> tuple[Path, str, dict[str, str]]:
    """(the C compiler wrapper, ccache's directory or "", PATH environment) of a toolchain."""
    values = load_settings({"cache": str(tmp_path / name / "cache"), **settings}, root=tmp_path)
    toolchain = select_toolchain(values)
    toolchain.install(tmp_path / name / "prefix")
    env = {"PATH": f"{tmp_path / name / 'prefix' / 'bin'}:/usr/bin:/bin", "HOME": str(tmp_path)}
    return tmp_path / name / "prefix" / "bin" / f"{toolchain.host}-cc", toolchain.ccache_dir, env


@pytest.fixture()
def wrapper(tmp_path):
    """(the C compiler wrapper, ccache's directory, PATH environment) of a toolchain with a cache."""
    require_cross_toolchain()
    require_programs("ccache")
    cc, ccache_dir, env = installed_cc(tmp_path, "cached")
    assert ccache_dir == str(Layout(tmp_path / "cached" / "cache").compiler_cache)
    return cc, Path(ccache_dir), env


def compile_in_fresh_tree(src: dict[str, str], tree: Path, cc: Path, env: dict[str, str],
                          *flags: str) -> bytes:
    """Write ``src`` into a new copy of ``tree`` (like the compile stage does) and compile main.c."""
    subprocess.run(["rm", "-rf", str(tree)], check=True)
    tree.mkdir(parents=True)
    for name, text in src.items():
        (tree / name).write_text(text)
    run = subprocess.run([str(cc), "-O2", "-fPIC", *flags, "-c", "main.c"], cwd=tree, env=env,
                         capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr
    return (tree / "main.o").read_bytes()


SOURCES = {"main.c": '#include "answer.h"\nint answer(void) { return ANSWER; }\n',
           "answer.h": "#define ANSWER 42\n"}


def test_a_second_compile_at_the_same_path_is_a_hit_with_the_same_bytes(wrapper, tmp_path):
    cc, ccache_dir, env = wrapper
    first = compile_in_fresh_tree(SOURCES, tmp_path / "tree", cc, env)
    assert (compiles(ccache_dir), hits(ccache_dir)) == (1, 0)
    again = compile_in_fresh_tree(SOURCES, tmp_path / "tree", cc, env)     # new files, new ctimes
    assert (compiles(ccache_dir), hits(ccache_dir)) == (1, 1)
    assert again == first
    # the same compile by a toolchain without the cache gives the same object
    plain_cc, plain_dir, plain_env = installed_cc(tmp_path, "plain", compiler_cache="0")
    assert plain_dir == ""
    assert compile_in_fresh_tree(SOURCES, tmp_path / "tree", plain_cc, plain_env) == first
    assert (compiles(ccache_dir), hits(ccache_dir)) == (1, 1)


def test_a_changed_header_is_compiled_again(wrapper, tmp_path):
    """The relaxed ctime/mtime checks do not hide a header's new content."""
    cc, ccache_dir, env = wrapper
    first = compile_in_fresh_tree(SOURCES, tmp_path / "tree", cc, env)
    changed = compile_in_fresh_tree({**SOURCES, "answer.h": "#define ANSWER 43\n"}, tmp_path / "tree", cc, env)
    assert compiles(ccache_dir) == 2 and hits(ccache_dir) == 0
    assert changed != first


def test_a_build_that_asks_for_a_dependency_file_still_gets_it(wrapper, tmp_path):
    """Automake's `-MD -MP -MF .deps/x.Tpo`: the wrapper adds no -MD of its own, and the file is
    written on a hit too."""
    cc, ccache_dir, env = wrapper
    for expected_hits in (0, 1):
        compile_in_fresh_tree(SOURCES, tmp_path / "tree", cc, env, "-MD", "-MP", "-MF", "main.Tpo")
        deps = (tmp_path / "tree" / "main.Tpo").read_text()
        assert "answer.h" in deps and hits(ccache_dir) == expected_hits


def test_no_cache_when_the_setting_is_off(tmp_path):
    require_cross_toolchain()
    cc, ccache_dir, env = installed_cc(tmp_path, "plain", compiler_cache="off")
    assert ccache_dir == ""
    compile_in_fresh_tree(SOURCES, tmp_path / "tree", cc, env)
    assert (tmp_path / "tree" / "main.o").stat().st_size > 0
    assert not (tmp_path / "plain" / "cache" / "ccache").exists()
    assert not list(Path("/tmp").glob("condoit-deps-*.d")) or all(    # scratch dependency files removed
        p.stat().st_mtime < (tmp_path / "tree" / "main.o").stat().st_mtime - 60 for p in Path("/tmp").glob("condoit-deps-*.d"))


# --- a recipe: a patch edit ---------------------------------------------------------------------------

META = """
package: {{name: twofiles, version: "1.0"}}
source:
  path: {src}
  patches:
    - edit.patch
requirements:
  build:
    - {{{{ compiler('c') }}}}
test:
  commands:
    - twofiles | grep -qx '{expected}'
about: {{license: MIT, summary: two C files and a patch}}
"""
BUILD = """
mkdir -p $PREFIX/bin
for f in one two three; do $CC $CFLAGS -c $f.c; done
$CC $CFLAGS -o $PREFIX/bin/twofiles one.o two.o three.o $LDFLAGS
"""
PATCH = """--- a/two.c
+++ b/two.c
@@ -1 +1 @@
-const char *word(void) {{ return "two"; }}
+const char *word(void) {{ return "{word}"; }}
"""


def package_digest(cache: Path) -> str:
    (package,) = (cache / "channel" / "linux-aarch64").glob("twofiles-*.conda")
    return hashlib.sha256(package.read_bytes()).hexdigest()


def test_a_patch_edit_compiles_only_the_patched_file_and_the_package_is_the_uncached_one(tmp_path):
    require_cross_toolchain()
    require_programs("ccache")
    src = tmp_path / "src"
    src.mkdir()
    (src / "one.c").write_text('#include <stdio.h>\nconst char *word(void);\nint three(void);\n'
                               'int main(void) { printf("%s %d\\n", word(), three()); return 0; }\n')
    (src / "two.c").write_text('const char *word(void) { return "two"; }\n')
    (src / "three.c").write_text("int three(void) { return 3; }\n")
    recipes = tmp_path / "recipes"

    def write(word: str) -> None:
        write_recipe(recipes, "twofiles", META.format(src=src, expected=f"{word} 3"), build_sh=BUILD,
                     **{"edit.patch": PATCH.format(word=word)})

    cache = tmp_path / "cache"
    ccache_dir = cache / "ccache"
    write("deux")
    first = run_doit(recipes, cache, "build:twofiles")
    assert first.returncode == 0, first.output
    assert (compiles(ccache_dir), hits(ccache_dir)) == (3, 0)

    write("zwei")      # the patch changes two.c only: one.c and three.c come from the cache
    edit = run_doit(recipes, cache, "build:twofiles")
    assert edit.returncode == 0, edit.output
    assert {"patch:twofiles", "compile:twofiles", "test:twofiles"} <= edit.ran, edit.output
    assert (compiles(ccache_dir), hits(ccache_dir)) == (4, 2)

    # the same recipe built without the cache, in another cache: the same package bytes
    plain = tmp_path / "plain"
    uncached = run_doit(recipes, plain, "build:twofiles", compiler_cache="0")
    assert uncached.returncode == 0, uncached.output
    assert not (plain / "ccache").exists()
    assert package_digest(plain) == package_digest(cache)


def test_plain_assembly_gets_no_dependency_flags_and_is_cached(wrapper, tmp_path):
    """clang warns that -MD is unused for a `.s` file: the wrapper adds none (ccache hashes the file)."""
    cc, ccache_dir, env = wrapper
    for expected_hits in (0, 1):
        tree = tmp_path / "asm"
        subprocess.run(["rm", "-rf", str(tree)], check=True)
        tree.mkdir()
        (tree / "f.s").write_text(".text\n.globl f\nf: ret\n")
        run = subprocess.run([str(cc), "-c", "f.s", "-o", "f.o"], cwd=tree, env=env, capture_output=True, text=True)
        assert run.returncode == 0 and run.stderr == "", run.stderr
        assert (tree / "f.o").read_bytes()[:4] == b"\x7fELF" and hits(ccache_dir) == expected_hits
