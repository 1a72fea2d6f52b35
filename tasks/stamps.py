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
# 4: ``inputs`` (the flat parts the signature was made from, for `doit explain`) and ``run``
#    (start, end, CPU seconds, peak memory of the run that made it). A stamp of format 3 is
#    still read: it lacks only what explains it.
STAMP_FORMAT = 4
READABLE_FORMATS = frozenset({3, 4})
# A flat part longer than this is recorded as its digest: stamps name inputs, not contents.
_SHORT = 96


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
    if not isinstance(data, dict) or data.get("format") not in READABLE_FORMATS:
        return None
    return data


def write_stamp(path: Path, sig: str, result: dict[str, Any], check: str = "",
                inputs: dict[str, Any] | None = None, run: dict[str, Any] | None = None) -> None:
    """``result``: the stage's result in its JSON form; ``check`` only verifies the files;
    ``inputs``: :func:`flat_parts` of what ``sig`` hashes; ``run``: what the run cost."""
    write_json_atomic(path, {"format": STAMP_FORMAT, "signature": sig, "result": result, "check": check,
                             "finished": time.time(), "inputs": inputs or {}, "run": run or {}})


def digest_text(value: str) -> str:
    return "sha256:" + hashlib.sha256(value.encode()).hexdigest()


def flat_parts(parts: Any, prefix: str = "") -> dict[str, Any]:
    """``parts`` (the plain data a signature hashes) as one flat mapping ``a.b.0.c`` -> value:
    short scalars as they are, long ones and long lists as their digest. Two of them tell
    which input changed (tasks/explain.py) without storing any file's contents."""
    out: dict[str, Any] = {}

    def leaf(key: str, value: Any) -> None:
        if value is None or isinstance(value, (bool, int, float)):
            out[key] = value
            return
        text = value if isinstance(value, str) else json.dumps(value, sort_keys=True, separators=(",", ":"),
                                                               default=str)
        out[key] = text if len(text) <= _SHORT else digest_text(text)

    def walk(key: str, value: Any) -> None:
        if isinstance(value, dict):
            if not value:
                leaf(key, {})
            for k, v in value.items():
                walk(f"{key}.{k}" if key else str(k), v)
        elif isinstance(value, (list, tuple)) and any(isinstance(v, (dict, list, tuple)) for v in value):
            if not value:
                leaf(key, [])
            for i, v in enumerate(value):
                walk(f"{key}.{i}" if key else str(i), v)
        elif isinstance(value, (list, tuple)) and (len(json.dumps(value, default=str)) > _SHORT
                                                   or any(isinstance(v, str) and len(v) > 32 for v in value)):
            for i, v in enumerate(value):       # long lists, lists of digests: one entry each
                leaf(f"{key}.{i}" if key else str(i), v)
        else:
            leaf(key, list(value) if isinstance(value, tuple) else value)

    walk(prefix, parts)
    return out


def stamp_result(path: Path) -> dict[str, Any] | None:
    """The JSON form of a finished stage's result, or None when it has not finished."""
    stamp = read_stamp(path)
    return None if stamp is None else stamp.get("result", {})


def remove_stamp(path: Path) -> None:
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass
