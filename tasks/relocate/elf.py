"""ELF facts (machine, DT_NEEDED, search path, glibc floor) and $ORIGIN-relative relocation.

A package is built in a long host prefix and installed somewhere else, so an absolute
RPATH/RUNPATH into the host prefix would point nowhere after installation. Rewriting it
relative to ``$ORIGIN`` (the directory of the file itself) keeps it valid wherever the
package lands.

The facts come from ``elfread`` (plain ``struct``; importing lief costs half a second of CPU
per build), and ``elfedit`` makes the usual edits without lief: a shorter search path written
over the old string, a new one appended to the last loadable segment. What it cannot do (an
entry to remove or lengthen, a shared string, a segment with ``.bss``) goes to lief, imported
only then, which rebuilds the dynamic section and keeps the binary runnable.

Reproducible bytes: the edits without lief leave nothing of the old value. lief rebuilds ``.dynstr`` but leaves what followed the live strings
(the tail of the old search path) in place; those unreferenced bytes are zeroed. And the
GNU build-id, which the linker computed from the file it wrote, is recomputed from the
final content (``set_build_id``), as debugedit's ``--build-id`` does.
"""
from __future__ import annotations

import hashlib
import os
import posixpath
import re
import struct
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Sequence

from . import elfedit
from .elfread import DT_RPATH, DT_RUNPATH, ELF_MAGIC, ElfError, ElfFile
from .elfread import read as read_elf

if TYPE_CHECKING:  # lief is imported only by the edits that need it
    import lief
ORIGIN_TOKENS = ("$ORIGIN", "${ORIGIN}")
SEARCH_TAGS = ("RPATH", "RUNPATH")
_TAG_IDS = {"RPATH": DT_RPATH, "RUNPATH": DT_RUNPATH}
_GLIBC_VERSION = re.compile(r"^GLIBC_(\d+(?:\.\d+)+)$")

# conda subdir -> (machine name as lief spells it, ELF class) of the binaries a package for it may hold
TARGET_MACHINES: dict[str, tuple[str, int]] = {
    "linux-aarch64": ("AARCH64", 64),
    "linux-64": ("X86_64", 64),
    "linux-ppc64le": ("PPC64", 64),
    "linux-s390x": ("S390", 64),
    "linux-32": ("I386", 32),
    "linux-armv7l": ("ARM", 32),
}


def version_key(version: str) -> tuple[int, ...]:
    """'2.34' -> (2, 34), so versions compare numerically."""
    return tuple(int(p) for p in re.findall(r"\d+", version))


@dataclass(frozen=True)
class GlibcFloor:
    """The newest glibc symbol version a file needs, and one symbol that needs it."""

    version: str        # "2.34"
    symbol: str         # "__libc_start_main"
    # every imported symbol with a GLIBC_ version, newest first: ("getrandom", "2.25"), ...
    needs: tuple[tuple[str, str], ...] = field(default=(), compare=False)

    def above(self, limit: str) -> tuple[tuple[str, str], ...]:
        """The imported symbols whose glibc version is newer than ``limit``."""
        return tuple((s, v) for s, v in self.needs if version_key(v) > version_key(limit))

    @property
    def key(self) -> tuple[int, ...]:
        return version_key(self.version)


@dataclass(frozen=True)
class ElfInfo:
    machine: str                        # lief's name: AARCH64, X86_64, ...
    bits: int                           # 32 or 64
    file_type: str                      # DYN, EXEC, REL, CORE
    dynamic: bool = False               # has a dynamic section (so it can carry a search path)
    needed: tuple[str, ...] = ()
    rpath: tuple[str, ...] = ()
    runpath: tuple[str, ...] = ()
    soname: str | None = None
    glibc: GlibcFloor | None = None

    @property
    def search_path(self) -> tuple[str, ...]:
        """What the loader uses: DT_RPATH is ignored when DT_RUNPATH is present."""
        return self.runpath or self.rpath

    @property
    def linkable(self) -> bool:
        """Executables and shared objects with a dynamic section; objects (.o, .ko) are not."""
        return self.dynamic and self.file_type in ("DYN", "EXEC")


