"""fsutil.copy_tree / copy_file: the work-tree copies of the patch and compile stages keep
what a build can see of a file (bytes, permission bits, times: make compares them)."""
from __future__ import annotations

import os
import shutil

import pytest

from tasks.fsutil import copy_file, copy_tree


def _snapshot(root):
    """path -> (kind, mode bits, mtime_ns, content or link target) of every entry under root."""
    out = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            full = os.path.join(dirpath, name)
            rel = os.path.relpath(full, root)
            st = os.lstat(full)
            if os.path.islink(full):
                out[rel] = ("link", None, None, os.readlink(full))
            elif os.path.isdir(full):
                out[rel] = ("dir", st.st_mode & 0o7777, st.st_mtime_ns, None)
            else:
                with open(full, "rb") as fh:
                    out[rel] = ("file", st.st_mode & 0o7777, st.st_mtime_ns, fh.read())
    return out


def test_copy_tree_is_what_copytree_gives(tmp_path):
    src = tmp_path / "src"
    (src / "sub" / "deeper").mkdir(parents=True)
    (src / "configure").write_text("#!/bin/sh\necho hi\n")
    os.chmod(src / "configure", 0o755)
    (src / "sub" / "big.bin").write_bytes(os.urandom(3 << 20))     # more than one sendfile chunk
    (src / "sub" / "empty").write_bytes(b"")
    (src / "sub" / "readonly.h").write_text("#define X 1\n")
    os.chmod(src / "sub" / "readonly.h", 0o444)
    os.symlink("sub/readonly.h", src / "link.h")
    os.symlink("../nowhere", src / "sub" / "dangling")
    os.symlink("deeper", src / "sub" / "dirlink")
    for i, path in enumerate(sorted(src.rglob("*"), reverse=True)):   # distinct times, older than now
        if not path.is_symlink():
            os.utime(path, ns=(1_000_000_000 + i, 1_500_000_000_123_456_789 - i * 1_000_000_007))
    os.utime(src, ns=(5, 1_400_000_000_000_000_001))

    expected, got = tmp_path / "expected", tmp_path / "got"
    shutil.copytree(src, expected, symlinks=True)
    got.mkdir()                                   # an existing (empty) destination is filled
    copy_tree(src, got)
    assert _snapshot(got) == _snapshot(expected) == _snapshot(src)
    assert os.stat(got).st_mtime_ns == os.stat(src).st_mtime_ns


def test_copy_tree_refuses_special_files_and_copy_file_existing_targets(tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    os.mkfifo(src / "pipe")
    with pytest.raises(OSError, match="neither a file, a directory nor a symlink"):
        copy_tree(src, tmp_path / "dst")
    (tmp_path / "a").write_text("new")
    (tmp_path / "b").write_text("old")
    with pytest.raises(FileExistsError):
        copy_file(tmp_path / "a", tmp_path / "b")
    assert (tmp_path / "b").read_text() == "old"
