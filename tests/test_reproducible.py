"""Issue 9: reproducible bytes. The same recipe built from scratch in two caches at different
paths (of different lengths) gives byte-identical packages: no build time, no cache path, no
leftover RPATH bytes and no linker build-id of the cache's files in them; and the package
still installs elsewhere (py-rattler) and runs under qemu. Real cross compiler, real doit."""
from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import subprocess
import tarfile
import zipfile
from pathlib import Path

import pytest

from conftest import require_cross_toolchain
from doit_runner import run_doit, write_recipe
from relocate_support import CROSS_CC, install, recipe, run_aarch64, settings
from tasks.paths import Layout, canonical_prefix

try:  # Python 3.14+
    from compression import zstd  # type: ignore[import-not-found]
except ImportError:
    from backports import zstd  # type: ignore[no-redef]

EPOCH = 1600000000  # the sources' file times: SOURCE_DATE_EPOCH of the build

META = """
package: {{name: greet, version: "1.0"}}
source:
  path: {src}
build:
  number: 0
requirements:
  build:
    - {{{{ compiler('c') }}}}
test:
  commands:
    - test "$(greet)" = "42 $PREFIX/share/greet"
about: {{license: MIT, summary: a library and a program that names its prefix}}
"""

# Absolute source paths (so __FILE__ and DWARF would name the work tree), -g, an RPATH into
# the host prefix (LDFLAGS), the prefix and the compiler flags compiled in (as OpenSSL
# does: they name the build tree), an absolute symlink, and a static archive made the
# way ncurses does (`ar U`: member times, here from the pid, and owners kept).
BUILD = r"""
mkdir -p $PREFIX/lib $PREFIX/bin $PREFIX/include $PREFIX/share/greet
cp greet.h $PREFIX/include/
$CC $CFLAGS -g -c -fPIC -o greet.o $SRC_DIR/greet.c
$CC $CFLAGS -g -shared -Wl,-soname,libgreet.so.1 -o $PREFIX/lib/libgreet.so.1 greet.o $LDFLAGS
ln -s $PREFIX/lib/libgreet.so.1 $PREFIX/lib/libgreet.so
touch -d @$((1500000000 + $$)) greet.o
$AR rcsU $PREFIX/lib/libgreet.a greet.o
$CC $CFLAGS $CPPFLAGS -g "-DPREFIX=\"$PREFIX\"" "-DFLAGS=\"$CFLAGS\"" -I$PREFIX/include \
    -o $PREFIX/bin/greet $SRC_DIR/main.c $LDFLAGS -lgreet
echo "prefix=$PREFIX" > $PREFIX/share/greet/greet.conf
"""

SOURCES = {
    "greet.h": "int greet(void);\n",
    "greet.c": '#include "greet.h"\nint greet(void) { return 42; }\n',
    "main.c": '#include <stdio.h>\n#include <greet.h>\n'
              'const char *source_file = __FILE__, *flags = FLAGS;\n'
              # used, so that no linker drops them (zig links with --gc-sections)
              'int main(int argc, char **argv) { if (argc > 1) { puts(source_file); puts(flags); }\n'
              '  printf("%d %s/share/greet\\n", greet(), PREFIX); return 0; }\n',
}


def read_archive(archive: Path) -> dict[str, tarfile.TarInfo | bytes]:
    """name -> bytes of every file of a .conda (pkg and info), and name -> TarInfo under '@name'."""
    out: dict = {}
    with zipfile.ZipFile(archive) as zf:
        for component in zf.namelist():
            if not component.endswith(".tar.zst"):
                continue
            with tarfile.open(fileobj=io.BytesIO(zstd.decompress(zf.read(component)))) as tar:
                for member in tar.getmembers():
                    out[f"@{member.name}"] = member
                    if member.isfile():
                        out[member.name] = tar.extractfile(member).read()
    return out


@pytest.fixture(scope="module")
def two_builds(tmp_path_factory):
    """The same recipe built from scratch in two caches: (tmp, [(cache, archive), ...])."""
    require_cross_toolchain()
    tmp = tmp_path_factory.mktemp("repro")
    src = tmp / "src"
    src.mkdir()
    for name, text in SOURCES.items():
        (src / name).write_text(text)
        os.utime(src / name, (EPOCH, EPOCH))
    recipes = tmp / "recipes"
    write_recipe(recipes, "greet", META.format(src=src), build_sh=BUILD)
    caches = [tmp / "c1", tmp / "a-second-cache-somewhere-else" / "with-a-longer-path"]
    builds = []
    for cache in caches:
        run = run_doit(recipes, cache, "build:greet")
        assert run.returncode == 0, run.output
        assert {"compile:greet", "package:greet", "test:greet"} <= run.ran, run.output  # from scratch
        (archive,) = (cache / "channel" / "linux-aarch64").glob("greet-*.conda")
        builds.append((cache, archive))
    return tmp, builds


