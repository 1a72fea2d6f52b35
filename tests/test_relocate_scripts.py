"""Shebangs, entry points, link scripts, symlinks, permissions, eggs and file selection."""
from __future__ import annotations

import os
import subprocess
import sys

import pytest

from relocate_support import host_prefix, new_files, recipe, settings
from tasks.paths import Layout
from tasks.relocate import PrefixFile, post_build
from tasks.relocate.shebang import MAX_SHEBANG, Shebang, parse, rewrite

P = "/c/prefix/demo/_h_env_placehold_placehold"
LONG = "/" + "x" * 130 + "/bin/perl"


@pytest.mark.parametrize("line, options, expected", [
    ("#!/bin/sh -e", {}, "#!/bin/sh -e"),                                               # system: left alone
    (f"#!{P}/bin/perl -w", {}, f"#!{P}/bin/perl -w"),                                   # patched at install
    (f"#!{P}/bin/perl -w", {"patched_at_install": False}, "#!/usr/bin/env perl -w"),    # nobody would patch it
    ("#!/b/_build_env/bin/python3.11 -u", {"build_prefixes": ["/b/_build_env"]}, f"#!{P}/bin/python3.11 -u"),
    ("#!/usr/bin/python3", {"python_to_prefix": True}, f"#!{P}/bin/python"),
    ("#!/usr/bin/env python", {"python_to_prefix": True}, "#!/usr/bin/env python"),
    (f"#!{LONG} -x", {}, "#!/usr/bin/env perl -x"),                                      # too long to run
])
def test_shebang_rules(line, options, expected):
    assert rewrite(parse(line), prefix=P, **options).line == expected


def test_parse_keeps_arguments():
    assert parse("#! /usr/bin/perl -w -T\r\n") == Shebang("/usr/bin/perl", " -w -T")
    assert parse("no shebang") is None
    assert len(f"#!{LONG} -x") > MAX_SHEBANG


def scripts_tree(tmp_path):
    prefix = host_prefix(tmp_path)
    build_prefix = Layout(tmp_path / "cache").build_prefix("demo")
    (prefix / "bin").mkdir()
    (prefix / "bin/tool").write_text(f"#!{build_prefix}/bin/perl\r\nprint 1;\r\n")
    (prefix / "bin/pyscript").write_text("#!/usr/bin/python3\nprint(1)\n")
    (prefix / "libexec").mkdir()
    (prefix / "libexec/helper").write_text(f"#!{prefix}/bin/bash\necho hi\n")
    return prefix, build_prefix


def test_shebangs_in_a_package(tmp_path):
    prefix, build_prefix = scripts_tree(tmp_path)
    result = post_build(prefix, new_files(prefix), recipe(tmp_path, run=["python", "perl"]), settings(tmp_path))
    assert (prefix / "bin/tool").read_bytes() == f"#!{prefix}/bin/perl\r\nprint 1;\r\n".encode()
    assert (prefix / "bin/pyscript").read_text().splitlines()[0] == f"#!{prefix}/bin/python"
    assert (prefix / "libexec/helper").read_text().splitlines()[0] == f"#!{prefix}/bin/bash"
    assert {e.path for e in result.prefix_files} == {"bin/tool", "bin/pyscript", "libexec/helper"}
    assert all(e.file_mode == "text" for e in result.prefix_files)
    assert f"bin/tool: shebang #!{build_prefix}/bin/perl -> #!{prefix}/bin/perl" in result.log


def test_shebangs_of_files_nobody_patches_use_env(tmp_path):
    prefix, _ = scripts_tree(tmp_path)
    result = post_build(prefix, new_files(prefix), recipe(tmp_path, ignore_prefix_files=("libexec/*",)),
                        settings(tmp_path))
    assert (prefix / "libexec/helper").read_text() == "#!/usr/bin/env bash\necho hi\n"
    assert (prefix / "bin/pyscript").read_text().startswith("#!/usr/bin/python3\n")  # no python requirement
    assert "libexec/helper" not in {e.path for e in result.prefix_files}


def test_entry_points_are_written_and_run(tmp_path):
    prefix = host_prefix(tmp_path)
    pkg = prefix / "lib/python3.11/site-packages/demo"
    pkg.mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "cli.py").write_text("import sys\ndef main():\n    print('cli', sys.argv[1:])\n    return 3\n")
    result = post_build(prefix, new_files(prefix), recipe(tmp_path, entry_points=("demo-cli = demo.cli:main",),
                                                          run=["python"]), settings(tmp_path))
    assert "bin/demo-cli" in result.files
    assert PrefixFile("bin/demo-cli", str(prefix), "text") in result.prefix_files
    script = prefix / "bin/demo-cli"
    assert script.read_text().startswith(f"#!{prefix}/bin/python\n# -*- coding: utf-8 -*-\n")
    assert script.stat().st_mode & 0o777 == 0o775
    out = subprocess.run([sys.executable, str(script), "a"], capture_output=True, text=True,
                         env={"PYTHONPATH": str(prefix / "lib/python3.11/site-packages")})
    assert (out.returncode, out.stdout) == (3, "cli ['a']\n")


