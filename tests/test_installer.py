"""Issue 12: `doit installer`, a self-extracting linux-aarch64 installer made from the stack.

A small stack (xz and the install-time helper condoit-unpack from the shipped recipes, a C
program that prints the prefix compiled into it, with a post-link script, a noarch text
package, and a noarch: python package with an entry point over a stand-in python) is built once; its installer is run with `sh` here (the aarch64 programs through
binfmt/qemu) into short and long prefixes, refused where it must be, interrupted, updated,
read back with py-rattler, and not rebuilt when nothing it holds changed.
"""
from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

import pytest

from conftest import require_cross_toolchain, require_programs
from doit_runner import ROOT, run_doit, write_recipe
from tasks.errors import RecipeError
from tasks.installer.construct import load_construct

HELLO_C = """
#include <stdio.h>
int main(void) { printf("%s\\n", HELLO_PREFIX); return 0; }
"""
HELLO_META = """
package: {name: hello, version: "1.0"}
source: {path: src}
build: {number: 0}
requirements:
  build:
    - {{ compiler('c') }}
test:
  commands:
    - hello
"""
# the prefix is compiled in (a binary placeholder) and written into a text file
HELLO_BUILD = """
mkdir -p $PREFIX/bin $PREFIX/etc
$CC $CFLAGS -DHELLO_PREFIX="\\"$PREFIX\\"" -o $PREFIX/bin/hello hello.c $LDFLAGS
echo "prefix=$PREFIX" > $PREFIX/etc/hello.conf
printf '#!%s/bin/python3.11 -E\\nprint("hi")\\n' "$PREFIX" > $PREFIX/bin/hello-py
chmod +x $PREFIX/bin/hello-py
"""
HELLO_POST_LINK = 'echo "post-link of $PKG_NAME $PKG_VERSION in $PREFIX" > "$PREFIX/etc/hello-linked.txt"\n'
TEXT_META = """
package: {{name: {name}, version: "1.0"}}
build:
  noarch: generic
requirements:
  run: [{run}]
"""
TEXT_BUILD = 'mkdir -p $PREFIX/share\necho "$PKG_NAME at $PREFIX" > $PREFIX/share/$PKG_NAME.txt\n'
# A stand-in for the stack's python (until it is in the channel, tests of the real one are
# the shipped stack's): rattler links noarch: python packages by the python record's version,
# and the installer compiles their modules with PREFIX/bin/python; this one runs the build
# machine's python 3.11 with the prefix's site-packages.
PYTHON_META = """
package: {name: python, version: "3.11.0"}
build:
  noarch: generic
"""
PYTHON_BUILD = """
mkdir -p $PREFIX/bin $PREFIX/lib/python3.11/site-packages
cat > $PREFIX/bin/python3.11 <<'EOF'
#!/bin/sh
here=$(cd "$(dirname "$0")/.." && pwd)
PYTHONPATH="$here/lib/python3.11/site-packages" exec /usr/bin/python3 "$@"
EOF
chmod +x $PREFIX/bin/python3.11
ln -s python3.11 $PREFIX/bin/python
"""
GREETPY_META = """
package: {name: greetpy, version: "1.0"}
build:
  noarch: python
  entry_points:
    - greetpy = greetpy:main
requirements:
  run: [python]
"""
GREETPY_BUILD = """
mkdir -p $PREFIX/lib/python3.11/site-packages
cat > $PREFIX/lib/python3.11/site-packages/greetpy.py <<'EOF'
import sys
def main():
    print("greetpy from", __file__, "run by", sys.version_info[:2])
EOF
"""
CONSTRUCT = """
name: TinyStack
version: "1.0"
channels: [local]
installer_type: sh
specs:
  - greet
  - greetpy
license_file: LICENSE.txt
welcome_text: Welcome to the tiny stack.
post_install: post_install.sh
"""
QEMU_ENV = {"PATH": "/usr/bin:/bin", "QEMU_LD_PREFIX": "/usr/aarch64-linux-gnu", "HOME": "/root"}


