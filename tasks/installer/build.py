"""One installer from one construct file: solve, lay out, pack, write (the stage calls this).

The packages are laid out by py-rattler in a staging prefix as if installed at a long
placeholder path (as long as the packages' own binary placeholder: the longest install
prefix their binaries have room for); the payload records where the placeholder is, and
condoit-unpack replaces it by the real prefix on the target. The helper and the libraries
it needs come from the helper's own solve (boot files, uncompressed).
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import CondoitError
from ..fsutil import remove_tree, sha256_file
from ..paths import Layout, canonical_prefix
from ..settings import Settings
from .construct import Construct
from .payload import PayloadStats, state_files, write_payload
from .shell import write_installer
from .solve import HELPER, Solved, placeholder_length, solve, solved, stage

PLACEHOLDER_DIRNAME = "_inst_env"


@dataclass(frozen=True)
class Built:
    path: Path
    sha256: str                     # of the whole installer file
    size: int
    packages: tuple[Solved, ...]
    helper: tuple[Solved, ...]
    max_prefix: int
    stats: PayloadStats


def boot_files(helper_prefix: Path, construct: Construct) -> dict[str, bytes]:
    """The uncompressed files in front of the payload: the helper, the shared libraries it
    needs from its own packages (found by its DT_NEEDED), and the installer's texts."""
    from ..relocate import elf
    program = helper_prefix / "bin" / HELPER
    if not program.is_file():
        raise CondoitError(f"the package {HELPER} has no bin/{HELPER}: rebuild it (`doit build:{HELPER}`)")
    binary = elf.parse(program)
    files = {HELPER: program.read_bytes()}
    for needed in elf.describe(binary).needed if binary is not None else ():
        lib = helper_prefix / "lib" / str(needed)
        if lib.exists():
            files[f"lib/{needed}"] = lib.resolve().read_bytes()
    files["welcome.txt"] = (construct.welcome_text
                            or f"Welcome to {construct.name} {construct.version}\n").encode()
    files["license.txt"] = construct.license_text.encode()
    files["conclusion.txt"] = (construct.conclusion_text
                               or f"Thank you for installing {construct.name}!\n").encode()
    files["pre_install.sh"] = construct.pre_install.encode()
    files["post_install.sh"] = construct.post_install.encode()
    return files


def build_installer(construct: Construct, layout: Layout, settings: Settings, work: Path,
                    log: Any = None) -> Built:
    """Write ``layout.installers/<installer name>`` and its ``.sha256``; ``work`` is scratch."""
    note = log.note if log is not None else (lambda _text: None)
    platform = settings.target_platform
    records = solve(construct.specs, construct.exclude, layout, settings)
    packages = solved(records)
    note(f"# solved {', '.join(construct.specs)}: {len(packages)} package(s): {' '.join(p.dist for p in packages)}")
    try:
        helper_records = solve([HELPER], [], layout, settings)
    except CondoitError as exc:
        raise CondoitError(f"{exc}\n  the installer's install-time helper is the recipe {HELPER} "
                           f"(recipes/{HELPER} in condoit's repository): copy it into this stack") from None
    length = placeholder_length(records, layout, settings)
    placeholder = canonical_prefix(length, PLACEHOLDER_DIRNAME)
    note(f"# placeholder ({length} characters): {placeholder}")

    remove_tree(work)
    staged, boot_prefix = work / "prefix", work / "boot"
    stage(records, staged, placeholder, layout, settings)
    stage(helper_records, boot_prefix, placeholder, layout, settings)   # no path of this machine
    boot = boot_files(boot_prefix, construct)

    title = construct.installer_name(platform)
    state, compiled, modes = state_files(staged, packages, placeholder, title, construct.specs)
    payload = work / "payload.xz"
    with open(payload, "wb") as out:
        stats = write_payload(staged, placeholder, state, modes, out)
    note(f"# payload: {stats.entries} entries, {stats.unpacked_bytes} bytes -> {stats.compressed_bytes} "
         f"bytes xz; placeholder in {stats.text_replaced} text and {stats.binary_replaced} binary file(s); "
         f"{len(compiled)} module(s) to compile")

    layout.installers.mkdir(parents=True, exist_ok=True)
    final = layout.installers / title
    partial = work / title
    write_installer(partial, construct, platform, placeholder, boot, payload)
    digest = sha256_file(partial)
    sums = work / f"{title}.sha256"
    sums.write_text(f"{digest}  {title}\n")
    os.replace(partial, final)
    os.replace(sums, layout.installers / f"{title}.sha256")
    remove_tree(work)
    return Built(final, digest, final.stat().st_size, packages, solved(helper_records), length, stats)