def test_noarch_python_gets_no_entry_point_scripts_and_bad_specs_are_problems(tmp_path):
    prefix = host_prefix(tmp_path)
    (prefix / "share").mkdir()
    (prefix / "share/x").write_text("x")
    result = post_build(prefix, new_files(prefix), recipe(tmp_path, noarch="python", entry_points=("a = b:c",)),
                        settings(tmp_path))
    assert result.files == ("share/x",)
    bad = post_build(prefix, new_files(prefix), recipe(tmp_path, entry_points=("not an entry point",)),
                     settings(tmp_path))
    assert bad.problems == ("build/entry_points: entry point 'not an entry point' is not "
                            "'command = module:function'",)


def test_link_scripts_are_placed_where_installers_look(tmp_path):
    prefix = host_prefix(tmp_path)
    (prefix / "share").mkdir()
    (prefix / "share/x").write_text("x")
    post_link = tmp_path / "post-link.sh"
    post_link.write_text("echo linked >> \"$PREFIX/.messages.txt\"\n")
    result = post_build(prefix, new_files(prefix), recipe(tmp_path, link_scripts={"post-link": str(post_link)}),
                        settings(tmp_path))
    assert result.files == ("bin/.demo-post-link.sh", "share/x")
    assert (prefix / "bin/.demo-post-link.sh").read_text() == post_link.read_text()
    assert os.access(prefix / "bin/.demo-post-link.sh", os.X_OK)
    odd = post_build(prefix, new_files(prefix), recipe(tmp_path, link_scripts={"post-install": str(post_link)}),
                     settings(tmp_path))
    assert odd.problems[0].endswith("unknown action 'post-install' (known: pre-link, post-link, pre-unlink)")


def test_permissions_are_made_installable(tmp_path):
    prefix = host_prefix(tmp_path)
    (prefix / "bin").mkdir(mode=0o700)
    (prefix / "bin/run").write_text("#!/bin/sh\n")
    (prefix / "bin/run").chmod(0o700)
    (prefix / "bin/data").write_text("x")
    (prefix / "bin/data").chmod(0o400)
    post_build(prefix, new_files(prefix), recipe(tmp_path), settings(tmp_path))
    assert (prefix / "bin/run").stat().st_mode & 0o777 == 0o755
    assert (prefix / "bin/data").stat().st_mode & 0o777 == 0o644
    assert (prefix / "bin").stat().st_mode & 0o777 == 0o755


def test_symlinks(tmp_path):
    prefix = host_prefix(tmp_path)
    (prefix / "lib").mkdir()
    (prefix / "lib/libz.so.1").write_text("z")
    os.symlink(prefix / "lib/libz.so.1", prefix / "lib/libz.so")
    os.symlink("/usr/lib/libc.so.6", prefix / "lib/libc.so")
    os.symlink("../../outside", prefix / "lib/escape")
    result = post_build(prefix, new_files(prefix), recipe(tmp_path), settings(tmp_path))
    assert os.readlink(prefix / "lib/libz.so") == "libz.so.1"
    assert result.problems == ("lib/escape: symlink to ../../outside, which leaves the prefix",
                               "lib/libc.so: symlink to /usr/lib/libc.so.6, outside the prefix")


def test_file_selection_no_link_always_include_and_dropped_files(tmp_path):
    prefix = host_prefix(tmp_path)
    for rel in ("etc/app.conf", "share/info/dir", "share/info/app.info", "share/old.txt",
                "lib/python3.11/x.pyo"):
        (prefix / rel).parent.mkdir(parents=True, exist_ok=True)
        (prefix / rel).write_text(rel)
    new = [f for f in new_files(prefix) if f != "share/old.txt"]
    result = post_build(prefix, new, recipe(tmp_path, no_link=("etc/*",), always_include_files=("share/old.*",)),
                        settings(tmp_path), host_prefix_files=["share/old.txt", "share/other.txt"])
    assert result.files == ("etc/app.conf", "share/info/app.info", "share/old.txt")
    assert result.no_link == ("etc/app.conf",)
    assert not (prefix / "share/info/dir").exists()


def test_egg_directories_are_flattened_or_kept(tmp_path):
    prefix = host_prefix(tmp_path)
    sp = prefix / "lib/python3.11/site-packages"
    egg = sp / "foo-1.0-py3.11.egg"
    for rel in ("foo/__init__.py", "EGG-INFO/PKG-INFO", "__pycache__/x.pyc"):
        (egg / rel).parent.mkdir(parents=True, exist_ok=True)
        (egg / rel).write_text(rel)
    (sp / "easy-install.pth").write_text("./foo-1.0-py3.11.egg\n")
    files = new_files(prefix)
    kept = post_build(prefix, files, recipe(tmp_path, preserve_egg_dir=True), settings(tmp_path))
    assert "lib/python3.11/site-packages/foo.pth" in kept.files
    assert "lib/python3.11/site-packages/easy-install.pth" not in kept.files

    (sp / "foo.pth").unlink()
    flat = post_build(prefix, [f for f in files if not f.endswith("easy-install.pth")], recipe(tmp_path),
                      settings(tmp_path))
    assert flat.files == ("lib/python3.11/site-packages/foo-1.0-py3.11.egg-info/PKG-INFO",
                          "lib/python3.11/site-packages/foo/__init__.py")
    assert not egg.exists()
