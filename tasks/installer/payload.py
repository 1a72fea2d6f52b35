"""A staged prefix -> the installer's payload: one xz stream of records condoit-unpack reads.

Each record is ``KIND MODE SIZE REPL PATH\\n`` then SIZE bytes (recipes/condoit-unpack/src/
unpack.c says what they mean). Files holding the placeholder are marked for replacement:
``b`` (binary, NUL padding) when they hold a NUL byte, else ``t``. What the installer
itself reads (records, post-link order, the modules to compile, history) goes under
``.condoit-install/``, after the files: conda-meta is moved into place last, by the shell.
"""
from __future__ import annotations

import json
import os
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO, Iterator, Sequence

from ..model import spec_name
from .solve import Solved

STATE_DIR = ".condoit-install"          # the shell's $STATE, relative to the prefix
# What conda-meta records say about where packages came from: the local channel has no
# public address, and a path of this machine must not be in the installer.
CHANNEL_URL = "file:///opt/condoit/channel"
HOST_FIELDS = ("package_tarball_full_path", "extracted_package_dir", "link")
# conda-meta goes last, by the shell; py-rattler marks the staging prefix with a CACHEDIR.TAG
NOT_PAYLOAD = frozenset({"conda-meta", "CACHEDIR.TAG"})


@dataclass(frozen=True)
class PayloadStats:
    entries: int
    text_replaced: int
    binary_replaced: int
    unpacked_bytes: int
    compressed_bytes: int


def _record(out: Any, kind: str, mode: int, data: bytes, repl: str, path: str) -> None:
    if "\n" in path:
        raise ValueError(f"a path with a newline cannot be in the payload: {path!r}")
    out.write(f"{kind} {mode:o} {len(data)} {repl} {path}\n".encode() + data)


def _walk(root: Path) -> Iterator[tuple[str, os.stat_result]]:
    """(relative path, lstat) of every entry under ``root``, parents first, sorted."""
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames.sort()
        base = Path(dirpath)
        for name in sorted([*dirnames, *filenames]):
            path = base / name
            yield str(path.relative_to(root)), path.lstat()


def clean_record(record: dict[str, Any], subdir: str) -> dict[str, Any]:
    """A conda-meta record without paths of this machine."""
    record = {k: v for k, v in record.items() if k not in HOST_FIELDS}
    record["channel"] = CHANNEL_URL
    record["url"] = f"{CHANNEL_URL}/{subdir}/{record['fn']}" if "fn" in record else record.get("url", "")
    for entry in record.get("paths_data", {}).get("paths", []):
        if "prefix_placeholder" in entry:       # its hash in the staging prefix, not in the user's
            entry.pop("sha256_in_prefix", None)
    return record


def replacement_modes(record: dict[str, Any]) -> dict[str, str]:
    """path -> 't' or 'b': how info/paths.json says the package's placeholder is replaced."""
    return {e["_path"]: "b" if e.get("file_mode") == "binary" else "t"
            for e in record.get("paths_data", {}).get("paths", []) if "prefix_placeholder" in e}


def pyc_path(py: str, cache_tag: str) -> str:
    """Where python puts the compiled module of ``py`` (PEP 3147)."""
    head, _, name = py.rpartition("/")
    return f"{head}/__pycache__/{name[:-3]}.{cache_tag}.pyc" if head else f"__pycache__/{name[:-3]}.{cache_tag}.pyc"


