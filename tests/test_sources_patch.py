"""Patch stage: strip levels, git-style and plain diffs, CRLF, order, failures named by hunk."""
from __future__ import annotations

import os
from pathlib import Path

from sources_helpers import is_current, make_context, make_recipe, run_stage, sha256, tar_bytes
from tasks.model import Source
from tasks.stamps import stamp_result

ORIGINAL = "line 1\nline 2\nline 3\n"
FILES = {"src/hello.c": ORIGINAL, "README": "readme\n"}


def hunk(path: str, old: str = "line 2", new: str = "line two", a: str = "a/", b: str = "b/") -> str:
    return (f"--- {a}{path}\n+++ {b}{path}\n@@ -1,3 +1,3 @@\n line 1\n-{old}\n+{new}\n line 3\n")


def setup(tmp: Path, patches: dict[str, str | bytes], files: dict[str, str] | None = None,
          folder: str | None = None):
    """A recipe with one archive and the given patches (name -> text), extracted."""
    data = tar_bytes(files or FILES)
    archive = tmp / "pkg-1.0.tar.gz"
    archive.write_bytes(data)
    paths = []
    for name, text in patches.items():
        path = tmp / "recipes" / "pkg" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(text if isinstance(text, bytes) else text.encode())
        paths.append(str(path))
    source = Source(kind="url", url=(archive.as_uri(),), sha256=sha256(data), patches=tuple(paths), folder=folder)
    recipe = make_recipe(tmp, sources=(source,))
    ctx = make_context(tmp, recipe)
    assert run_stage("download", recipe, ctx) is None
    assert run_stage("extract", recipe, ctx) is None
    return recipe, ctx


def patched(ctx, rel: str = "src/hello.c") -> str:
    return (ctx.layout.work("pkg", "patch") / rel).read_text()


def test_p1_patch_applies_to_a_fresh_copy(tmp_path):
    recipe, ctx = setup(tmp_path, {"fix.patch": hunk("src/hello.c")})
    assert run_stage("patch", recipe, ctx) is None
    assert patched(ctx) == "line 1\nline two\nline 3\n"
    assert (ctx.layout.work("pkg", "extract") / "src/hello.c").read_text() == ORIGINAL
    assert stamp_result(ctx.layout.stamp("pkg", "patch"))["tree"] != \
        stamp_result(ctx.layout.stamp("pkg", "extract"))["tree"]


def test_strip_levels_p0_and_p2_are_detected(tmp_path):
    p0 = hunk("src/hello.c", a="", b="")
    p2 = ("--- old/pkg/src/hello.c\n+++ new/pkg/src/hello.c\n@@ -1,3 +1,3 @@\n line 1\n line 2\n-line 3\n+line three\n")
    recipe, ctx = setup(tmp_path, {"0.patch": p0, "2.patch": p2})
    assert run_stage("patch", recipe, ctx) is None
    assert patched(ctx) == "line 1\nline two\nline three\n"
    log = ctx.layout.log("pkg", "patch").read_text()
    assert "0.patch: applies with -p0" in log and "2.patch: applies with -p2" in log


def test_git_style_diff_with_new_file_and_mode(tmp_path):
    git_patch = (
        "From 1234 Mon Sep 17 00:00:00 2001\nSubject: [PATCH] add a script\n\n---\n"
        "diff --git a/src/hello.c b/src/hello.c\nindex 1111111..2222222 100644\n" + hunk("src/hello.c") +
        "diff --git a/tools/run.sh b/tools/run.sh\nnew file mode 100755\nindex 0000000..3333333\n"
        "--- /dev/null\n+++ b/tools/run.sh\n@@ -0,0 +1,2 @@\n+#!/bin/sh\n+echo run\n-- \n2.39.5\n")
    recipe, ctx = setup(tmp_path, {"0001-add.patch": git_patch})
    assert run_stage("patch", recipe, ctx) is None
    script = ctx.layout.work("pkg", "patch") / "tools" / "run.sh"
    assert script.read_text() == "#!/bin/sh\necho run\n"
    assert script.stat().st_mode & 0o100


def test_crlf_patch_on_lf_tree(tmp_path):
    recipe, ctx = setup(tmp_path, {"crlf.patch": hunk("src/hello.c").replace("\n", "\r\n").encode()})
    assert run_stage("patch", recipe, ctx) is None
    assert patched(ctx) == "line 1\nline two\nline 3\n"