@dataclass(frozen=True)
class RpathChange:
    tag: str                            # RPATH or RUNPATH
    old: tuple[str, ...]
    new: tuple[str, ...]
    dropped: tuple[str, ...]            # entries outside the prefix, or relative to the cwd


def is_elf(path: Path) -> bool:
    """A regular file (not a symlink) that starts with the ELF magic."""
    if path.is_symlink() or not path.is_file():
        return False
    with open(path, "rb") as fh:
        return fh.read(4) == ELF_MAGIC


def parse(path: Path) -> ElfFile | None:
    """The parsed file (its facts checked readable), or None for a truncated or exotic one."""
    binary = read_elf(path)
    if binary is None:
        return None
    try:
        binary.info = _describe(binary)  # type: ignore[attr-defined]
    except (ElfError, UnicodeError):
        return None
    return binary


def describe(binary: ElfFile) -> ElfInfo:
    return binary.info  # type: ignore[attr-defined]


def _describe(binary: ElfFile) -> ElfInfo:
    soname = binary.first(14)  # DT_SONAME
    return ElfInfo(
        machine=binary.machine,
        bits=binary.bits,
        file_type=binary.type_name,
        dynamic=binary.has_dynamic,
        needed=tuple(binary.strings(1)),  # DT_NEEDED
        rpath=binary.paths(DT_RPATH),
        runpath=binary.paths(DT_RUNPATH),
        soname=binary.string(soname.value) if soname is not None else None,
        glibc=_glibc_floor(binary),
    )


def _glibc_floor(binary: ElfFile) -> GlibcFloor | None:
    best: str | None = None
    for _, versions in binary.version_needs():
        for _, name in versions:
            match = _GLIBC_VERSION.match(name)
            if match and (best is None or version_key(match.group(1)) > version_key(best)):
                best = match.group(1)
    if best is None:
        return None
    needs: dict[str, str] = {}
    for name, version in binary.imported_versions():
        match = _GLIBC_VERSION.match(version)
        if match:
            needs.setdefault(name, match.group(1))
    ordered = tuple(sorted(needs.items(), key=lambda item: (tuple(-k for k in version_key(item[1])), item[0])))
    symbol = next((name for name, version in ordered if version == best), "")
    return GlibcFloor(best, symbol, ordered)


def glibc_floor(path: Path) -> GlibcFloor | None:
    """Newest GLIBC_x.y version ``path`` requires (and a symbol needing it); None if none."""
    binary = parse(path)
    return describe(binary).glibc if binary is not None else None


def _under(path: str, prefix: str) -> bool:
    return path == prefix or path.startswith(prefix.rstrip("/") + "/")


def _origin_relative(target: str, origin_dir: str) -> str:
    rel = posixpath.relpath(target, origin_dir)
    return "$ORIGIN" if rel == "." else f"$ORIGIN/{rel}"


