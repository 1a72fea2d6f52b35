"""``# [expr]`` line selectors: the names they may use, and applying them to rendered text.

Semantics follow conda-build's ``ns_cfg``/``select_lines``: the expression is Python, a
line whose selector is false is dropped. We blank it instead of dropping it, so every
line keeps its number. Unlike conda-build (which silently treats unknown names as
False), a name that looks like a misspelt selector (``linx``) is an error; other unknown
names (variant keys a pinning file would define) are False, as in conda-build.
"""
from __future__ import annotations

import ast
import re
from typing import Any, Callable, Mapping

from .inputs import ENVIRON, OS, getenv
from .suggest import close_match
from .tracking import TrackingDict

# ``<line> # [<expr>]`` with an optional comment after; the expression has no brackets.
SELECTOR_RE = re.compile(r"^(?P<keep>.*?)\s*#\s*\[(?P<expr>[^\[\]]+)\](?P<tail>[^()\[\]]*)$")

NON_X86_MACHINES = ("armv6l", "armv7l", "aarch64", "arm64", "ppc64", "ppc64le", "s390x", "riscv64")
PLATFORMS = ("linux", "osx", "win", "emscripten", "wasi", "zos", "freebsd")


def version_number(version: str) -> int:
    """'3.11' / '3.11.* *_cpython' / '311' -> 311, like conda-build's ``py``."""
    first = str(version).strip().split(" ")[0]
    parts = [re.sub(r"\D.*", "", p) for p in first.split(".")[:2]]
    parts = [p for p in parts if p]
    if len(parts) == 1 and len(parts[0]) >= 2 and "." not in first:
        return int(parts[0])            # already '311' style
    return int("".join(parts)) if parts else 0


def namespace(target_platform: str, build_platform: str, python: str, numpy: str,
              variant: Mapping[str, Any]) -> dict[str, Any]:
    """Every name a selector may use for this target (conda-build's ns_cfg plus variants)."""
    plat = target_platform
    os_name, _, arch = plat.partition("-")
    py = version_number(python)
    ns: dict[str, Any] = dict(variant)
    ns.update(
        linux=plat.startswith("linux-"),
        linux32=plat == "linux-32",
        linux64=plat == "linux-64",
        arm=plat.startswith("linux-arm"),         # 32-bit ARM only, as conda-build
        armv6=arch == "armv6l",
        unix=plat.startswith(("linux-", "osx-", "emscripten-")),
        win32=plat == "win-32",
        win64=plat == "win-64",
        x86=arch in ("32", "64"),
        x86_64=arch == "64",
        os=OS,
        environ=ENVIRON,
        nomkl=(getenv("FEATURE_NOMKL") or "0").strip().lower() in ("1", "true", "yes"),
        py=py,
        py3k=str(py).startswith("3"),
        py2k=str(py).startswith("2"),
        np=version_number(numpy),
        target_platform=target_platform,
        build_platform=build_platform,
    )
    for platform in PLATFORMS:
        ns[platform] = os_name == platform
    for machine in NON_X86_MACHINES:
        ns[machine] = arch == machine
    for name in [f"py2{m}" for m in range(6, 8)] + [f"py3{m}" for m in range(0, 16)]:
        ns[name] = py == int(name[2:])      # py27, py36, py311 ...
    return ns


class SelectorProblem(Exception):
    def __init__(self, line: int, col: int, message: str, hint: str = ""):
        super().__init__(message)
        self.line, self.col, self.message, self.hint = line, col, message, hint


def select_lines(text: str, ns: TrackingDict, origin: Callable[[int], int],
                 problems: list[SelectorProblem], blank_comments: bool = False) -> tuple[str, dict[int, str]]:
    """Blank the lines whose selector is false and cut the selector from the others.

    Returns the new text and, per 0-based line index, the selector of each true-selected
    line (so ``skip: true  # [win]`` can say why). Errors are appended to ``problems``.
    ``blank_comments`` also blanks comment-only lines, as conda-build drops them before
    jinja sees the text (so ``# {{ old_thing() }}`` cannot fail); a line opening with
    ``#}`` ends a jinja comment and is kept.
    """
    if "#" not in text:
        return text, {}
    lines = text.split("\n")
    kept: dict[int, str] = {}
    for i, line in enumerate(lines):
        if "#" not in line:
            continue
        stripped = line.lstrip()
        if stripped.startswith("#"):      # comment lines are not selected (conda-build)
            if blank_comments and not stripped.startswith("#}"):
                lines[i] = ""
            continue
        if "[" not in line:
            continue
        m = SELECTOR_RE.match(line.rstrip())
        if m is None:
            continue
        expr = m.group("expr")
        try:
            keep = evaluate(expr, ns)
        except SelectorProblem as exc:
            col = m.start("expr") + 1
            problems.append(SelectorProblem(origin(i), col, exc.message, exc.hint))
            lines[i] = ""
            continue
        if keep:
            # conda-build: a line quoted as a whole keeps its closing quote
            quote = line.rstrip()[-1] if line.rstrip()[-1:] in ("'", '"') else ""
            lines[i] = m.group("keep") + quote
            kept[i] = expr.strip()
        else:
            lines[i] = ""
    return "\n".join(lines), kept


_COMPILED: dict[str, Any] = {}


def evaluate(expr: str, ns: TrackingDict) -> bool:
    """Evaluate one selector expression; unknown names are False unless they look misspelt."""
    code = _COMPILED.get(expr)
    if code is None:
        try:
            tree = ast.parse(expr.strip(), mode="eval")
        except SyntaxError as exc:
            raise SelectorProblem(0, 0, f"invalid selector [{expr}]: {exc.msg}",
                                  "a selector is a Python expression, e.g. # [linux and aarch64]") from None
        code = (compile(tree, "<selector>", "eval"),
                sorted({n.id for n in ast.walk(tree) if isinstance(n, ast.Name)}))
        _COMPILED[expr] = code
    compiled, names = code
    local = ns
    for name in names:
        if name not in ns and name not in _BUILTINS:
            close = close_match(name, ns.plain_keys(), cutoff=0.8)
            if close:
                raise SelectorProblem(0, 0, f"unknown selector name '{name}' in [{expr}]",
                                      f"did you mean '{close}'?")
            if local is ns:
                local = ns.child()
            local[name] = False
    try:
        return bool(eval(compiled, {"__builtins__": _BUILTINS}, local))  # noqa: S307 - recipe selectors are Python by definition
    except Exception as exc:  # noqa: BLE001
        raise SelectorProblem(0, 0, f"selector [{expr}] failed: {type(exc).__name__}: {exc}") from None


_BUILTINS: dict[str, Any] = {"True": True, "False": False, "None": None, "int": int, "str": str,
                             "float": float, "len": len, "bool": bool, "tuple": tuple, "list": list}

