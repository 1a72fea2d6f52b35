"""Extract stage: formats, hoisting, folders, several sources, and refused archive members."""
from __future__ import annotations

import io
import os
import stat
import tarfile
import zipfile
from pathlib import Path

import pytest

from sources_helpers import make_context, make_recipe, member, run_stage, sha256, tar_bytes, tar_with
from tasks.fetch.base import VCS_DIRS
from tasks.fsutil import tree_digest
from tasks.model import Source
from tasks.stamps import stamp_result

FILES = {"configure.sh": "#!/bin/sh\necho configure\n", "src/main.c": "int main(void){return 0;}\n"}


def archive_source(tmp: Path, data: bytes, name: str, **extra) -> Source:
    path = tmp / "archives" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return Source(kind="url", url=(path.as_uri(),), sha256=sha256(data), **extra)


def extract(tmp: Path, *sources: Source):
    recipe = make_recipe(tmp, sources=sources)
    ctx = make_context(tmp, recipe)
    assert run_stage("download", recipe, ctx) is None
    return run_stage("extract", recipe, ctx), ctx.layout.work("pkg", "extract"), ctx


def zst_tar(files: dict[str, str]) -> bytes:
    try:
        from compression import zstd  # type: ignore[import-not-found]
    except ImportError:
        from backports import zstd  # type: ignore[no-redef]
    return zstd.compress(tar_bytes(files, mode="w"))


@pytest.mark.parametrize("name,data", [
    ("pkg-1.0.tar.gz", tar_bytes(FILES, "w:gz")),
    ("pkg-1.0.tar.bz2", tar_bytes(FILES, "w:bz2")),
    ("pkg-1.0.tar.xz", tar_bytes(FILES, "w:xz")),
    ("pkg-1.0.tar", tar_bytes(FILES, "w")),
    ("pkg-1.0.tar.zst", zst_tar(FILES)),
    ("renamed-by-a-mirror.orig", tar_bytes(FILES, "w:xz")),     # detected by content, not name
])
def test_tar_formats_are_unpacked_and_top_directory_hoisted(tmp_path, name, data):
    failure, tree, ctx = extract(tmp_path, archive_source(tmp_path, data, name))
    assert failure is None
    assert (tree / "src" / "main.c").read_text() == FILES["src/main.c"]
    assert os.stat(tree / "configure.sh").st_mode & stat.S_IXUSR
    assert stamp_result(ctx.layout.stamp("pkg", "extract")) == {"tree": tree_digest(tree, VCS_DIRS), "path": str(tree)}


def test_zip_keeps_modes_and_symlinks(tmp_path):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        info = zipfile.ZipInfo("pkg-2.0/run.sh")
        info.external_attr = (stat.S_IFREG | 0o755) << 16
        zf.writestr(info, "#!/bin/sh\n")
        zf.writestr("pkg-2.0/data/a.txt", "a\n")
        link = zipfile.ZipInfo("pkg-2.0/link.txt")
        link.external_attr = (stat.S_IFLNK | 0o777) << 16
        zf.writestr(link, "data/a.txt")
    failure, tree, _ = extract(tmp_path, archive_source(tmp_path, buf.getvalue(), "pkg-2.0.zip"))
    assert failure is None
    assert os.stat(tree / "run.sh").st_mode & stat.S_IXUSR
    assert os.readlink(tree / "link.txt") == "data/a.txt" and (tree / "link.txt").read_text() == "a\n"


def test_plain_file_is_copied_as_is(tmp_path):
    data = b"#!/usr/bin/env python\nprint('hi')\n"
    failure, tree, _ = extract(tmp_path, archive_source(tmp_path, data, "tool.py", fn="tool-1.0.py"))
    assert failure is None
    assert (tree / "tool-1.0.py").read_bytes() == data


def test_several_top_level_entries_are_not_hoisted(tmp_path):
    data = tar_bytes({"a.txt": "a", "b/c.txt": "c"}, top=None)
    failure, tree, _ = extract(tmp_path, archive_source(tmp_path, data, "flat.tar.gz"))
    assert failure is None
    assert sorted(os.listdir(tree)) == ["a.txt", "b"]


