"""Which files a build owns: bytecode its python wrote for a host package's module is not
one of them (importing pip from the host prefix must not put pip's .pyc into markupsafe)."""
from __future__ import annotations

from doit_runner import run_doit, write_recipe
from test_package_metadata import info_files
from tasks.stages.compile import host_bytecode


def test_host_bytecode_is_told_from_the_recipes_own():
    before = {"lib/python3.11/site-packages/pip/util.py"}
    assert host_bytecode("lib/python3.11/site-packages/pip/__pycache__/util.cpython-311.pyc", before)
    assert not host_bytecode("lib/python3.11/site-packages/mine/__pycache__/x.cpython-311.pyc", before)
    assert not host_bytecode("lib/python3.11/site-packages/pip/util.py", before)


def test_a_package_leaves_out_bytecode_written_for_a_host_module(stack_dirs):
    recipes, cache = stack_dirs
    write_recipe(recipes, "hostmod", """
        package: {name: hostmod, version: "1"}
        build: {noarch: generic}
        """, build_sh="mkdir -p $PREFIX/share/mod && echo 'X = 1' > $PREFIX/share/mod/m.py\n")
    write_recipe(recipes, "user", """
        package: {name: user, version: "1"}
        build: {noarch: generic}
        requirements:
          host: [hostmod]
        """, build_sh="""
        python3 -c "import py_compile; py_compile.compile('$PREFIX/share/mod/m.py')"
        test -f $PREFIX/share/mod/__pycache__/m.cpython-*.pyc
        mkdir -p $PREFIX/share/user && echo 'Y = 2' > $PREFIX/share/user/u.py
        python3 -c "import py_compile; py_compile.compile('$PREFIX/share/user/u.py')"
        """)
    run = run_doit(recipes, cache, "package:user")
    assert run.returncode == 0, run.output[-3000:]
    files = info_files(cache, "noarch", "user")["info/files"].decode().split()
    assert "share/user/u.py" in files
    assert any(f.startswith("share/user/__pycache__/u.") for f in files)     # its own module's
    assert not any(f.startswith("share/mod/") for f in files), files         # not hostmod's
