"""A small ELF reader (32/64-bit, either byte order) for what relocation and its checks need.

Importing lief costs about half a second of CPU, more than the rest of a package stage's
Python; every package pays it once per build. The facts ``elf.describe`` reports (machine,
type, DT_NEEDED, SONAME, RPATH/RUNPATH, the GLIBC_ versions a file needs and the imported
symbols that need them) and an in-place search-path edit need only the ELF header, the
program and section headers, the dynamic section, ``.dynstr``, ``.dynsym`` and the GNU
version tables, which ``struct`` reads directly. lief remains for edits that move things.
"""
from __future__ import annotations

import struct
from dataclasses import dataclass
from pathlib import Path

ELF_MAGIC = b"\x7fELF"

# e_machine -> lief's name for it (the names ``ElfInfo.machine`` and TARGET_MACHINES use)
MACHINES = {0: "NONE", 2: "SPARC", 3: "I386", 8: "MIPS", 20: "PPC", 21: "PPC64", 22: "S390",
            40: "ARM", 42: "SH", 43: "SPARCV9", 50: "IA_64", 62: "X86_64", 183: "AARCH64",
            243: "RISCV", 247: "BPF", 258: "LOONGARCH"}
FILE_TYPES = {0: "NONE", 1: "REL", 2: "EXEC", 3: "DYN", 4: "CORE"}

PT_LOAD, PT_DYNAMIC, PT_INTERP = 1, 2, 3
SHT_DYNAMIC, SHT_DYNSYM = 6, 11
DT_NULL, DT_NEEDED, DT_HASH, DT_STRTAB, DT_STRSZ, DT_SONAME, DT_RPATH, DT_RUNPATH = 0, 1, 4, 5, 10, 14, 15, 29
DT_SYMTAB, DT_SYMENT = 6, 11
DT_GNU_HASH, DT_VERSYM, DT_VERDEF, DT_VERDEFNUM, DT_VERNEED, DT_VERNEEDNUM = \
    0x6FFFFEF5, 0x6FFFFFF0, 0x6FFFFFFC, 0x6FFFFFFD, 0x6FFFFFFE, 0x6FFFFFFF
# tags whose value is an offset into the dynamic string table
STRING_TAGS = frozenset({DT_NEEDED, DT_SONAME, DT_RPATH, DT_RUNPATH,
                         0x7FFFFFFD, 0x7FFFFFFF, 0x6FFFFEFA, 0x6FFFFEFB, 0x6FFFFEFC})  # AUXILIARY FILTER CONFIG DEPAUDIT AUDIT
SEARCH_TAG_NAMES = {DT_RPATH: "RPATH", DT_RUNPATH: "RUNPATH"}
SHN_UNDEF = 0
STB_GLOBAL, STB_WEAK = 1, 2
STT_OBJECT, STT_FUNC, STT_GNU_IFUNC = 1, 2, 10


Record = tuple[tuple[int, ...], list[tuple[int, ...]]]   # a version record and its auxiliary entries


class ElfError(ValueError):
    """Not an ELF file this reader understands (truncated, inconsistent)."""


@dataclass(frozen=True)
class DynamicEntry:
    index: int          # position in the dynamic array
    offset: int         # file offset of the entry
    tag: int
    value: int


@dataclass(frozen=True)
class Segment:
    type: int
    offset: int
    vaddr: int
    filesz: int
    memsz: int