def test_several_sources_with_folders(tmp_path):
    main = archive_source(tmp_path, tar_bytes(FILES), "pkg-1.0.tar.gz")
    extra = archive_source(tmp_path, tar_bytes({"x.h": "#define X 1\n"}, top="extra-0.1"), "extra-0.1.tar.gz",
                           folder="third_party/extra")
    failure, tree, _ = extract(tmp_path, main, extra)
    assert failure is None
    assert (tree / "src" / "main.c").is_file()
    assert (tree / "third_party" / "extra" / "x.h").read_text() == "#define X 1\n"


def test_sources_without_folders_merge_but_never_overwrite(tmp_path):
    one = archive_source(tmp_path, tar_bytes({"src/a.c": "a"}), "one.tar.gz")
    two = archive_source(tmp_path, tar_bytes({"src/b.c": "b"}, top="two"), "two.tar.gz")
    failure, tree, _ = extract(tmp_path, one, two)
    assert failure is None and sorted(os.listdir(tree / "src")) == ["a.c", "b.c"]
    clash = archive_source(tmp_path, tar_bytes({"src/a.c": "other"}, top="three"), "three.tar.gz")
    failure, _, _ = extract(tmp_path / "again", one, clash)
    assert "source #2 would overwrite 'src/a.c'" in failure


def test_folder_may_not_leave_the_tree(tmp_path):
    failure, _, _ = extract(tmp_path, archive_source(tmp_path, tar_bytes(FILES), "p.tar.gz", folder="../out"))
    assert "must be a relative path inside the work tree" in failure


def test_path_source_is_copied(tmp_path):
    src = tmp_path / "local"
    (src / "lib").mkdir(parents=True)
    (src / "lib" / "x.py").write_text("x = 1\n")
    os.symlink("lib/x.py", src / "x-link.py")
    recipe = make_recipe(tmp_path, sources=(Source(kind="path", path=str(src)),))
    ctx = make_context(tmp_path, recipe)
    assert run_stage("download", recipe, ctx) is None
    assert run_stage("extract", recipe, ctx) is None
    tree = ctx.layout.work("pkg", "extract")
    assert (tree / "lib" / "x.py").read_text() == "x = 1\n" and os.readlink(tree / "x-link.py") == "lib/x.py"


EVIL = [
    ("dotdot", [member("pkg/../../evil.txt", size=1)], "pkg/../../evil.txt", "leaves the extraction tree"),
    ("absolute", [member("/tmp/condoit-evil.txt", size=1)], "/tmp/condoit-evil.txt", "absolute path"),
    ("symlink-abs", [member("pkg/etc", tarfile.SYMTYPE, "/etc")], "pkg/etc", "symlink to the absolute path"),
    ("symlink-up", [member("pkg/up", tarfile.SYMTYPE, "../../..")], "pkg/up", "points outside"),
    ("hardlink-up", [member("pkg/h", tarfile.LNKTYPE, "../outside.txt")], "pkg/h", "hardlink"),
    ("device", [member("pkg/null", tarfile.CHRTYPE)], "pkg/null", "device file"),
    ("fifo", [member("pkg/pipe", tarfile.FIFOTYPE)], "pkg/pipe", "fifo"),
    # a legal link to the tree's root, then a path through it that climbs out
    ("through-link", [member("pkg/a/b", tarfile.SYMTYPE, ".."), member("pkg/a/b/c", tarfile.SYMTYPE, "../../..")],
     "pkg/a/b/c", "outside the destination"),
]


@pytest.mark.parametrize("label,members,bad,reason", EVIL, ids=[e[0] for e in EVIL])
def test_escaping_tar_members_are_refused_by_name(tmp_path, label, members, bad, reason):
    safe = [member("pkg/ok.txt", size=2)]
    data = tar_with(safe + members)
    failure, tree, ctx = extract(tmp_path, archive_source(tmp_path, data, "evil.tar.gz"))
    assert failure is not None, label
    assert f"refusing member '{bad}'" in failure and reason in failure
    assert "[pkg] stage 'extract' failed" in failure
    assert not tree.exists() and not ctx.layout.stamp("pkg", "extract").exists()
    assert f"work tree kept for debugging: {ctx.layout.failed_work('pkg', 'extract')}" in failure
    assert not (tmp_path / "evil.txt").exists() and not Path("/tmp/condoit-evil.txt").exists()


