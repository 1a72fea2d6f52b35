"""fsutil.tree_digest's format is what every stamp and signature of a cache was made with: the
digest of a known tree is the sha256 of its documented lines, so a faster implementation
changes no cache's signatures."""
from __future__ import annotations

import hashlib
import os

from tasks.fsutil import tree_digest

SCRIPT = b"#!/bin/sh\n"
SOURCE = b"int a;\n" * 100_000         # more than one read block


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def test_tree_digest_is_the_sha256_of_its_lines(tmp_path):
    root = tmp_path / "tree"
    (root / "src" / "empty").mkdir(parents=True)
    (root / ".git").mkdir()
    (root / ".git" / "HEAD").write_text("ref\n")
    (root / "configure").write_bytes(SCRIPT)
    os.chmod(root / "configure", 0o755)
    (root / "src" / "a.c").write_bytes(SOURCE)
    os.chmod(root / "src" / "a.c", 0o644)
    os.symlink("a.c", root / "src" / "b.c")
    os.symlink("src", root / "srclink")          # a link to a directory: an entry, not descended
    os.symlink("missing", root / "dangling")
    lines = ["D .\n",
             f"F configure 111 {_sha(SCRIPT)}\n",
             "L dangling missing\n",
             "L srclink src\n",
             "D src\n",
             f"F src/a.c 0 {_sha(SOURCE)}\n",
             "L src/b.c a.c\n",
             "D src/empty\n"]
    assert tree_digest(root, ignore=(".git",)) == _sha("".join(lines).encode())
    assert tree_digest(root) != tree_digest(root, ignore=(".git",))

    # only the listed files, sorted; a relocatable digest reads the root's own path as $PREFIX
    (root / "src" / "x.pc").write_text(f"prefix={root}\n")
    os.symlink(f"{root}/src/a.c", root / "src" / "abs.c")
    lines = [f"F configure 111 {_sha(SCRIPT)}\n",
             "L src/abs.c $PREFIX/src/a.c\n",
             f"F src/x.pc 0 {_sha(b'prefix=$PREFIX' + bytes([10]))}\n"]
    assert tree_digest(root, files=["src/x.pc", "configure", "src/abs.c"], relocatable=True) == \
        _sha("".join(lines).encode())
