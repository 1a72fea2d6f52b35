"""The installer file: header.sh filled in, then the boot files, then the payload.

Every number in the header has a fixed width, so the header's size is known before it is
written and the shell finds the payload at a fixed offset (``tail -c +N``). The header holds
the payload's sha256 (boot files + xz stream); the shell checks it before writing anything.
"""
from __future__ import annotations

import hashlib
import shlex
from pathlib import Path
from typing import Mapping

from .construct import Construct

TEMPLATE = Path(__file__).with_name("header.sh")
NUMBER_WIDTH = 16


def _number(n: int) -> str:
    return f"{n:<{NUMBER_WIDTH}d}"          # "1234            ": a shell assignment and spaces


def default_prefix(construct: Construct) -> str:
    prefix = construct.default_prefix or f"~/{construct.name.lower()}"
    for home in ("${HOME}", "$HOME"):
        if prefix.startswith(home):
            prefix = "~" + prefix[len(home):]
    return prefix


def render_header(construct: Construct, platform: str, payload_sha256: str, placeholder: str,
                  boot: Mapping[str, int], header_size: int = 0) -> bytes:
    boot_lines = "\n".join(f"{name} {size}" for name, size in boot.items())
    values = {
        "TITLE": f"{construct.name} {construct.version}",
        "FILENAME": construct.installer_name(platform),
        "NAME": shlex.quote(construct.name),
        "VERSION": shlex.quote(construct.version),
        "PLATFORM": platform,
        "HEADER_SIZE": _number(header_size),
        "PAYLOAD_SHA256": payload_sha256,
        "PLACEHOLDER": shlex.quote(placeholder),
        "MAX_PREFIX": str(len(placeholder)),
        "BOOT_FILES": shlex.quote(boot_lines),
        "BOOT_SIZE": str(sum(boot.values())),
        "INITIALIZE": "yes" if construct.initialize_by_default else "no",
        "DEFAULT_PREFIX": shlex.quote(default_prefix(construct)),
    }
    text = TEMPLATE.read_text()
    for key, value in values.items():
        text = text.replace(f"@@{key}@@", value)
    return text.encode()


def write_installer(out: Path, construct: Construct, platform: str, placeholder: str,
                    boot: Mapping[str, bytes], payload: Path) -> str:
    """Write the installer to ``out``; returns the payload's sha256."""
    digest = hashlib.sha256()
    for data in boot.values():
        digest.update(data)
    with open(payload, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    sizes = {name: len(data) for name, data in boot.items()}
    size = len(render_header(construct, platform, digest.hexdigest(), placeholder, sizes))
    header = render_header(construct, platform, digest.hexdigest(), placeholder, sizes, size)
    assert len(header) == size, "the header's numbers have a fixed width"
    with open(out, "wb") as fh:
        fh.write(header)
        for data in boot.values():
            fh.write(data)
        with open(payload, "rb") as src:
            for chunk in iter(lambda: src.read(1 << 20), b""):
                fh.write(chunk)
    out.chmod(0o755)
    return digest.hexdigest()