def write_stack(root: Path) -> tuple[Path, Path]:
    recipes = root / "recipes"
    recipes.mkdir(parents=True)
    for name in ("xz", "condoit-unpack"):
        shutil.copytree(ROOT / "recipes" / name, recipes / name)
    hello = write_recipe(recipes, "hello", HELLO_META, build_sh=HELLO_BUILD)
    (hello / "post-link.sh").write_text(HELLO_POST_LINK)
    (hello / "src").mkdir()
    (hello / "src" / "hello.c").write_text(HELLO_C)
    write_recipe(recipes, "greet", TEXT_META.format(name="greet", run="hello"), build_sh=TEXT_BUILD)
    write_recipe(recipes, "bonus", TEXT_META.format(name="bonus", run=""), build_sh=TEXT_BUILD)
    write_recipe(recipes, "python", PYTHON_META, build_sh=PYTHON_BUILD)
    write_recipe(recipes, "greetpy", GREETPY_META, build_sh=GREETPY_BUILD)
    installer = root / "installer"
    installer.mkdir()
    (installer / "construct.yaml").write_text(CONSTRUCT)
    (installer / "LICENSE.txt").write_text("Tiny license: do as you like.\n")
    (installer / "post_install.sh").write_text('echo "post-install in $PREFIX" > "$PREFIX/post-install.txt"\n')
    return recipes, root / "cache"


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    require_cross_toolchain()
    require_programs("sha256sum", "tail", "head")
    recipes, cache = write_stack(tmp_path_factory.mktemp("installer"))
    build = run_doit(recipes, cache, "build", timeout=3000)
    assert build.returncode == 0, build.output[-5000:]
    started = time.monotonic()
    made = run_doit(recipes, cache, "installer")
    elapsed = time.monotonic() - started
    assert made.returncode == 0, made.output[-5000:]
    (installer,) = (cache / "installer").glob("*.sh")
    print(f"\n`doit installer`: {elapsed:.1f} s, {installer.name}: {installer.stat().st_size} bytes")
    return recipes, cache, installer, made


def install(installer: Path, *args: str, stdin: str = "") -> subprocess.CompletedProcess:
    return subprocess.run(["sh", str(installer), *args], capture_output=True, text=True, input=stdin,
                          env=QEMU_ENV, timeout=600)


def stamp_result(cache: Path) -> dict:
    return json.loads((cache / "stamps" / "@stack" / "installer.json").read_text())["result"]


def assert_working_prefix(prefix: Path, cache: Path) -> None:
    import rattler
    hello = subprocess.run([prefix / "bin" / "hello"], capture_output=True, text=True, env=QEMU_ENV, check=True)
    assert hello.stdout.strip() == str(prefix)                    # binary replacement, NUL padded
    assert (prefix / "etc" / "hello.conf").read_text() == f"prefix={prefix}\n"     # text replacement
    assert (prefix / "share" / "greet.txt").read_text() == f"greet at {prefix}\n"
    assert (prefix / "etc" / "hello-linked.txt").read_text() == f"post-link of hello 1.0 in {prefix}\n"
    assert (prefix / "post-install.txt").read_text() == f"post-install in {prefix}\n"
    # a python script keeps the prefix's own python (shebang, or an `exec` line for sh when long)
    head = (prefix / "bin" / "hello-py").read_text().split("print(")[0]
    assert f"{prefix}/bin/python3.11" in head and "/usr/bin/env" not in head, head
    # noarch: python: linked into site-packages, its entry point runs it, its module compiled
    greetpy = subprocess.run([prefix / "bin" / "greetpy"], capture_output=True, text=True, env=QEMU_ENV)
    module = prefix / "lib" / "python3.11" / "site-packages" / "greetpy.py"
    assert greetpy.returncode == 0 and greetpy.stdout == f"greetpy from {module} run by (3, 11)\n", greetpy
    compiled = "lib/python3.11/site-packages/__pycache__/greetpy.cpython-311.pyc"
    assert (prefix / compiled).is_file()
    assert (prefix / "conda-meta" / "history").is_file() and not (prefix / ".condoit-install").exists()
    records = [rattler.PrefixRecord.from_path(p) for p in sorted((prefix / "conda-meta").glob("*.json"))]
    solved = stamp_result(cache)["packages"]
    assert sorted(f"{r.name.normalized}-{r.version}-{r.build}" for r in records) == sorted(solved)
    for record in records:
        for path in record.files:
            assert (prefix / path).exists() or (prefix / path).is_symlink(), path
    assert Path(compiled) in next(r for r in records if r.name.normalized == "greetpy").files
    for meta in (prefix / "conda-meta").glob("*.json"):                # no path of the build machine
        assert str(cache) not in meta.read_text() and "_inst_env" not in meta.read_text()