def state_files(staged: Path, packages: Sequence[Solved], placeholder: str, title: str,
                specs: Sequence[str]) -> tuple[dict[str, bytes], list[str], dict[str, str]]:
    """The installer's own files (relative to the prefix), the modules to compile and the
    replacement mode of each file paths.json names, with the conda-meta records rewritten:
    no host paths, and the .pyc files conda would list."""
    python = next((p for p in packages if p.name == "python"), None)
    cache_tag = "cpython-" + "".join(python.version.split(".")[:2]) if python else ""
    files: dict[str, bytes] = {}
    compile_list: list[str] = []
    modes: dict[str, str] = {}
    for path in sorted((staged / "conda-meta").glob("*.json")):
        record = json.loads(path.read_text())
        modes.update(replacement_modes(record))
        record = clean_record(record, record.get("subdir", ""))
        asked = [s for s in specs if spec_name(s) == record.get("name")]
        if asked:                   # what conda's `--from-history` and `conda list` read
            record["requested_spec"], record["requested_specs"] = asked[0], asked
        if record.get("noarch") == "python" and cache_tag:
            pys = [f for f in record.get("files", []) if f.endswith(".py") and "site-packages/" in f]
            compile_list += pys
            pycs = [pyc_path(f, cache_tag) for f in pys]
            record["files"] = sorted({*record.get("files", []), *pycs})
            record.setdefault("paths_data", {"paths_version": 1, "paths": []})["paths"] += [
                {"_path": p, "path_type": "pyc_file"} for p in pycs]
        files[f"{STATE_DIR}/conda-meta/{path.name}"] = (json.dumps(record, indent=2, sort_keys=True) + "\n").encode()
    files[f"{STATE_DIR}/post-link"] = "".join(
        f"{p.name} {p.version} {p.build_number}\n" for p in packages
        if (staged / "bin" / f".{p.name}-post-link.sh").is_file()).encode()
    files[f"{STATE_DIR}/pyc-files"] = "".join(f"{placeholder}/{f}\n" for f in compile_list).encode()
    files[f"{STATE_DIR}/history"] = (
        f"# cmd: {title}\n" + "".join(f"+{CHANNEL_URL}::{p.dist}\n" for p in packages)
        + f"# update specs: {json.dumps(list(specs))}\n").encode()
    return files, compile_list, modes


def write_payload(staged: Path, placeholder: str, state: dict[str, bytes], modes: dict[str, str],
                  out: BinaryIO, preset: int | None = None) -> PayloadStats:
    """Write the staged prefix (without conda-meta) and then ``state`` as one xz stream.

    A file holding the placeholder is replaced as paths.json says (``modes``); a file py-rattler
    wrote (entry points) as its content says: binary when it holds a NUL byte."""
    import lzma                     # loaded by the run that packs, not by `doit list`
    if preset is None:
        preset = 9 | lzma.PRESET_EXTREME
    needle = placeholder.encode()
    compressor = lzma.LZMACompressor(format=lzma.FORMAT_XZ, check=lzma.CHECK_CRC64, preset=preset)
    written = compressed = 0
    counts = {"t": 0, "b": 0}
    entries = 0

    class Sink:
        def write(self, data: bytes) -> None:
            nonlocal written, compressed
            written += len(data)
            chunk = compressor.compress(data)
            compressed += len(chunk)
            out.write(chunk)

    sink = Sink()
    for rel, st in _walk(staged):
        if rel in NOT_PAYLOAD or rel.startswith("conda-meta/"):
            continue
        path = staged / rel
        mode = stat.S_IMODE(st.st_mode)
        if stat.S_ISDIR(st.st_mode):
            _record(sink, "d", mode, b"", "-", rel)
        elif stat.S_ISLNK(st.st_mode):
            target = os.readlink(path).encode()
            _record(sink, "l", 0o777, target, "t" if needle in target else "-", rel)
        elif stat.S_ISREG(st.st_mode):
            data = path.read_bytes()
            repl = modes.get(rel) or ("b" if b"\0" in data else "t") if needle in data else "-"
            counts[repl] = counts.get(repl, 0) + 1
            _record(sink, "f", mode, data, repl, rel)
        else:
            raise ValueError(f"{path}: not a file, directory or symlink")
        entries += 1
    for rel, data in state.items():
        _record(sink, "f", 0o644, data, "t" if needle in data else "-", rel)
        entries += 1
    _record(sink, "e", 0, b"", "-", "")
    tail = compressor.flush()
    out.write(tail)
    compressed += len(tail)
    return PayloadStats(entries, counts["t"], counts["b"], written, compressed)
