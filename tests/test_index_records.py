"""The index stage writes repodata from the package stage's records (tasks/repodata.py): the
file must be what py-rattler's index_fs writes of the same packages (but for the clock field
``indexed_timestamp``), py-rattler must still install from it, and whatever the records do not
explain (a package dropped into the channel, an unreadable repodata) goes to py-rattler."""
from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

from doit_runner import TEXT_BUILD, run_doit, write_recipe
from tasks import repodata
from tasks.condapkg import IndexMeta, create_archive, write_info
from tasks.fsutil import file_digests
from tasks.paths import Layout
from tasks.stamps import read_stamp

TIMESTAMP = re.compile(rb'"indexed_timestamp":\d+')


def rattler_index(channel: Path, subdir: str) -> None:
    """py-rattler's own index of one subdir, from scratch. In a child that leaves without the
    interpreter's finalization: py-rattler 0.28 sometimes aborts there (PyGILState_Release)."""
    code = ("import asyncio, os, sys\nfrom pathlib import Path\nfrom rattler import Subdir\n"
            "from rattler.index import index_fs\n"
            "asyncio.run(index_fs(Path(sys.argv[1]), target_platform=Subdir(sys.argv[2]), write_zst=False,"
            " write_shards=False, force=True))\nos._exit(0)\n")
    subprocess.run([sys.executable, "-c", code, str(channel), subdir], check=True, capture_output=True)


def without_clock(path: Path) -> bytes:
    return TIMESTAMP.sub(b'"indexed_timestamp":0', path.read_bytes())