def test_lf_patch_on_crlf_tree(tmp_path):
    files = {"src/hello.c": ORIGINAL.replace("\n", "\r\n")}
    recipe, ctx = setup(tmp_path, {"lf.patch": hunk("src/hello.c")}, files=files)
    assert run_stage("patch", recipe, ctx) is None
    assert (ctx.layout.work("pkg", "patch") / "src/hello.c").read_bytes() == b"line 1\r\nline two\r\nline 3\r\n"


def test_patches_apply_in_order_inside_the_folder(tmp_path):
    first = hunk("src/hello.c")
    second = hunk("src/hello.c", old="line two", new="line 2, twice patched")
    recipe, ctx = setup(tmp_path, {"1.patch": first, "2.patch": second}, folder="pkg-src")
    assert run_stage("patch", recipe, ctx) is None
    assert patched(ctx, "pkg-src/src/hello.c") == "line 1\nline 2, twice patched\nline 3\n"


def test_failing_patch_names_file_and_hunk_and_keeps_trees(tmp_path):
    good = hunk("src/hello.c")
    recipe, ctx = setup(tmp_path, {"good.patch": good})
    assert run_stage("patch", recipe, ctx) is None
    bad = hunk("src/hello.c", old="this line is not there", new="x")
    bad_path = recipe.recipe_dir / "bad.patch"
    bad_path.write_text(bad)
    source = Source(kind="url", options=recipe.sources[0].options,
                    patches=recipe.sources[0].patches + (str(bad_path),))
    broken = make_recipe(tmp_path, sources=(source,))
    ctx = make_context(tmp_path, broken)
    failure = run_stage("patch", broken, ctx)
    assert failure is not None
    assert "[pkg] stage 'patch' failed" in failure
    assert f"patch {bad_path} does not apply" in failure
    assert "hunk #1 of src/hello.c (at line 1)" in failure
    assert f"log: {ctx.layout.log('pkg', 'patch')}" in failure
    kept = ctx.layout.failed_work("pkg", "patch")
    assert f"work tree kept for debugging: {kept}" in failure
    assert (kept / "src/hello.c").read_text() == "line 1\nline two\nline 3\n"   # good.patch was applied there
    assert (ctx.layout.work("pkg", "extract") / "src/hello.c").read_text() == ORIGINAL
    # the kept tree is the user's to edit: none of its files is linked to the pristine tree
    assert all(p.stat().st_nlink == 1 for p in kept.rglob("*") if p.is_file())
    assert not ctx.layout.stamp("pkg", "patch").exists()
    assert not is_current("patch", broken, ctx)
    assert not list(ctx.layout.work("pkg", "patch").rglob("*.rej"))


def test_rejected_hunk_is_shown_next_to_the_target_files_lines(tmp_path):
    files = {"src/hello.c": "".join(f"line {i}\n" for i in range(1, 51)), "README": "readme\n"}
    long_hunk = "".join(f"-line {i} as it was\n" for i in range(30, 44)) + "+gone\n"
    bad = ("--- a/src/hello.c\n+++ b/src/hello.c\n"
           "@@ -1,3 +1,3 @@\n line 1\n-line 2\n+line two\n line 3\n"         # applies
           "@@ -12,5 +12,5 @@\n line 12\n line 13\n-line 14 old\n+line 14 new\n line 15\n line 16\n"
           "@@ -30,14 +30,1 @@\n" + long_hunk +
           "@@ -45,1 +32,1 @@\n-not there\n+x\n")
    recipe, ctx = setup(tmp_path, {"bad.patch": bad}, files=files)
    failure = run_stage("patch", recipe, ctx)
    assert failure is not None
    patch = recipe.recipe_dir / "bad.patch"
    assert f"patch {patch} does not apply" in failure
    assert "hunk #2 of src/hello.c (at line 12); hunk #3 of src/hello.c (at line 30); " \
           "hunk #4 of src/hello.c (at line 45)" in failure
    # the rejected hunk as the patch has it, then the file's actual lines there, numbered
    assert ("  rejected hunk #2 (target file src/hello.c, expected at line 12):\n"
            "    @@ -12,5 +12,5 @@\n     line 12\n     line 13\n    -line 14 old\n    +line 14 new\n"
            "     line 15\n     line 16\n"
            "  src/hello.c as it is in the source, lines 10-18 of 50:\n"
            "    10 | line 10\n    11 | line 11\n    12 | line 12\n    13 | line 13\n    14 | line 14\n"
            "    15 | line 15\n    16 | line 16\n    17 | line 17\n    18 | line 18\n") in failure
    # long hunks and long lists of hunks are cut
    assert "    -line 39 as it was\n    ... (5 more line(s) in this hunk)\n" in failure
    assert "lines 28-41 of 50:" in failure and "    41 | line 41\n  " in failure
    assert "rejected hunk #4" not in failure and "  ... 1 more rejected hunk(s), named above\n" in failure
    assert "  hint: the source may not be the version this patch was written for" in failure
    assert len(failure.splitlines()) < 60
    kept = ctx.layout.failed_work("pkg", "patch")
    assert not [p for p in kept.rglob("*") if p.suffix in (".rej", ".orig")]