class ElfFile:
    """The parsed headers and dynamic tables of one ELF file (its bytes are kept)."""

    def __init__(self, data: bytes) -> None:
        if data[:4] != ELF_MAGIC or len(data) < 52 or data[4] not in (1, 2) or data[5] not in (1, 2):
            raise ElfError("not an ELF file")
        self.data = data
        self.bits = 64 if data[4] == 2 else 32
        self.endian = "<" if data[5] == 1 else ">"
        self.word = "Q" if self.bits == 64 else "I"
        e = self.endian
        if self.bits == 64:
            self.file_type, self.machine_id = struct.unpack_from(e + "HH", data, 16)
            phoff, shoff = struct.unpack_from(e + "QQ", data, 0x20)
            phentsize, phnum, shentsize, shnum = struct.unpack_from(e + "HHHH", data, 0x36)
        else:
            self.file_type, self.machine_id = struct.unpack_from(e + "HH", data, 16)
            phoff, shoff = struct.unpack_from(e + "II", data, 0x1C)
            phentsize, phnum, shentsize, shnum = struct.unpack_from(e + "HHHH", data, 0x2A)
        self.phoff, self.phentsize, self.shoff, self.shentsize = phoff, phentsize, shoff, shentsize
        self.segments = [self._segment(phoff + i * phentsize) for i in range(phnum if phentsize else 0)]
        # sections: (type, addr, offset, size, link, entsize)
        self.sections = [self._section(shoff + i * shentsize)
                         for i in range(shnum if shoff and shentsize else 0)]
        self.dynamic_offset, self.dynamic = self._dynamic()
        self.strtab = self._strtab()

    # -- headers -------------------------------------------------------------------------
    def _unpack(self, fmt: str, offset: int) -> tuple[int, ...]:
        try:
            return struct.unpack_from(self.endian + fmt, self.data, offset)
        except struct.error as exc:
            raise ElfError(f"truncated at {offset:#x}") from exc

    def _segment(self, at: int) -> Segment:
        if self.bits == 64:
            ptype, _, offset, vaddr, _, filesz, memsz, _ = self._unpack("IIQQQQQQ", at)
        else:
            ptype, offset, vaddr, _, filesz, memsz, _, _ = self._unpack("IIIIIIII", at)
        return Segment(ptype, offset, vaddr, filesz, memsz)

    def _section(self, at: int) -> tuple[int, int, int, int, int, int]:
        if self.bits == 64:
            _, stype, _, addr, offset, size, link, _, _, entsize = self._unpack("IIQQQQIIQQ", at)
        else:
            _, stype, _, addr, offset, size, link, _, _, entsize = self._unpack("IIIIIIIIII", at)
        return stype, addr, offset, size, link, entsize

    def offset_of(self, vaddr: int) -> int:
        """File offset of a virtual address inside a PT_LOAD segment's file image."""
        for seg in self.segments:
            if seg.type == PT_LOAD and seg.vaddr <= vaddr < seg.vaddr + seg.filesz:
                return vaddr - seg.vaddr + seg.offset
        raise ElfError(f"address {vaddr:#x} is in no loaded segment")

    # -- dynamic section -----------------------------------------------------------------
    def _dynamic(self) -> tuple[int, list[DynamicEntry]]:
        where = next(((s.offset, s.filesz) for s in self.segments if s.type == PT_DYNAMIC), None)
        if where is None:
            where = next(((s[2], s[3]) for s in self.sections if s[0] == SHT_DYNAMIC), None)
        if where is None:
            return -1, []
        start, size = where
        step = 16 if self.bits == 64 else 8
        entries: list[DynamicEntry] = []
        for i in range(size // step):
            tag, value = self._unpack(self.word * 2, start + i * step)
            entries.append(DynamicEntry(i, start + i * step, tag, value))
            if tag == DT_NULL:
                break
        return start, entries

    def first(self, tag: int) -> DynamicEntry | None:
        return next((d for d in self.dynamic if d.tag == tag), None)

    def _strtab(self) -> tuple[int, int] | None:
        """(file offset, size) of the dynamic string table."""
        strtab, strsz = self.first(DT_STRTAB), self.first(DT_STRSZ)
        if strtab is not None:
            start = self.offset_of(strtab.value)
            return start, strsz.value if strsz is not None else len(self.data) - start
        dyn = next((s for s in self.sections if s[0] == SHT_DYNAMIC), None)
        if dyn is not None and 0 < dyn[4] < len(self.sections):
            linked = self.sections[dyn[4]]
            return linked[2], linked[3]
        return None

    def string(self, offset: int) -> str:
        if self.strtab is None:
            raise ElfError("no dynamic string table")
        start = self.strtab[0] + offset
        end = self.data.find(b"\0", start)
        if end == -1 or offset < 0:
            raise ElfError(f"string at {offset:#x} runs off the file")
        return self.data[start:end].decode("utf-8", "surrogateescape")

    def strings(self, tag: int) -> list[str]:
        return [self.string(d.value) for d in self.dynamic if d.tag == tag]

    # -- facts ---------------------------------------------------------------------------
    @property
    def machine(self) -> str:
        return MACHINES.get(self.machine_id, f"EM_{self.machine_id}")

    @property
    def type_name(self) -> str:
        return FILE_TYPES.get(self.file_type, f"ET_{self.file_type}")

    @property
    def has_dynamic(self) -> bool:
        return bool(self.dynamic)

    def interpreter(self) -> str | None:
        seg = next((s for s in self.segments if s.type == PT_INTERP), None)
        if seg is None:
            return None
        return self.data[seg.offset:seg.offset + seg.filesz].split(b"\0")[0].decode("utf-8", "surrogateescape")

    def paths(self, tag: int) -> tuple[str, ...]:
        """Entries of the first RPATH or RUNPATH (empty pieces left out)."""
        entry = self.first(tag)
        return tuple(p for p in self.string(entry.value).split(":") if p) if entry is not None else ()

    # -- GNU symbol versions -------------------------------------------------------------
    def _chain(self, count_tag: int, start_tag: int, fmt: str, aux_fmt: str) -> list[Record]:
        """The records of a GNU version table (verneed or verdef) and their auxiliary entries;
        verneed is (version, cnt, file, aux, next), verdef (version, flags, ndx, cnt, hash,
        aux, next); an auxiliary entry ends with its next offset."""
        start, count = self.first(start_tag), self.first(count_tag)
        if start is None or count is None:
            return []
        out = []
        at = self.offset_of(start.value)
        for _ in range(count.value):
            record = self._unpack(fmt, at)
            cnt, aux, nxt = record[-4] if fmt == "HHHHIII" else record[1], record[-2], record[-1]
            auxes, a = [], at + aux
            for _ in range(cnt):
                entry = self._unpack(aux_fmt, a)
                auxes.append(entry)
                if not entry[-1]:
                    break
                a += entry[-1]
            out.append((record, auxes))
            if not nxt:
                break
            at += nxt
        return out

    def _verneed(self) -> list[Record]:
        # Elf_Verneed (version, cnt, file, aux, next); Elf_Vernaux (hash, flags, other, name, next)
        return self._chain(DT_VERNEEDNUM, DT_VERNEED, "HHIII", "IHHII")

    def _verdef(self) -> list[Record]:
        # Elf_Verdef (version, flags, ndx, cnt, hash, aux, next); Elf_Verdaux (name, next)
        return self._chain(DT_VERDEFNUM, DT_VERDEF, "HHHHIII", "II")

    def version_needs(self) -> list[tuple[str, list[tuple[int, str]]]]:
        """(library, [(version index, version name), ...]) of each DT_VERNEED record."""
        return [(self.string(record[2]), [(aux[2], self.string(aux[3])) for aux in auxes])
                for record, auxes in self._verneed()]

    def _version_definitions(self) -> dict[int, str]:
        return {record[2]: self.string(auxes[0][0]) for record, auxes in self._verdef() if auxes}

    def _dynsym_count(self) -> int:
        section = next((s for s in self.sections if s[0] == SHT_DYNSYM), None)
        if section is not None and section[5]:
            return section[3] // section[5]
        hash_ = self.first(DT_HASH)
        if hash_ is not None:
            return self._unpack("II", self.offset_of(hash_.value))[1]
        gnu = self.first(DT_GNU_HASH)
        if gnu is None:
            return 0
        at = self.offset_of(gnu.value)
        nbuckets, symoffset, bloom, _ = self._unpack("IIII", at)
        buckets_at = at + 16 + bloom * (8 if self.bits == 64 else 4)
        buckets = self._unpack(f"{nbuckets}I", buckets_at)
        last = max(buckets, default=0)
        if last < symoffset:
            return symoffset
        chain_at = buckets_at + 4 * nbuckets
        while not self._unpack("I", chain_at + 4 * (last - symoffset))[0] & 1:
            last += 1
        return last + 1

    def _symbols(self) -> list[tuple[int, int, int, int]]:
        """(name offset, info, section index, value) of each .dynsym entry."""
        symtab = self.first(DT_SYMTAB)
        if symtab is None:
            return []
        at, size = self.offset_of(symtab.value), 24 if self.bits == 64 else 16
        out = []
        for i in range(self._dynsym_count()):
            if self.bits == 64:
                name, info, _, shndx, value, _ = self._unpack("IBBHQQ", at + i * size)
            else:
                name, value, _, info, _, shndx = self._unpack("IIIBBH", at + i * size)
            out.append((name, info, shndx, value))
        return out

    def table_string_offsets(self) -> set[int]:
        """Offsets into the dynamic string table that symbols and version records use."""
        offsets = {name for name, _, _, _ in self._symbols()}
        for record, auxes in self._verneed():
            offsets.add(record[2])
            offsets.update(aux[3] for aux in auxes)
        for _, auxes in self._verdef():
            offsets.update(aux[0] for aux in auxes)
        return offsets

    def imported_versions(self) -> list[tuple[str, str]]:
        """(symbol, version name) of each imported dynamic symbol that names a version, in
        .dynsym order; imported as lief counts it: undefined, no value, global or weak, a
        function or an object."""
        versym = self.first(DT_VERSYM)
        if versym is None:
            return []
        names = {idx: name for _, needs in self.version_needs() for idx, name in needs}
        for idx, name in self._version_definitions().items():
            names.setdefault(idx, name)
        ver_at = self.offset_of(versym.value)
        out = []
        for i, (name, info, shndx, value) in enumerate(self._symbols()):
            if shndx != SHN_UNDEF or value != 0 or not name or info >> 4 not in (STB_GLOBAL, STB_WEAK) \
                    or info & 0xF not in (STT_FUNC, STT_OBJECT, STT_GNU_IFUNC):
                continue
            version = names.get(self._unpack("H", ver_at + 2 * i)[0] & 0x7FFF)
            if version is not None:
                out.append((self.string(name), version))
        return out


def read(path: Path) -> ElfFile | None:
    """The parsed file, or None when it is not an ELF file this reader can make sense of."""
    try:
        with open(path, "rb") as fh:
            return ElfFile(fh.read())
    except (OSError, ElfError):
        return None
