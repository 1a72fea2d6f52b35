"""Apply a recipe's patches with GNU patch, finding each patch's strip level like conda-build.

Every patch is tried with a dry run at -p1, then -p0, -p2, -p3 (and, for patches whose line
endings differ from the tree's, with CRLF endings), and applied for real at the first level
that applies cleanly. A patch that applies nowhere is reported with the hunks that failed
(tasks/patch_report.py, loaded only then). A patch is applied for real only after a clean
dry run, and rejects and backups are never written (``--reject-file=-``,
``--no-backup-if-mismatch``), so no ``.rej``/``.orig`` file is left in the tree to be taken
for a result.
"""
from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Iterator

from .errors import CondoitError
from .patch_attempt import STRIP_LEVELS, Attempt
from .stagelog import StageLog, require_program


class PatchFailed(CondoitError):
    """A patch applies at no strip level; names the patch file and its failing hunks."""


def apply_patches(tree: Path, patches: tuple[str, ...], log: StageLog) -> None:
    """Apply ``patches`` in order inside ``tree``."""
    if patches:
        require_program("patch", "applying the recipe's patches", "patch")
    for patch in patches:
        apply_patch(tree, Path(patch), log)


def apply_patch(tree: Path, patch: Path, log: StageLog) -> None:
    if not patch.is_file():
        raise PatchFailed(f"patch file {patch} does not exist")
    attempts: list[Attempt] = []
    with tempfile.TemporaryDirectory(prefix="condoit-patch-") as tmp:
        for is_crlf, path in _variants(patch.resolve(), Path(tmp)):
            for strip in STRIP_LEVELS:
                attempt = _run(tree, path, strip, is_crlf, log, dry_run=True)
                attempts.append(attempt)
                if attempt.returncode == 0:
                    log.note(f"{patch.name}: applies with -p{strip}{' after CRLF conversion' if is_crlf else ''}")
                    final = _run(tree, path, strip, is_crlf, log, dry_run=False)
                    if final.returncode:
                        raise PatchFailed(f"patch {patch} passed a dry run but failed:\n{final.output}")
                    return
    from .patch_report import explain   # only when a patch does not apply
    raise PatchFailed(explain(patch, attempts, tree))


def _variants(patch: Path, tmp: Path) -> Iterator[tuple[bool, Path]]:
    """The patch as is, then (for LF patches) with CRLF endings for trees with CRLF files.

    GNU patch already strips the CRs of a CRLF patch meant for LF files.
    """
    yield False, patch
    data = patch.read_bytes()
    if b"\r\n" not in data:
        crlf = tmp / patch.name
        crlf.write_bytes(data.replace(b"\n", b"\r\n"))
        yield True, crlf


def _run(tree: Path, patch: Path, strip: int, crlf: bool, log: StageLog, dry_run: bool) -> Attempt:
    argv = ["patch", f"-p{strip}", "--batch", "--forward", "--no-backup-if-mismatch",
            "--reject-file=-", "-i", str(patch), "-d", str(tree)]
    argv += ["--binary"] if crlf else []   # keep the CRs we added
    argv += ["--dry-run"] if dry_run else []
    proc = log.run(argv, check=False)
    return Attempt(strip, crlf, proc.returncode, proc.stdout + proc.stderr)
