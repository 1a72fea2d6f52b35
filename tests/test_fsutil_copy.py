"""fsutil.copy_tree / copy_file / link_tree: the work trees of the patch and compile stages
keep what a build can see of a file (bytes, permission bits, times: make compares them)."""
from __future__ import annotations

import os
import shutil

import pytest

from tasks.fsutil import copy_file, copy_tree, link_tree, unshare_tree


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


def _sample_tree(src):
    """Files (executable, big, empty, read-only), symlinks (to a file, dangling, to a
    directory) and directories, each with its own times."""
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
    return src


def test_copy_tree_is_what_copytree_gives(tmp_path):
    src = _sample_tree(tmp_path / "src")
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


def test_link_tree_is_the_same_tree_with_shared_files(tmp_path):
    src = _sample_tree(tmp_path / "src")
    got = tmp_path / "got"
    link_tree(src, got)
    assert _snapshot(got) == _snapshot(src)
    assert os.stat(got / "sub" / "big.bin").st_ino == os.stat(src / "sub" / "big.bin").st_ino
    assert os.lstat(got / "link.h").st_ino != os.lstat(src / "link.h").st_ino   # symlinks are made anew


def test_link_tree_copies_across_filesystems(tmp_path):
    """/dev/shm is another filesystem here: no hard link can be made, so the files are copied."""
    src = _sample_tree(tmp_path / "src")
    if os.stat("/dev/shm").st_dev == os.stat(tmp_path).st_dev:
        pytest.skip("/dev/shm is on the same filesystem as the test's directory: no cross-device case here")
    got = __import__("pathlib").Path(__import__("tempfile").mkdtemp(dir="/dev/shm")) / "got"
    try:
        link_tree(src, got)
        assert _snapshot(got) == _snapshot(src)
        assert os.stat(got / "configure").st_nlink == 1 and os.stat(src / "configure").st_nlink == 1
    finally:
        shutil.rmtree(got.parent)


def test_unshare_tree_gives_each_linked_file_its_own_copy(tmp_path):
    src = _sample_tree(tmp_path / "src")
    got = tmp_path / "got"
    link_tree(src, got)
    unshare_tree(got)
    assert _snapshot(got) == _snapshot(src)
    with open(got / "configure", "r+b") as fh:     # written in place, as an editor may
        fh.write(b"#!/bin/bash")
    assert (src / "configure").read_text() == "#!/bin/sh\necho hi\n"
    assert all(os.lstat(p).st_nlink == 1 for p in got.rglob("*") if p.is_file() and not p.is_symlink())
    assert not list(got.rglob(".*.unshared"))