def test_the_installer_and_its_checksum_are_written(built):
    _recipes, cache, installer, made = built
    assert "installer" in made.ran
    line = (installer.parent / f"{installer.name}.sha256").read_text()
    digest = subprocess.run(["sha256sum", installer], capture_output=True, text=True, check=True).stdout.split()[0]
    assert line == f"{digest}  {installer.name}\n"
    assert installer.name == "TinyStack-1.0-Linux-aarch64.sh"
    result = stamp_result(cache)
    assert {p.rsplit("-", 2)[0] for p in result["packages"]} == {"greet", "hello", "greetpy", "python"}
    assert {p.rsplit("-", 2)[0] for p in result["helper"]} == {"condoit-unpack", "xz"}
    assert result["max_prefix"] == 255


def test_batch_install_into_a_short_and_a_long_prefix(built, tmp_path):
    _recipes, cache, installer, _ = built
    for prefix in (tmp_path / "a", tmp_path / ("much/longer/" * 12) / "prefix"):
        started = time.monotonic()
        run = install(installer, "-b", "-p", str(prefix))
        print(f"\ninstall into a {len(str(prefix))}-character prefix: {time.monotonic() - started:.2f} s")
        assert run.returncode == 0, run.stdout + run.stderr
        assert_working_prefix(prefix, cache)


def test_interactive_install_asks_for_the_license_and_the_prefix(built, tmp_path):
    _recipes, cache, installer, _ = built
    prefix = tmp_path / "chosen"
    refused = install(installer, stdin="\nno\n")
    assert refused.returncode == 2 and "Tiny license" in refused.stdout and "not accepted" in refused.stdout
    run = install(installer, stdin=f"\nyes\n{prefix}\nno\n")
    assert run.returncode == 0, run.stdout + run.stderr
    assert "Welcome to the tiny stack." in run.stdout and "Thank you for installing TinyStack" in run.stdout
    assert_working_prefix(prefix, cache)


def test_refusals_write_nothing(built, tmp_path):
    _recipes, _cache, installer, _ = built
    spaced = tmp_path / "with space"
    run = install(installer, "-b", "-p", str(spaced))
    assert run.returncode == 1 and "contains a space" in run.stderr and not spaced.exists()

    too_long = tmp_path / ("x" * 250)
    run = install(installer, "-b", "-p", str(too_long))
    assert run.returncode == 1 and "room for 255" in run.stderr and not too_long.exists()

    taken = tmp_path / "taken"
    taken.mkdir()
    (taken / "mine.txt").write_text("keep")
    run = install(installer, "-b", "-p", str(taken))
    assert run.returncode == 1 and "use -u" in run.stderr
    assert sorted(p.name for p in taken.iterdir()) == ["mine.txt"]

    damaged = tmp_path / "damaged.sh"
    data = bytearray(installer.read_bytes())
    data[-100] ^= 0x01
    damaged.write_bytes(bytes(data))
    target = tmp_path / "never"
    run = install(damaged, "-b", "-p", str(target))
    assert run.returncode == 1 and "damaged" in run.stderr and not target.exists()


