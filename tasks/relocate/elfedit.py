"""Search-path edits of an ELF file's bytes that need no ELF library (see ``elfread``).

Two cases cover the packages of a stack, so lief (half a second of CPU to import) is
needed only for the rest:

- ``overwritten``: the new value is no longer than the old string in ``.dynstr``: it is
  written over it, NUL-padded; nothing moves (the usual case: an absolute path into the
  long host prefix becomes a short ``$ORIGIN/...``).
- ``appended``: a file with no search path gets one (conda-build's ``--force-rpath`` for a
  library linked without ``-rpath``). The dynamic section has no free slot and the string
  table no room, so copies of both, the one new entry and string added, are appended to
  the last loadable segment, when that segment ends the loaded part of the file. Its
  zero-filled tail (``.bss``, up to ``MAX_BSS``) is written out as the zeros the loader would
  have supplied, so the copies follow it in the file as in memory. PT_DYNAMIC,
  DT_STRTAB/DT_STRSZ and the two section headers then point at the copies, and the
  sections that follow (not loaded: ``.comment``, symbols, the section header table) move
  down. Every other address stays as the linker left it.

Both return the new bytes, or None when their case does not apply.
"""
from __future__ import annotations

import struct
from typing import Mapping

from .elfread import DT_NULL, DT_STRSZ, DT_STRTAB, PT_DYNAMIC, PT_LOAD, SHT_DYNAMIC, STRING_TAGS, ElfError, ElfFile

SHF_ALLOC = 0x2
SHT_NOBITS = 8
_PHDR = {64: ("IIQQQQQQ", ("type", "flags", "offset", "vaddr", "paddr", "filesz", "memsz", "align")),
         32: ("IIIIIIII", ("type", "offset", "vaddr", "paddr", "filesz", "memsz", "flags", "align"))}
MAX_BSS = 1 << 20   # a larger zero-filled tail is left to lief rather than written out
_SHDR = {64: "IIQQQQIIQQ", 32: "IIIIIIIIII"}
_SH_FIELDS = ("name", "type", "flags", "addr", "offset", "size", "link", "info", "addralign", "entsize")


def overwritten(binary: ElfFile, values: Mapping[int, bytes]) -> bytes | None:
    """The file with the string of each dynamic entry ``values`` names (by tag; the first
    entry of that tag) replaced in place, or None: no such entry, a longer value, or a
    string another reference shares (string tables share suffixes)."""
    if binary.strtab is None:
        return None
    start, size = binary.strtab
    edits: dict[int, tuple[int, bytes]] = {}   # string offset -> (old length, new bytes)
    edited: set[int] = set()                   # indices of the dynamic entries rewritten
    for tag, new in values.items():
        entry = binary.first(tag)
        if entry is None or not new:
            return None
        old = binary.string(entry.value).encode("utf-8", "surrogateescape")
        if len(new) > len(old) or entry.value + len(old) > size or edits.get(entry.value, (0, new))[1] != new:
            return None
        edits[entry.value] = (len(old), new)
        edited.add(entry.index)
    try:
        others = binary.table_string_offsets() | {d.value for d in binary.dynamic
                                                  if d.tag in STRING_TAGS and d.index not in edited}
    except ElfError:
        return None
    data = bytearray(binary.data)
    for offset, (length, new) in edits.items():
        # another string that starts in this one or runs into it ends at the same NUL
        end = start + offset + length
        if any(ref < offset + length and binary.data.find(b"\0", start + ref, end + 1) == end for ref in others):
            return None
        data[start + offset:end] = new.ljust(length, b"\0")
    return bytes(data)


