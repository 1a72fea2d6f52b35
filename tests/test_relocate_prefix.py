"""Prefix detection and the recipe's options, as conda-build 3 applies them."""
from __future__ import annotations

import os
import shutil

import pytest

from relocate_support import host_prefix, new_files, recipe, settings
from tasks.paths import Layout
from tasks.relocate import PrefixFile, post_build
from tasks.relocate.prefix_scan import LEGACY_PLACEHOLDER


@pytest.fixture
def tree(tmp_path):
    prefix = host_prefix(tmp_path)
    files = {
        "etc/a.conf": f"home={prefix}\n".encode(),
        "etc/d.conf": f"lib={prefix}/lib\n".encode(),
        "share/b.bin": b"\x00\x01" + f"{prefix}/share".encode() + b"\x00",
        "share/plain.txt": b"nothing to see\n",
        "share/legacy.txt": f"{LEGACY_PLACEHOLDER}/bin\n".encode(),
        "lib/python3.11/m.cpython-311.pyc": b"\x00" + str(prefix).encode(),
    }
    for rel, data in files.items():
        (prefix / rel).parent.mkdir(parents=True, exist_ok=True)
        (prefix / rel).write_bytes(data)
    os.symlink("a.conf", prefix / "etc/link.conf")
    return tmp_path, prefix


def run(tree, **build):
    tmp, prefix = tree
    return post_build(prefix, new_files(prefix), recipe(tmp, **build), settings(tmp))


def entries(result):
    return {e.path: e.file_mode for e in result.prefix_files}


def test_text_and_binary_files_are_detected(tree):
    _, prefix = tree
    result = run(tree)
    assert result.prefix_files == (
        PrefixFile("etc/a.conf", str(prefix), "text"),
        PrefixFile("etc/d.conf", str(prefix), "text"),
        PrefixFile("share/b.bin", str(prefix), "binary"),
        PrefixFile("share/legacy.txt", LEGACY_PLACEHOLDER, "text"),
    )
    assert result.problems == ()


def test_ignore_prefix_files_true_records_nothing(tree):
    assert run(tree, ignore_prefix_files=True).prefix_files == ()


def test_ignore_prefix_files_list_excludes_those(tree):
    assert entries(run(tree, ignore_prefix_files=("etc/a.conf", "share/*.txt"))) == \
        {"etc/d.conf": "text", "share/b.bin": "binary"}


def test_has_prefix_files_limits_text_files_to_the_listed_ones(tree):
    result = run(tree, has_prefix_files=("etc/a.conf",))
    assert entries(result) == {"etc/a.conf": "text", "share/b.bin": "binary"}


def test_binary_has_prefix_files_forces_binary_mode(tree):
    assert entries(run(tree, binary_has_prefix_files=("etc/a.conf",)))["etc/a.conf"] == "binary"


def test_detect_binary_files_with_prefix_false_skips_binaries(tree):
    assert "share/b.bin" not in entries(run(tree, detect_binary_files_with_prefix=False))
    both = run(tree, detect_binary_files_with_prefix=False, binary_has_prefix_files=("share/b.bin",))
    assert entries(both)["share/b.bin"] == "binary"


def test_listing_binaries_turns_off_binary_detection_unless_asked(tree):
    listed = entries(run(tree, binary_has_prefix_files=("etc/a.conf",)))
    assert listed["etc/a.conf"] == "binary" and "share/b.bin" not in listed
    both = entries(run(tree, binary_has_prefix_files=("etc/a.conf",), detect_binary_files_with_prefix=True))
    assert both["share/b.bin"] == "binary"


def test_a_listed_file_without_the_prefix_is_a_problem(tree):
    result = run(tree, has_prefix_files=("share/plain.txt",))
    assert result.problems == ("share/plain.txt: listed in build/has_prefix_files, but no packaged file there "
                               "holds the host prefix (or build/ignore_prefix_files excludes it)",)


def test_a_copy_of_the_prefix_is_scanned_for_the_original_placeholder(tree):
    """The package stage works on a copy: the placeholder is the host prefix the build used."""
    tmp, prefix = tree
    copy = tmp / "copy"
    shutil.copytree(prefix, copy, symlinks=True)
    result = post_build(copy, new_files(copy), recipe(tmp), settings(tmp), placeholder=str(prefix))
    assert result.prefix_files == run(tree).prefix_files


def test_the_build_prefix_in_a_file_is_a_warning(tree):
    tmp, prefix = tree
    build_prefix = Layout(tmp / "cache").build_prefix("demo")
    (prefix / "lib/pkgconfig").mkdir(parents=True)
    (prefix / "lib/pkgconfig/x.pc").write_text(f"tool={build_prefix}/bin/tool\n")
    result = run(tree)
    assert result.warnings == (f"lib/pkgconfig/x.pc: holds the build prefix {build_prefix}, which will not "
                               f"exist where the package is installed",)