@pytest.mark.parametrize("name,reason", [("../zip-evil.txt", "leaves the extraction tree"),
                                         ("/abs-evil.txt", "absolute path")])
def test_zip_slip_is_refused(tmp_path, name, reason):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("ok.txt", "ok")
        zf.writestr(zipfile.ZipInfo(name), "evil")
    failure, tree, _ = extract(tmp_path, archive_source(tmp_path, buf.getvalue(), "evil.zip"))
    assert f"refusing member '{name}'" in failure and reason in failure
    assert not (tmp_path / "cache" / "work" / "pkg" / "zip-evil.txt").exists()


def test_zip_symlink_out_is_refused(tmp_path):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        link = zipfile.ZipInfo("d/link")
        link.external_attr = (stat.S_IFLNK | 0o777) << 16
        zf.writestr(link, "../../../etc/passwd")
    failure, _, _ = extract(tmp_path, archive_source(tmp_path, buf.getvalue(), "evil.zip"))
    assert "refusing member 'd/link'" in failure and "points outside" in failure


def test_failed_extract_keeps_the_previous_tree(tmp_path):
    good = archive_source(tmp_path, tar_bytes(FILES), "pkg-1.0.tar.gz")
    failure, tree, ctx = extract(tmp_path, good)
    assert failure is None
    evil = archive_source(tmp_path, tar_with([member("../x", size=1)]), "evil.tar.gz")
    recipe = make_recipe(tmp_path, sources=(evil,))
    ctx = make_context(tmp_path, recipe)
    assert run_stage("download", recipe, ctx) is None
    assert run_stage("extract", recipe, ctx) is not None
    assert (tree / "src" / "main.c").is_file()     # the old pristine tree was not touched


def test_links_inside_the_tree_are_kept(tmp_path):
    data = tar_with([member("pkg/lib/libz.so.1.3", size=4), member("pkg/lib/libz.so", tarfile.SYMTYPE, "libz.so.1.3"),
                     member("pkg/lib/copy.so", tarfile.LNKTYPE, "pkg/lib/libz.so.1.3")])
    failure, tree, _ = extract(tmp_path, archive_source(tmp_path, data, "links.tar.gz"))
    assert failure is None
    assert os.readlink(tree / "lib" / "libz.so") == "libz.so.1.3"
    assert (tree / "lib" / "copy.so").read_bytes() == b"xxxx"


def test_files_through_a_link_land_where_it_points_and_modes_are_data_modes(tmp_path):
    """Members are written by name unless a link is on the way (then tarfile's data filter
    resolves the real place); either way, modes follow the data rules."""
    def with_mode(info: tarfile.TarInfo, mode: int) -> tarfile.TarInfo:
        info.mode = mode
        return info
    data = tar_with([member("pkg/real", tarfile.DIRTYPE), member("pkg/via", tarfile.SYMTYPE, "real"),
                     member("pkg/via/inside.txt", size=3),
                     with_mode(member("pkg/tool", size=1), 0o4775),         # setuid, group write
                     with_mode(member("pkg/notes.txt", size=1), 0o466),     # owner may not write, others may
                     with_mode(member("pkg/half-exec.sh", size=1), 0o655)])  # group/other exec, not the owner
    failure, tree, _ = extract(tmp_path, archive_source(tmp_path, data, "modes.tar.gz"))
    assert failure is None
    assert (tree / "real" / "inside.txt").read_bytes() == b"xxx" and os.readlink(tree / "via") == "real"
    modes = {name: stat.S_IMODE((tree / name).stat().st_mode) for name in ("tool", "notes.txt", "half-exec.sh")}
    assert modes == {"tool": 0o755, "notes.txt": 0o644, "half-exec.sh": 0o644}
