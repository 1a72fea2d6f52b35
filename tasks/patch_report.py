"""Why a patch does not apply: the hunks that failed, each as the patch writes it, next to the
target file's actual lines where the hunk expected its context.

Loaded only when a patch applies at no strip level (tasks/patching.py applies them).
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from .patch_attempt import STRIP_LEVELS, Attempt

_FAILED_HUNK = re.compile(r"^Hunk #(\d+) FAILED at (\d+)", re.M)
_PATCHING = re.compile(r"^(?:checking|patching) file '?([^'\n]+)'?$", re.M)
_MISSING = re.compile(r"^can't find file to patch|No file to patch", re.M)
_REVERSED = re.compile(r"^Reversed \(or previously applied\) patch detected", re.M)
_HUNK_HEADER = re.compile(r"^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@")
SHOWN_HUNKS = 2         # failed hunks shown in full (the others are only named)
HUNK_LINES = 10         # lines of a hunk shown (the rest is counted)
CONTEXT = 2             # lines of the target file shown before and after the hunk's place
HINT = ("the source may not be the version this patch was written for: compare the hunk's "
        "' ' and '-' lines with the file's lines, then refresh the patch against this source "
        "(e.g. `diff -u` or `git diff` in the kept work tree)")


def missing_files(attempt: Attempt) -> int:
    return len(_MISSING.findall(attempt.output))


def failures(attempt: Attempt) -> list[str]:
    """'hunk #2 of src/x.c (at line 10)' for each failed hunk in patch's output."""
    return [f"hunk #{f.number} of {f.path} (at line {f.line})" for f in failed_hunks(attempt)]


def failed_hunks(attempt: Attempt) -> list["FailedHunk"]:
    """Each failed hunk: its file (as patch named it, with which occurrence), number, line."""
    found: list[FailedHunk] = []
    current, seen = "?", 0
    occurrences: dict[str, int] = {}
    for line in attempt.output.splitlines():
        if m := _PATCHING.match(line):
            current = m.group(1)
            occurrences[current] = occurrences.get(current, 0) + 1
            seen += 1
        elif m := _FAILED_HUNK.match(line):
            found.append(FailedHunk(current, occurrences.get(current, 1) - 1, max(seen - 1, 0),
                                    int(m.group(1)), int(m.group(2))))
    return found


@dataclass(frozen=True)
class FailedHunk:
    path: str           # relative to the tree, as patch printed it
    occurrence: int     # 0 for the first section of the patch on this file, 1 for the second...
    section: int        # index of the file section among those patch checked
    number: int         # 1-based, within its file section
    line: int           # where patch expected the hunk in the file


@dataclass
class Hunk:
    header: str
    old_start: int
    old_len: int
    lines: list[str]


@dataclass
class FileSection:
    names: tuple[str, ...]      # the '---' and '+++' names, as written
    hunks: list[Hunk]

    def matches(self, path: str, strip: int) -> bool:
        return path in {_strip_path(n, strip) for n in self.names}


def explain(patch: Path, attempts: list[Attempt], tree: Path) -> str:
    """Why a patch does not apply, from the attempt that found the most of its files."""
    best = min(attempts, key=lambda a: (missing_files(a), len(failures(a)), a.crlf, STRIP_LEVELS.index(a.strip)))
    failed = failed_hunks(best)
    if failed:
        detail = "; ".join(failures(best))
        lines = [f"patch {patch} does not apply (tried -p1, -p0, -p2, -p3): at -p{best.strip}: {detail}"]
        sections = _parse_patch(patch)
        for hunk in failed[:SHOWN_HUNKS]:
            lines += _show_failed_hunk(hunk, sections, best.strip, tree)
        if len(failed) > SHOWN_HUNKS:
            lines.append(f"  ... {len(failed) - SHOWN_HUNKS} more rejected hunk(s), named above")
        lines.append(f"  hint: {HINT}")
        return "\n".join(lines)
    if _REVERSED.search(best.output):
        files = ", ".join(dict.fromkeys(m.group(1) for m in _PATCHING.finditer(best.output))) or "?"
        return (f"patch {patch} looks already applied (or reversed) at -p{best.strip}: {files}\n"
                "  hint: the source may already contain this change (a newer version?): drop the patch")
    reason = best.output.strip().splitlines()[-1] if best.output.strip() else "no output"
    return f"patch {patch} does not apply at any strip level (-p1, -p0, -p2, -p3): {reason}"