def relative_search_path(existing: Sequence[str], rel: str, prefix: str,
                         rpaths: Sequence[str]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(new entries, dropped entries) for a file at ``rel`` in ``prefix``, like conda-build.

    ``$ORIGIN`` entries stay; absolute entries inside the prefix become ``$ORIGIN``-relative;
    entries outside the prefix or relative to the working directory are dropped; then each
    ``build/rpaths`` entry (prefix-relative, default ``lib/``) is added if missing.
    """
    prefix = posixpath.normpath(prefix)
    origin_dir = posixpath.dirname(posixpath.join(prefix, rel))
    new: list[str] = []
    dropped: list[str] = []
    for entry in existing:
        if entry.startswith(ORIGIN_TOKENS):
            new.append(entry)
        elif entry.startswith("/") and _under(posixpath.normpath(entry), prefix):
            new.append(_origin_relative(posixpath.normpath(entry), origin_dir))
        else:
            dropped.append(entry)
    for wanted in rpaths:
        if not wanted:
            continue
        if wanted.startswith("/"):  # an absolute rpath the recipe asks for is kept as written
            new.append(wanted)
        else:
            new.append(_origin_relative(posixpath.normpath(posixpath.join(prefix, wanted)), origin_dir))
    return tuple(dict.fromkeys(new)), tuple(dropped)


def search_dirs(entries: Sequence[str], rel: str, prefix: str) -> tuple[str, ...]:
    """Prefix-relative directories a search path names for a file at ``rel`` (others omitted)."""
    origin = posixpath.dirname(rel)
    prefix = posixpath.normpath(prefix)
    out: list[str] = []
    for entry in entries:
        token = next((t for t in ORIGIN_TOKENS if entry.startswith(t)), None)
        if token is not None:
            target = posixpath.normpath(posixpath.join(origin, entry[len(token):].lstrip("/")))
        elif entry.startswith("/") and _under(posixpath.normpath(entry), prefix):
            target = posixpath.relpath(posixpath.normpath(entry), prefix)
        else:
            continue
        if target != ".." and not target.startswith("../"):
            out.append(target)
    return tuple(dict.fromkeys(out))


def relocate(binary: ElfFile, path: Path, rel: str, prefix: str,
             rpaths: Sequence[str]) -> tuple[RpathChange, ...]:
    """Rewrite the search path(s) of ``path`` in place; returns what changed (may be nothing).

    An existing DT_RUNPATH or DT_RPATH keeps its kind (the toolchain chose it); a file with
    neither gets a DT_RPATH, as conda-build's ``patchelf --force-rpath`` gives.
    """
    present = [t for t in SEARCH_TAGS if binary.first(_TAG_IDS[t]) is not None] or ["RPATH"]
    changes: list[RpathChange] = []
    for tag in present:
        old = binary.paths(_TAG_IDS[tag])
        new, dropped = relative_search_path(old, rel, prefix, rpaths)
        if new != old:
            changes.append(RpathChange(tag, old, new, dropped))
    if changes:
        expected = {c.tag: c.new for c in changes}
        data = _edited(binary, changes)
        if data is not None:
            _replace_checked(path, describe(binary), expected, lambda tmp: tmp.write_bytes(data), "")
        else:
            _relocate_with_lief(path, describe(binary), changes)
    return tuple(changes)


def _edited(binary: ElfFile, changes: Sequence[RpathChange]) -> bytes | None:
    """The new bytes when ``elfedit`` can make the change without lief, else None."""
    values = {_TAG_IDS[c.tag]: ":".join(c.new).encode("utf-8", "surrogateescape") for c in changes}
    try:
        if all(binary.first(tag) is not None for tag in values):
            return elfedit.overwritten(binary, values)
        if len(changes) == 1 and not changes[0].old and changes[0].new:
            return elfedit.appended(binary, *values.popitem())
    except (ElfError, struct.error):
        pass
    return None


class RelocationError(RuntimeError):
    """A file could not be written with the wanted search path (the file is left unchanged)."""


def _replace_checked(path: Path, before: ElfInfo, expected: dict[str, tuple[str, ...]],
                     write: Callable[[Path], object], tool: str) -> None:
    """Write the new file next to ``path`` (``write(tmp)``), check it has the expected search
    path(s) and the same DT_NEEDED and SONAME, and rename it over ``path`` (same mode)."""
    mode = path.stat().st_mode & 0o7777
    fd, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".elf")
    os.close(fd)
    tmp = Path(name)
    try:
        write(tmp)
        written = parse(tmp)
        info = describe(written) if written is not None else None
        if info is None or any(getattr(info, t.lower()) != v for t, v in expected.items()) \
                or info.needed != before.needed or info.soname != before.soname:
            raise RelocationError(f"{tool or 'the in-place edit'} wrote an unreadable or unchanged {path.name}")
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()


def _relocate_with_lief(path: Path, before: ElfInfo, changes: Sequence[RpathChange]) -> None:
    """The edits that move things (an entry added or removed, a longer string): lief rebuilds
    the file; then what is left of the old search path is blanked."""
    import lief
    lief.logging.disable()
    binary = lief.ELF.parse(str(path))
    if binary is None:
        raise RelocationError(f"lief cannot read {path.name}")
    tags = lief.ELF.DynamicEntry.TAG
    for change in changes:
        entry = binary.get(tags[change.tag])
        if entry is None:
            binary.add(lief.ELF.DynamicEntryRpath(list(change.new)))
        elif not change.new:
            binary.remove(entry)
        else:
            entry.paths = list(change.new)
    old_values = [":".join(c.old) for c in changes if c.old]

    def write(tmp: Path) -> None:
        binary.write(str(tmp))
        written = lief.ELF.parse(str(tmp))
        if written is not None and old_values:
            try:
                blank_stale_strings(tmp, written, old_values)
            except MemoryError:     # lief's std::bad_alloc reading what it wrote: the stale bytes stay
                pass                # (the file is still checked below, fact by fact, by condoit's reader)

    _replace_checked(path, before, {c.tag: c.new for c in changes}, write, "lief")


def _live_strings(binary: lief.ELF.Binary) -> set[bytes]:
    """Every string the file's dynamic string table must keep (names, paths, versions)."""
    live: set[bytes] = set()
    for entry in binary.dynamic_entries:
        for attr in ("name", "paths"):
            value = getattr(entry, attr, None)
            if isinstance(value, str):
                live.add(value.encode())
            elif isinstance(value, list):
                live.add(":".join(value).encode())
    live.update(s.name.encode() for s in binary.dynamic_symbols)
    for requirement in binary.symbols_version_requirement:
        live.add(requirement.name.encode())
        live.update(a.name.encode() for a in requirement.get_auxiliary_symbols())
    for definition in binary.symbols_version_definition:
        live.update(a.name.encode() for a in definition.auxiliary_symbols)
    live.discard(b"")
    return live


# Dynamic tags whose string values lief does not expose by name.
_UNNAMED_STRING_TAGS = ("AUXILIARY", "FILTER", "CONFIG", "DEPAUDIT", "AUDIT")


def blank_stale_strings(path: Path, binary: lief.ELF.Binary, old_values: Sequence[str]) -> bool:
    """Zero the pieces of the old search path(s) lief left in the dynamic string table.

    A NUL-delimited piece is zeroed only when it is part of an old search path value and
    no string the file references ends with it (string tables share suffixes). Returns
    whether the file changed.
    """
    import lief
    tags = lief.ELF.DynamicEntry.TAG
    strtab, strsz = binary.get(tags.STRTAB), binary.get(tags.STRSZ)
    if strtab is None or strsz is None:
        return False
    try:
        start = binary.virtual_address_to_offset(strtab.value)
    except Exception:  # lief raises when the address is in no segment
        return False
    if any(binary.get(getattr(tags, t)) is not None for t in _UNNAMED_STRING_TAGS if hasattr(tags, t)):
        return False  # strings lief does not name: cannot tell what is live
    olds = [v.encode() for v in old_values if v]
    live = _live_strings(binary)
    with open(path, "r+b") as fh:
        fh.seek(start)
        table = bytearray(fh.read(strsz.value))
        changed = False
        pos = 0
        while pos < len(table):
            end = table.find(b"\0", pos)
            end = len(table) if end == -1 else end
            piece = bytes(table[pos:end])
            if piece and any(piece in old for old in olds) \
                    and not any(piece.endswith(s) for s in live):
                table[pos:end] = bytes(end - pos)
                changed = True
            pos = end + 1
        if changed:
            fh.seek(start)
            fh.write(table)
    return changed


# -- GNU build-id ------------------------------------------------------------------------
_NT_GNU_BUILD_ID = 3
_SHT_NOTE = 7
_PT_NOTE = 4


def _build_id_spans(data: bytes) -> list[tuple[int, int]]:
    """(offset, size) of each GNU build-id descriptor in the notes of an ELF file's bytes."""
    if data[:4] != ELF_MAGIC or data[4] not in (1, 2) or data[5] not in (1, 2):
        return []
    e = "<" if data[5] == 1 else ">"
    if data[4] == 2:  # ELF64
        phoff, shoff = struct.unpack_from(e + "QQ", data, 0x20)
        phentsize, phnum, shentsize, shnum = struct.unpack_from(e + "HHHH", data, 0x36)
        ph = lambda o: struct.unpack_from(e + "IIQQQQQQ", data, o)  # noqa: E731
        sh = lambda o: struct.unpack_from(e + "IIQQQQIIQQ", data, o)  # noqa: E731
        ph_fields, sh_fields = (0, 2, 5, 7), (1, 4, 5, 8)
    else:  # ELF32
        phoff, shoff = struct.unpack_from(e + "II", data, 0x1C)
        phentsize, phnum, shentsize, shnum = struct.unpack_from(e + "HHHH", data, 0x2A)
        ph = lambda o: struct.unpack_from(e + "IIIIIIII", data, o)  # noqa: E731
        sh = lambda o: struct.unpack_from(e + "IIIIIIIIII", data, o)  # noqa: E731
        ph_fields, sh_fields = (0, 1, 4, 7), (1, 4, 5, 8)
    areas: set[tuple[int, int, int]] = set()  # (offset, size, alignment) of note areas
    tables = ((phoff, phnum, phentsize, ph, ph_fields, _PT_NOTE),
              (shoff, shnum, shentsize, sh, sh_fields, _SHT_NOTE))
    for table, count, size, read, (t, off, sz, al), kind in tables:
        if not table or not size:
            continue
        for i in range(count):
            start = table + i * size
            if start + size > len(data):
                break
            row = read(start)
            if row[t] == kind:
                areas.add((row[off], row[sz], 8 if row[al] == 8 else 4))
    spans: set[tuple[int, int]] = set()
    for offset, size, align in areas:
        pos, end = offset, min(offset + size, len(data))
        while pos + 12 <= end:
            namesz, descsz, ntype = struct.unpack_from(e + "III", data, pos)
            name_at = pos + 12
            desc_at = name_at + (namesz + align - 1) // align * align
            if desc_at + descsz > end:
                break
            if ntype == _NT_GNU_BUILD_ID and data[name_at:name_at + namesz] == b"GNU\0" and descsz:
                spans.add((desc_at, descsz))
            pos = desc_at + (descsz + align - 1) // align * align
    return sorted(spans)


def set_build_id(path: Path) -> bool:
    """Recompute the GNU build-id of ``path`` from its content; returns whether it changed.

    The id becomes the SHA-1 (SHA-256 for descriptors longer than 20 bytes) of the file
    with the descriptor zeroed, cut to the descriptor's length: the same bytes give the
    same id, whatever paths the linker saw.
    """
    with open(path, "rb") as fh:
        data = bytearray(fh.read())
    spans = _build_id_spans(bytes(data))
    if not spans or any(size > 32 for _, size in spans):
        return False
    old = [bytes(data[o:o + n]) for o, n in spans]
    for offset, size in spans:
        data[offset:offset + size] = bytes(size)
    longest = max(size for _, size in spans)
    digest = (hashlib.sha1 if longest <= 20 else hashlib.sha256)(data).digest()
    if old == [digest[:n] for _, n in spans]:
        return False
    mode = path.stat().st_mode & 0o7777
    path.chmod(mode | 0o200)  # a read-only file is still ours to finish
    try:
        with open(path, "r+b") as fh:
            for offset, size in spans:
                fh.seek(offset)
                fh.write(digest[:size])
    finally:
        path.chmod(mode)
    return True