def test_two_caches_give_byte_identical_packages(two_builds):
    _, [(cache1, first), (cache2, second)] = two_builds
    assert len(str(Layout(cache1).host_prefix("greet"))) == len(str(Layout(cache2).host_prefix("greet"))) == 255
    assert first.name == second.name
    a, b = read_archive(first), read_archive(second)
    differ = sorted(k for k in set(a) | set(b) if not k.startswith("@") and a.get(k) != b.get(k))
    assert differ == [], f"members that differ between the two caches: {differ}"
    assert first.read_bytes() == second.read_bytes()


def test_timestamp_is_the_source_epoch_in_both_builds(two_builds):
    _, builds = two_builds
    for _cache, archive in builds:
        members = read_archive(archive)
        assert json.loads(members["info/index.json"])["timestamp"] == EPOCH * 1000
        times = {v.mtime for k, v in members.items() if k.startswith("@")}
        assert times == {EPOCH}


def test_package_names_no_cache_and_installs_elsewhere(two_builds):
    tmp, builds = two_builds
    cache, archive = builds[1]
    members = read_archive(archive)
    placeholder = canonical_prefix(255)
    assert Layout(cache).canonical_host_prefix("greet") == placeholder
    for c, _ in builds:  # neither cache's path (so neither host prefix) is in any file
        leaks = [k for k, v in members.items() if isinstance(v, bytes) and str(c).encode() in v]
        assert leaks == [], f"files naming {c}: {leaks}"
    # the compiled-in flags name the build tree by its canonical string (same length)
    assert Layout(cache).canonical_build_source("greet").encode() in members["bin/greet"]
    paths = {p["_path"]: p for p in json.loads(members["info/paths.json"])["paths"]}
    recorded = {k: (p["prefix_placeholder"], p["file_mode"]) for k, p in paths.items() if "prefix_placeholder" in p}
    assert recorded == {"bin/greet": (placeholder, "binary"), "share/greet/greet.conf": (placeholder, "text")}

    channel = tmp / "channel" / "linux-aarch64"
    channel.mkdir(parents=True)
    shutil.copy2(archive, channel)
    target = tmp / "installed" / "somewhere-else"
    assert install(channel.parent, ["greet"], target, tmp / "pkgs") == ["greet"]
    env = {k: v for k, v in os.environ.items() if k != "LD_LIBRARY_PATH"}
    out = run_aarch64([str(target / "bin/greet")], env=env)
    assert out.returncode == 0, out.stderr
    assert out.stdout == f"42 {target}/share/greet\n"
    assert (target / "share/greet/greet.conf").read_text() == f"prefix={target}\n"
    assert os.readlink(target / "lib/libgreet.so") == "libgreet.so.1"


# -- the ELF edits on their own (no doit) --------------------------------------------------

def _linked_in(cache: Path, work: Path) -> tuple[Path, str]:
    """A program linked with an RPATH into the host prefix of ``cache``; (its copy, the prefix)."""
    prefix = Layout(cache).host_prefix("demo")
    (prefix / "bin").mkdir(parents=True)
    work.mkdir(parents=True, exist_ok=True)
    (work / "main.c").write_text("int main(void) { return 7; }\n")
    out = prefix / "bin" / "demo"
    subprocess.run([CROSS_CC, "-o", str(out), "main.c", "-Wl,--build-id=sha1", "-Wl,--disable-new-dtags",
                    f"-Wl,-rpath,{prefix}/lib"], cwd=work, check=True, capture_output=True)
    return out, str(prefix)


def test_elf_edits_leave_no_trace_of_the_cache(tmp_path, cross_toolchain):
    """Canonical prefix, relocation, old RPATH bytes blanked, build-id from the final bytes."""
    from tasks.relocate import post_build
    from tasks.relocate.canonical import canonicalize
    from tasks.relocate.elf import _build_id_spans, describe, parse

    results = []
    for cache in (tmp_path / "one", tmp_path / "two" / "longer"):
        out, prefix = _linked_in(cache, tmp_path / "work")
        linker_ids = {out.read_bytes()[o:o + n] for o, n in _build_id_spans(out.read_bytes())}
        root = tmp_path / f"root-{len(results)}"
        (root / "bin").mkdir(parents=True)
        shutil.copy2(out, root / "bin" / "demo")
        placeholder = canonical_prefix(len(prefix))
        assert canonicalize(root, ["bin/demo"], [(prefix, placeholder)]) == ("bin/demo",)
        result = post_build(root, ["bin/demo"], recipe(tmp_path), settings(tmp_path), placeholder=placeholder)
        assert result.problems == ()
        data = (root / "bin" / "demo").read_bytes()
        assert describe(parse(root / "bin" / "demo")).rpath == ("$ORIGIN/../lib",)
        assert b"placehold" not in data and b"_h_env" not in data   # lief's leftover was blanked
        assert "bin/demo" not in {p.path for p in result.prefix_files}
        ((offset, size),) = _build_id_spans(data)
        zeroed = data[:offset] + bytes(size) + data[offset + size:]
        assert data[offset:offset + size] == hashlib.sha1(zeroed).digest()[:size]
        assert data[offset:offset + size] not in linker_ids and len(linker_ids) == 1
        assert run_aarch64([str(root / "bin" / "demo")]).returncode == 7
        results.append(data)
    assert results[0] == results[1]