def appended(binary: ElfFile, tag: int, value: bytes) -> bytes | None:
    """The file with a new dynamic entry ``tag`` naming the string ``value``, or None when
    the last loadable segment cannot take the copied tables (see the module docstring)."""
    e, bits, data = binary.endian, binary.bits, binary.data
    if binary.strtab is None or not binary.dynamic or binary.dynamic[-1].tag != DT_NULL or not value:
        return None
    phdrs = _rows(binary, binary.phoff, binary.phentsize, len(binary.segments), *_PHDR[bits])
    shdrs = _rows(binary, binary.shoff, binary.shentsize, len(binary.sections), _SHDR[bits], _SH_FIELDS)
    loads = [p for p in phdrs if p["type"] == PT_LOAD]
    if not loads:
        return None
    last = max(loads, key=lambda p: p["vaddr"])
    end = last["offset"] + last["filesz"]
    zeros = last["memsz"] - last["filesz"]          # .bss, written out as the zeros it holds
    if not 0 <= zeros <= MAX_BSS or any(p["offset"] + p["filesz"] > end for p in phdrs if p["filesz"]) \
            or any(s["flags"] & SHF_ALLOC and s["type"] != SHT_NOBITS and s["offset"] >= end and s["size"]
                   for s in shdrs) or binary.phoff >= end:
        return None
    word = 8 if bits == 64 else 4
    pad = -(last["vaddr"] + last["memsz"]) % word
    dyn_at, dyn_addr = end + zeros + pad, last["vaddr"] + last["memsz"] + pad
    strtab_at, strsz = binary.strtab
    table = data[strtab_at:strtab_at + strsz] + value + b"\0"
    rows = [(d.tag, d.value) for d in binary.dynamic[:-1]] + [(tag, strsz), (DT_NULL, 0)]
    dyn_size = len(rows) * 2 * word
    str_at, str_addr = dyn_at + dyn_size, dyn_addr + dyn_size
    fixed = {DT_STRTAB: str_addr, DT_STRSZ: len(table)}
    dynamic = b"".join(struct.pack(e + ("QQ" if bits == 64 else "II"), t, fixed.get(t, v)) for t, v in rows)
    blob = bytes(zeros + pad) + dynamic + table
    align = max([16, *(s["addralign"] for s in shdrs if s["offset"] >= end)])
    inserted = blob + bytes(-len(blob) % align)
    shift = len(inserted)

    last["filesz"] += len(blob)
    last["memsz"] = last["filesz"]
    for p in phdrs:
        if p["type"] == PT_DYNAMIC:
            p.update(offset=dyn_at, vaddr=dyn_addr, paddr=dyn_addr, filesz=dyn_size, memsz=dyn_size)
    for s in shdrs:
        if s["type"] == SHT_DYNAMIC:
            s.update(addr=dyn_addr, offset=dyn_at, size=dyn_size)
        elif s["offset"] == strtab_at and s["flags"] & SHF_ALLOC and s["size"] == strsz:
            s.update(addr=str_addr, offset=str_at, size=len(table))
        elif s["offset"] >= end and s["type"] != SHT_NOBITS:
            s["offset"] += shift
    out = bytearray(data[:end] + inserted + data[end:])
    _write_rows(out, binary, binary.phoff, binary.phentsize, phdrs, *_PHDR[bits])
    shoff = binary.shoff + shift if binary.shoff >= end else binary.shoff
    if binary.shoff:
        struct.pack_into(e + ("Q" if bits == 64 else "I"), out, 0x28 if bits == 64 else 0x20, shoff)
    _write_rows(out, binary, shoff, binary.shentsize, shdrs, _SHDR[bits], _SH_FIELDS)
    return bytes(out)


def _rows(binary: ElfFile, table: int, size: int, count: int, fmt: str,
          names: tuple[str, ...]) -> list[dict[str, int]]:
    return [dict(zip(names, struct.unpack_from(binary.endian + fmt, binary.data, table + i * size)))
            for i in range(count)]


def _write_rows(out: bytearray, binary: ElfFile, table: int, size: int, rows: list[dict[str, int]],
                fmt: str, names: tuple[str, ...]) -> None:
    for i, row in enumerate(rows):
        struct.pack_into(binary.endian + fmt, out, table + i * size, *(row[n] for n in names))