def test_patch_applied_with_offset_and_fuzz_leaves_no_rej_or_orig(tmp_path):
    files = {"src/hello.c": "added\nline 1\nline 2 changed\nline 3\n", "README": "readme\n"}
    fuzzy = ("--- a/src/hello.c\n+++ b/src/hello.c\n@@ -1,4 +1,4 @@\n line 0\n line 1\n-line 2 changed\n"
             "+line two\n line 3\n")
    recipe, ctx = setup(tmp_path, {"fuzzy.patch": fuzzy}, files=files)
    assert run_stage("patch", recipe, ctx) is None
    assert patched(ctx) == "added\nline 1\nline two\nline 3\n"
    tree = ctx.layout.work("pkg", "patch")
    assert sorted(str(p.relative_to(tree)) for p in tree.rglob("*") if p.is_file()) == ["README", "src/hello.c"]


def test_patch_already_applied_says_so(tmp_path):
    files = {"src/hello.c": "line 1\nline two\nline 3\n"}
    recipe, ctx = setup(tmp_path, {"old.patch": hunk("src/hello.c")}, files=files)
    failure = run_stage("patch", recipe, ctx)
    assert "looks already applied (or reversed) at -p1: src/hello.c" in failure
    assert "drop the patch" in failure


def test_patch_for_a_missing_file_says_so(tmp_path):
    recipe, ctx = setup(tmp_path, {"nofile.patch": hunk("src/absent.c")})
    failure = run_stage("patch", recipe, ctx)
    assert "does not apply at any strip level" in failure


def test_patch_edit_changes_only_the_patch_signature(tmp_path):
    recipe, ctx = setup(tmp_path, {"fix.patch": hunk("src/hello.c")})
    assert run_stage("patch", recipe, ctx) is None
    assert all(is_current(s, recipe, ctx) for s in ("download", "extract", "patch"))
    Path(recipe.sources[0].patches[0]).write_text(hunk("src/hello.c", new="line TWO"))
    assert is_current("download", recipe, ctx) and is_current("extract", recipe, ctx)
    assert not is_current("patch", recipe, ctx)
    assert run_stage("patch", recipe, ctx) is None
    assert patched(ctx) == "line 1\nline TWO\nline 3\n"


def test_missing_patch_program_is_a_clear_error(tmp_path, monkeypatch):
    recipe, ctx = setup(tmp_path, {"fix.patch": hunk("src/hello.c")})
    empty = tmp_path / "empty-bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    failure = run_stage("patch", recipe, ctx)
    assert "needs the `patch` program, which is not installed" in failure


def test_the_patched_tree_links_the_pristine_files_and_never_changes_them(tmp_path):
    """Unchanged files are hard links to the pristine tree's (no copy of the source); GNU
    patch writes the files it changes anew, so the pristine tree keeps its bytes through
    patches and patch edits."""
    recipe, ctx = setup(tmp_path, {"fix.patch": hunk("src/hello.c")})
    pristine, tree = ctx.layout.work("pkg", "extract"), ctx.layout.work("pkg", "patch")
    for new in ("line two", "line TWO"):
        Path(recipe.sources[0].patches[0]).write_text(hunk("src/hello.c", new=new))
        assert run_stage("patch", recipe, ctx) is None
        assert patched(ctx) == f"line 1\n{new}\nline 3\n"
        assert (pristine / "src/hello.c").read_text() == ORIGINAL
        assert os.stat(tree / "README").st_ino == os.stat(pristine / "README").st_ino
        assert os.stat(tree / "src/hello.c").st_ino != os.stat(pristine / "src/hello.c").st_ino
    assert is_current("extract", recipe, ctx)
