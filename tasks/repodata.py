"""repodata.json written from the records the package stage made, in py-rattler's own form.

py-rattler's ``index_fs`` re-reads a package that was just written (unzip, decompress its
info, hash it), and importing py-rattler and asyncio costs a cold build more CPU than that:
the package stage already knows every field of the record. The file written here is what
``index_fs`` writes, byte for byte (sorted keys, compact JSON, UTF-8), but for
``indexed_timestamp``, the clock at indexing. Whatever this module cannot vouch for (a
package file dropped into the channel, an unreadable or foreign repodata.json, a field it
does not know) it leaves to py-rattler: ``update`` then returns False and writes nothing.
"""
from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any, Mapping

from .condapkg import ARCHIVE_SUFFIXES
from .fsutil import write_bytes_atomic

# index.json keys a record copies (the rest are py-rattler's own: hashes, size, run_exports)
_INDEX_KEYS = frozenset({"name", "version", "build", "build_number", "depends", "constrains", "subdir",
                         "timestamp", "noarch", "arch", "platform", "license", "license_family",
                         "features", "track_features"})
_TOP_KEYS = frozenset({"info", "packages", "packages.conda", "removed", "repodata_version", "v3"})
# py-rattler reads a smaller timestamp as seconds (and writes it times 1000)
_MIN_MS_TIMESTAMP = 253402300800


def record(index_json: Mapping[str, Any], run_exports: Mapping[str, Any], sha256: str, md5: str,
           size: int) -> dict[str, Any] | None:
    """The repodata record py-rattler makes of a package (without ``indexed_timestamp``),
    or None when the index.json holds something it might write otherwise."""
    if not set(index_json) <= _INDEX_KEYS or index_json.get("noarch") not in (None, "python", "generic"):
        return None
    timestamp = index_json.get("timestamp", 0)
    if type(timestamp) is not int or 0 < timestamp < _MIN_MS_TIMESTAMP:
        return None
    features = index_json.get("track_features") or ""
    if type(features) is not str or " ".join(features.replace(",", " ").split()) != features:
        return None             # py-rattler writes the list it reads, joined by single spaces
    out = {k: v for k, v in index_json.items() if v is not None}
    for key in ("constrains", "track_features"):    # left out when empty
        if not out.get(key):
            out.pop(key, None)
    out.setdefault("depends", [])
    out.update(sha256=sha256, md5=md5, size=size)
    exports = {k: list(v) for k, v in run_exports.items() if v}
    if exports:
        out["run_exports"] = exports
    return out


def encode(data: Any) -> bytes:
    """py-rattler's (serde's) JSON: sorted keys, no spaces, UTF-8."""
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def empty(subdir: str) -> dict[str, Any]:
    return {"info": {"subdir": subdir}, "packages": {}, "packages.conda": {}, "repodata_version": 1, "v3": {}}


def _current(path: Path, subdir: str) -> dict[str, Any] | None:
    """The repodata there (an empty one when missing), or None when it is not one this module
    rewrites as py-rattler would (unreadable, other keys, removals, v3 records)."""
    try:
        data = json.loads(path.read_bytes())
    except FileNotFoundError:
        return empty(subdir)
    except (OSError, ValueError):
        return None
    if (type(data) is not dict or not set(data) <= _TOP_KEYS or data.get("info") != {"subdir": subdir}
            or data.get("repodata_version") != 1 or data.get("removed") or data.get("v3")
            or not all(type(data.get(k, {})) is dict for k in ("packages", "packages.conda"))):
        return None
    return data


def update(folder: Path, subdir: str, records: Mapping[str, Mapping[str, Any]]) -> bool:
    """List ``records`` (file name -> record) in ``folder``'s repodata.json and drop entries
    whose files are gone, as ``index_fs`` would; False (nothing written) when the folder
    holds a package file that is neither listed nor one of ``records``, or the repodata is
    not plainly py-rattler's."""
    path = folder / "repodata.json"
    data = _current(path, subdir)
    if data is None:
        return False
    try:
        present = {n for n in os.listdir(folder) if n.endswith(ARCHIVE_SUFFIXES)}
    except FileNotFoundError:
        present = set()
    old = {**data.get("packages", {}), **data.get("packages.conda", {})}
    if not present >= set(records) or not set(old) | set(records) >= present:
        return False
    now = int(time.time() * 1000)
    new = {n: r for n, r in old.items() if n in present and n not in records}
    new.update({n: {**r, "indexed_timestamp": now} for n, r in records.items()})
    out = {**empty(subdir),
           "packages": {n: r for n, r in new.items() if not n.endswith(".conda")},
           "packages.conda": {n: r for n, r in new.items() if n.endswith(".conda")}}
    if out != data or not path.exists():
        write_bytes_atomic(path, encode(out), mode=0o644)   # a channel is read by others (as py-rattler leaves it)
    return True