def make_package(channel: Path, meta: IndexMeta, run_exports: dict, suffix: str = ".conda") -> tuple[str, dict]:
    """A package of one file in ``channel``; (its file name, the record the package stage would hand on)."""
    root = channel.parent / f"root-{meta.name}"
    (root / "share").mkdir(parents=True)
    (root / "share" / f"{meta.name}.txt").write_text(meta.name)
    files = [f"share/{meta.name}.txt"]
    info = write_info(root, meta, files, [], {"license": meta.license}, run_exports=run_exports)
    out = channel / meta.subdir / f"{meta.stem}{suffix}"
    out.parent.mkdir(parents=True, exist_ok=True)
    create_archive(root, files, info, out, stem=meta.stem, fmt=suffix, mtime=meta.timestamp // 1000)
    record = repodata.record(meta.to_json(), run_exports, *file_digests(out))
    assert record is not None, meta
    return out.name, record


METAS = [   # the index.json shapes condoit writes: arch and noarch, every optional field
    (IndexMeta("alpha", "1.0", "h1_0", 0, "linux-aarch64", depends=("beta >=2", "libc >=2.17"),
               constrains=("gamma <2",), license="MIT", license_family="MIT", timestamp=1563040227000),
     {"weak": ["alpha >=1.0,<2"]}, ".conda"),
    (IndexMeta("beta", "2.0", "pyh_3", 3, "noarch", depends=("python >=3.8",), noarch="python",
               timestamp=1700000000000), {}, ".conda"),
    (IndexMeta("gamma", "1", "0", 0, "noarch", noarch="generic", features="feat", track_features="t1 t2",
               license="Apache-2.0 WITH LLVM-exception"),
     {"strong": ["gamma"], "weak_constrains": ["gamma <2"]}, ".conda"),
    (IndexMeta("delta", "0.1", "h_0", 0, "linux-aarch64", license="\u00e9t\u00e9 \u00a9"), {}, ".tar.bz2"),
]


def test_records_are_what_py_rattler_writes_byte_for_byte(tmp_path):
    ours, theirs = tmp_path / "ours" / "channel", tmp_path / "theirs" / "channel"
    records: dict[str, dict[str, dict]] = {}
    for meta, exports, suffix in METAS:
        name, record = make_package(ours, meta, exports, suffix)
        records.setdefault(meta.subdir, {})[name] = record
    shutil.copytree(ours, theirs)
    for subdir, recs in records.items():
        assert repodata.update(ours / subdir, subdir, recs)
        rattler_index(theirs, subdir)
        assert without_clock(ours / subdir / "repodata.json") == without_clock(theirs / subdir / "repodata.json")
        # readable by others (a channel is served), like py-rattler's
        assert (ours / subdir / "repodata.json").stat().st_mode & 0o777 == 0o644 == \
            (theirs / subdir / "repodata.json").stat().st_mode & 0o777
    data = json.loads((ours / "linux-aarch64" / "repodata.json").read_text())
    assert set(data["packages.conda"]) == {"alpha-1.0-h1_0.conda"} and set(data["packages"]) == {"delta-0.1-h_0.tar.bz2"}
    assert data["packages.conda"]["alpha-1.0-h1_0.conda"]["indexed_timestamp"] > 0


def test_update_refuses_what_its_records_do_not_explain_and_drops_what_is_gone(tmp_path):
    channel = tmp_path / "channel"
    alpha, alpha_record = make_package(channel, *METAS[0][:2])
    delta, delta_record = make_package(channel, *METAS[3][:2], suffix=".tar.bz2")
    folder = channel / "linux-aarch64"
    # a package file neither listed nor ours (dropped in): py-rattler's job, nothing written
    assert not repodata.update(folder, "linux-aarch64", {alpha: alpha_record})
    assert not (folder / "repodata.json").exists()
    assert repodata.update(folder, "linux-aarch64", {alpha: alpha_record, delta: delta_record})
    # the file of a listed package is gone (an older build removed): its entry goes too
    (folder / delta).unlink()
    assert repodata.update(folder, "linux-aarch64", {alpha: alpha_record})
    data = json.loads((folder / "repodata.json").read_text())
    assert set(data["packages.conda"]) == {alpha} and data["packages"] == {}
    # a record for a file that is not there, an unreadable or foreign repodata: refused, untouched
    assert not repodata.update(folder, "linux-aarch64", {"zeta-1-0.conda": alpha_record})
    for text in ("{not json", json.dumps({**data, "removed": ["x-1-0.conda"]}),
                 json.dumps({**data, "info": {"subdir": "linux-aarch64", "base_url": "x"}})):
        (folder / "repodata.json").write_text(text)
        assert not repodata.update(folder, "linux-aarch64", {alpha: alpha_record})
        assert (folder / "repodata.json").read_text() == text
    # an index.json it cannot vouch for gives no record (py-rattler indexes such a package)
    assert repodata.record({**METAS[0][0].to_json(), "timestamp": 1563040227}, {}, "s", "m", 1) is None
    assert repodata.record({**METAS[0][0].to_json(), "python_site_packages_path": "x"}, {}, "s", "m", 1) is None


ARCH_META = """
package: {name: alpha, version: "1.0"}
build:
  number: 2
  run_exports:
    - {{ pin_subpackage("alpha", max_pin="x") }}
requirements:
  run:
    - beta
  run_constrained:
    - gamma <2
about:
  license: MIT
  license_family: MIT
test:
  commands:
    - grep -qx alpha $PREFIX/share/alpha.txt
    - grep -qx beta $PREFIX/share/beta.txt
"""
NOARCH_META = """
package: {name: beta, version: "2.0"}
build:
  noarch: generic
about:
  license: BSD-3-Clause
test:
  commands:
    - grep -qx beta $PREFIX/share/beta.txt
"""


def test_a_built_channel_is_py_rattlers_index_and_installs(stack_dirs, tmp_path):
    recipes, cache = stack_dirs
    write_recipe(recipes, "alpha", ARCH_META, build_sh=TEXT_BUILD)
    write_recipe(recipes, "beta", NOARCH_META, build_sh=TEXT_BUILD)
    built = run_doit(recipes, cache, "build")
    # the test stage installs each package (and alpha's run requirement) with py-rattler from this repodata
    assert built.returncode == 0, built.output
    assert {"index:alpha", "index:beta", "test:alpha", "test:beta"} <= built.ran, built.output
    channel = cache / "channel"
    theirs = tmp_path / "theirs"
    shutil.copytree(channel, theirs, ignore=shutil.ignore_patterns("repodata.json", "channeldata.json"))
    for subdir in ("linux-aarch64", "noarch"):
        rattler_index(theirs, subdir)
        assert without_clock(channel / subdir / "repodata.json") == without_clock(theirs / subdir / "repodata.json")
    # ... written from the package stage's records, not by py-rattler
    for name in ("alpha", "beta"):
        (made,) = read_stamp(Layout(cache).stamp(name, "package"))["result"]["packages"]
        listed = json.loads((channel / made["subdir"] / "repodata.json").read_text())["packages.conda"]
        assert made["record"] and {**made["record"], "indexed_timestamp": 1} == \
            {**listed[made["archive"]], "indexed_timestamp": 1}
    record = json.loads((channel / "linux-aarch64" / "repodata.json").read_text())["packages.conda"]
    (alpha,) = record.values()
    assert alpha["depends"] == ["beta"] and alpha["constrains"] == ["gamma <2"]
    assert alpha["run_exports"] == {"weak": ["alpha >=1.0,<2.0a0"]} and alpha["build_number"] == 2

    # a package dropped into the channel is not the records' to explain: py-rattler indexes it
    stray = channel / "linux-aarch64" / "omega-1.0-h0_0.conda"
    shutil.copy(next((channel / "linux-aarch64").glob("alpha-*.conda")), stray)
    write_recipe(recipes, "alpha", ARCH_META.replace("number: 2", "number: 3"), build_sh=TEXT_BUILD)
    again = run_doit(recipes, cache, "index:alpha")
    assert again.returncode == 0 and "index:alpha" in again.ran, again.output
    listed = json.loads((channel / "linux-aarch64" / "repodata.json").read_text())["packages.conda"]
    assert set(listed) == {stray.name, next((channel / "linux-aarch64").glob("alpha-*_3.conda")).name}
    assert listed[stray.name]["sha256"] == file_digests(stray)[0]