def _show_failed_hunk(failed: FailedHunk, sections: list[FileSection], strip: int, tree: Path) -> list[str]:
    """The rejected hunk as the patch has it, then the target file's lines at that place."""
    out = [f"  rejected hunk #{failed.number} (target file {failed.path}, expected at line {failed.line}):"]
    hunk = _find_hunk(failed, sections, strip)
    old_len = 1
    if hunk is not None:
        old_len = max(hunk.old_len, 1)
        out.append(f"    {hunk.header}")
        shown = hunk.lines[:HUNK_LINES]
        out += [f"    {line}" for line in shown]
        if len(hunk.lines) > len(shown):
            out.append(f"    ... ({len(hunk.lines) - len(shown)} more line(s) in this hunk)")
    out += _file_excerpt(tree / failed.path, failed.path, failed.line, old_len)
    return out


def _file_excerpt(target: Path, name: str, line: int, old_len: int) -> list[str]:
    """The target file's lines around ``line`` (numbered), or why they cannot be shown."""
    try:
        text = target.read_bytes().decode("utf-8", "replace")
    except OSError as exc:
        return [f"  {name} cannot be read: {exc.strerror or exc}"]
    lines = text.splitlines()
    if not lines:
        return [f"  {name} is empty"]
    first = min(max(1, line - CONTEXT), len(lines))
    last = min(len(lines), line + min(old_len, HUNK_LINES) - 1 + CONTEXT)
    if line > len(lines):
        first = max(1, len(lines) - 2 * CONTEXT)
    width = len(str(last))
    out = [f"  {name} as it is in the source, lines {first}-{last} of {len(lines)}:"]
    out += [f"    {n:>{width}} | {lines[n - 1].rstrip(chr(13))}" for n in range(first, last + 1)]
    return out


def _find_hunk(failed: FailedHunk, sections: list[FileSection], strip: int) -> Hunk | None:
    named = [s for s in sections if s.matches(failed.path, strip)]
    if failed.occurrence < len(named):
        section: FileSection | None = named[failed.occurrence]
    else:   # a name patch spelled differently: the section patch was at, counting files
        section = sections[failed.section] if failed.section < len(sections) else None
    if section is None or not 1 <= failed.number <= len(section.hunks):
        return None
    return section.hunks[failed.number - 1]


def _parse_patch(patch: Path) -> list[FileSection]:
    """The file sections of a unified diff and their hunks (other formats: no sections)."""
    try:
        lines = patch.read_bytes().decode("utf-8", "replace").splitlines()
    except OSError:
        return []
    sections: list[FileSection] = []
    i = 0
    while i < len(lines):
        line = lines[i].rstrip("\r")
        if line.startswith("--- ") and i + 1 < len(lines) and lines[i + 1].startswith("+++ "):
            names = (_diff_name(line[4:]), _diff_name(lines[i + 1].rstrip("\r")[4:]))
            sections.append(FileSection(tuple(n for n in names if n != "/dev/null"), []))
            i += 2
            continue
        m = _HUNK_HEADER.match(line)
        if m and sections:
            old_len = int(m.group(2)) if m.group(2) is not None else 1
            new_len = int(m.group(4)) if m.group(4) is not None else 1
            body: list[str] = []
            i += 1
            while i < len(lines) and (old_len > 0 or new_len > 0 or lines[i].startswith("\\")):
                text = lines[i].rstrip("\r")
                kind = text[:1]
                if kind == "\\":
                    pass
                elif kind == "-":
                    old_len -= 1
                elif kind == "+":
                    new_len -= 1
                elif kind in (" ", ""):
                    old_len, new_len = old_len - 1, new_len - 1
                else:
                    break
                body.append(text)
                i += 1
            sections[-1].hunks.append(Hunk(line, int(m.group(1)),
                                           int(m.group(2)) if m.group(2) is not None else 1, body))
            continue
        i += 1
    return sections


def _diff_name(text: str) -> str:
    """The path of a '---'/'+++' line (without its timestamp, unquoted)."""
    name = text.split("\t", 1)[0].strip()
    if len(name) > 1 and name[0] == name[-1] == '"':
        name = name[1:-1]
    return name


def _strip_path(name: str, strip: int) -> str:
    """``name`` without its first ``strip`` components, as `patch -pN` does."""
    parts = [p for p in name.split("/") if p]
    return "/".join(parts[strip:]) if strip < len(parts) else name