def test_update_an_existing_prefix_and_finish_a_killed_install(built, tmp_path):
    _recipes, cache, installer, _ = built
    prefix = tmp_path / "p"
    assert install(installer, "-b", "-p", str(prefix)).returncode == 0
    (prefix / "etc" / "hello.conf").write_text("edited\n")
    again = install(installer, "-b", "-u", "-p", str(prefix))
    assert again.returncode == 0, again.stderr
    assert_working_prefix(prefix, cache)
    assert (prefix / "conda-meta" / "history").read_text().count("==>") == 2

    killed = tmp_path / "killed"
    proc = subprocess.Popen(["sh", str(installer), "-b", "-p", str(killed)], env=QEMU_ENV,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    caught = False
    deadline = time.monotonic() + 60
    while proc.poll() is None and time.monotonic() < deadline:
        if (killed / ".condoit-install").exists() or (killed / "bin").exists():
            os.killpg(proc.pid, signal.SIGKILL)
            caught = True
            break
        time.sleep(0.002)
    proc.wait()
    if caught:
        assert not (killed / "conda-meta" / "history").exists(), "a killed install must not look complete"
    else:
        print("\nthe install finished before it could be killed: only the -u re-run is checked")
    run = install(installer, "-b", "-u", "-p", str(killed))
    assert run.returncode == 0, run.stdout + run.stderr
    assert_working_prefix(killed, cache)


def test_py_rattler_installs_one_more_package_into_the_prefix(built, tmp_path):
    import asyncio

    import rattler

    from tasks.envs import virtual_packages
    from tasks.settings import Settings
    _recipes, cache, installer, _ = built
    prefix = tmp_path / "grow"
    assert install(installer, "-b", "-p", str(prefix)).returncode == 0
    installed = [rattler.PrefixRecord.from_path(p) for p in (prefix / "conda-meta").glob("*.json")]
    channel = rattler.Channel((cache / "channel").as_uri())

    async def grow():
        records = await rattler.solve(sources=[channel], specs=["greet", "greetpy", "bonus"],
                                      platforms=["linux-aarch64", "noarch"], locked_packages=installed,
                                      virtual_packages=virtual_packages(Settings(), "linux-aarch64"))
        await rattler.install(records, target_prefix=prefix, installed_packages=installed,
                              cache_dir=cache / "pkgs", platform=rattler.Subdir("linux-aarch64"),
                              show_progress=False, execute_link_scripts=False)
    asyncio.run(grow())
    names = {rattler.PrefixRecord.from_path(p).name.normalized for p in (prefix / "conda-meta").glob("*.json")}
    assert names == {"bonus", "greet", "greetpy", "hello", "python"}
    assert (prefix / "share" / "bonus.txt").read_text() == f"bonus at {prefix}\n"
    hello = subprocess.run([prefix / "bin" / "hello"], capture_output=True, text=True, env=QEMU_ENV, check=True)
    assert hello.stdout.strip() == str(prefix)


def test_the_installer_is_made_again_only_when_what_it_holds_changes(built):
    recipes, cache, installer, _ = built
    first = installer.stat().st_mtime_ns
    again = run_doit(recipes, cache, "installer")
    assert again.returncode == 0 and "installer" in again.uptodate, again.output
    # `doit build` does not make the installer; a package it does not hold changes nothing
    bonus = recipes / "bonus" / "build.sh"
    bonus.write_text(TEXT_BUILD + "echo more >> $PREFIX/share/bonus.txt\n")
    rebuilt = run_doit(recipes, cache, "build")
    assert rebuilt.returncode == 0 and "package:bonus" in rebuilt.ran and "installer" not in rebuilt.ran
    still = run_doit(recipes, cache, "installer")
    assert "installer" in still.uptodate and installer.stat().st_mtime_ns == first, still.output
    # the stack rebuilt, its packages unchanged (reproducible): the installer stays
    assert run_doit(recipes, cache, "clean", "compile:hello").returncode == 0
    rebuilt = run_doit(recipes, cache, "build")
    assert rebuilt.returncode == 0 and "compile:hello" in rebuilt.ran, rebuilt.output
    still = run_doit(recipes, cache, "installer")
    assert "installer" in still.uptodate and installer.stat().st_mtime_ns == first, still.output
    # the construct file changed: a new installer
    construct = recipes.parent / "installer" / "construct.yaml"
    construct.write_text(CONSTRUCT.replace("Welcome to the tiny stack.", "Welcome again."))
    remade = run_doit(recipes, cache, "installer")
    assert remade.returncode == 0 and "installer" in remade.ran, remade.output
    assert b"Welcome again." in installer.read_bytes()


def test_an_update_removes_what_the_replaced_versions_had_and_nothing_else(built, tmp_path):
    """-u with a newer installer: files only the old version of a package had go (and their
    empty directories), as conda's unlink would take them; the user's files and the files of a
    package added since stay. (Runs after the tests above: it changes the shared stack.)"""
    recipes, cache, installer, _ = built
    old_installer = tmp_path / "old.sh"
    shutil.copyfile(installer, old_installer)
    prefix = tmp_path / "p"
    assert install(old_installer, "-b", "-p", str(prefix)).returncode == 0
    assert (prefix / "share" / "greet.txt").is_file()
    (prefix / "share" / "mine.txt").write_text("the user's\n")
    # greet 1.1 moves its file: share/greet.txt is no package's any more
    write_recipe(recipes, "greet", TEXT_META.format(name="greet", run="hello").replace('"1.0"', '"1.1"'),
                 build_sh='mkdir -p $PREFIX/share/greet\necho "greet 1.1" > $PREFIX/share/greet/new.txt\n')
    (prefix / "share" / "extra.txt").write_text("extra at p\n")     # a package added since (its record)
    record = json.loads(next((prefix / "conda-meta").glob("greet-1.0-*.json")).read_text())
    extra_record = {**record, "name": "extra", "files": ["share/extra.txt"], "paths_data": {"paths": [], "paths_version": 1}}
    (prefix / "conda-meta" / "extra-1.0-0.json").write_text(json.dumps(extra_record, indent=2))
    assert run_doit(recipes, cache, "build").returncode == 0
    made = run_doit(recipes, cache, "installer")
    assert made.returncode == 0 and "installer" in made.ran, made.output[-3000:]
    (new_installer,) = (cache / "installer").glob("*.sh")
    run = install(new_installer, "-b", "-u", "-p", str(prefix))
    assert run.returncode == 0, run.stdout + run.stderr
    assert not (prefix / "share" / "greet.txt").exists()
    assert (prefix / "share" / "greet" / "new.txt").read_text() == "greet 1.1\n"
    assert (prefix / "share" / "mine.txt").read_text() == "the user's\n"
    assert (prefix / "share" / "extra.txt").is_file()
    records = sorted(p.name.rsplit("-", 2)[0] + "-" + p.name.rsplit("-", 2)[1] for p in (prefix / "conda-meta").glob("*.json"))
    assert "greet-1.1" in records and "greet-1.0" not in records and "extra-1.0" in records, records
    hello = subprocess.run([prefix / "bin" / "hello"], capture_output=True, text=True, env=QEMU_ENV, check=True)
    assert hello.stdout.strip() == str(prefix)
    # and back: the old installer over the new install takes share/greet/ away again
    run = install(old_installer, "-b", "-u", "-p", str(prefix))
    assert run.returncode == 0, run.stdout + run.stderr
    assert (prefix / "share" / "greet.txt").is_file() and not (prefix / "share" / "greet").exists()
    assert (prefix / "share" / "mine.txt").is_file() and (prefix / "share" / "extra.txt").is_file()


def test_construct_errors_name_file_line_and_a_fix(tmp_path):
    path = tmp_path / "construct.yaml"
    path.write_text('name: X\nversion: "1"\nspecs: [a]\nwelcom_text: hi\npackages: [b]\ninstaller_type: pkg\n')
    with pytest.raises(RecipeError) as caught:
        load_construct(path)
    text = str(caught.value)
    assert f"{path}:4:1: unknown key 'welcom_text'" in text and "did you mean 'welcome_text'?" in text
    assert f"{path}:5:1: constructor's key 'packages' is not supported" in text
    assert f"{path}:6:17: installer_type 'pkg'" in text
    path.write_text("name: X\nspecs: a\n")
    with pytest.raises(RecipeError) as caught:
        load_construct(path)
    assert f"{path}:2:8: 'specs' must be a list of strings" in str(caught.value)
    assert "the key 'version' is missing" in str(caught.value)
