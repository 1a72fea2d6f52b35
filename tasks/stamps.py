"""Stage stamps: the truth about what is done, kept beside the results, not in doit's db.

A stamp records the signature of a stage's inputs and digests of its outputs. It is
written last and atomically, so a killed run never leaves a stamp for a missing or
half-made result, and losing doit's database costs a re-check, not a rebuild.
"""
from __future__ import annotations

import hashlib
import json
import os
import time
from pathlib import Path
from typing import Any

from .fsutil import write_json_atomic

# 2: stamps carry ``check``, the stat fingerprint of the files the stage vouches for.
# 3: ``result`` (a stage's typed result) instead of ``outputs``.
STAMP_FORMAT = 3


def signature(parts: Any) -> str:
    """Stable digest of plain data (dicts, lists, strings, numbers)."""
    blob = json.dumps(parts, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(blob.encode()).hexdigest()


def read_stamp(path: Path) -> dict[str, Any] | None:
    try:
        with open(path, encoding="utf-8") as fh:
            data = json.load(fh)
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or data.get("format") != STAMP_FORMAT:
        return None
    return data


def write_stamp(path: Path, sig: str, result: dict[str, Any], check: str = "") -> None:
    """``result``: the stage's result in its JSON form; ``check`` only verifies the files."""
    write_json_atomic(path, {"format": STAMP_FORMAT, "signature": sig, "result": result, "check": check,
                             "finished": time.time()})


def stamp_result(path: Path) -> dict[str, Any] | None:
    """The JSON form of a finished stage's result, or None when it has not finished."""
    stamp = read_stamp(path)
    return None if stamp is None else stamp.get("result", {})


def remove_stamp(path: Path) -> None:
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass
