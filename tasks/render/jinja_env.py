"""The one jinja2 Environment for meta.yaml, and rendering that keeps original line numbers.

conda-build renders meta.yaml with jinja2 before selectors and YAML. Blocks such as
``{% if %}`` or ``{% for %}`` add or drop lines, so positions in the rendered text are not
positions in the file. An extension puts a marker after every newline of the template's
literal text (after jinja's whitespace control, so it changes no output); after rendering
the markers give each rendered line the original line it starts on, and are removed.

``{% import %}`` and ``{% include %}`` load templates from the recipe directory (then the
recipes root), with selectors applied to them as to meta.yaml (conda-build's
FilteredLoader). Their lines carry no marks: what they add is placed at the line of the
statement that brought it in.
"""
from __future__ import annotations

import contextlib
import contextvars
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, Mapping

import jinja2
from jinja2.ext import Extension
from jinja2.lexer import Token, TokenStream

from .inputs import note_path
from .suggest import close_match
from .template_cache import template_for

# Bump when the extension changes the compiled code (it keys the template cache).
EXTENSION_VERSION = 2
_MARK_OPEN, _MARK_CLOSE = "\x1f", "\x1e"
_MARK_RE = re.compile("\x1f(\\d+)\x1e")
_SET_RE = re.compile(r"{%-?\s*set\s+(\w+)")
TEMPLATE_NAME = "<meta.yaml>"


class _LineMarks(Extension):
    """Insert ``\\x1f<line>\\x1e`` after each newline of literal template text."""

    def filter_stream(self, stream: TokenStream) -> Iterable[Token]:
        if stream.name is not None:     # an imported/included template: no marks
            yield from stream
            return
        first = True
        for tok in stream:
            if tok.type == "data":
                value = tok.value
                if first:
                    value = f"{_MARK_OPEN}{tok.lineno}{_MARK_CLOSE}{value}"
                if "\n" in value:
                    parts = value.split("\n")
                    line = tok.lineno
                    out = [parts[0]]
                    for part in parts[1:]:
                        line += 1
                        out.append(f"{_MARK_OPEN}{line}{_MARK_CLOSE}{part}")
                    value = "\n".join(out)
                tok = Token(tok.lineno, "data", value)
            first = False
            yield tok


class StrictUndefined(jinja2.StrictUndefined):
    """An undefined name fails when its value is used (printed, iterated, called...), but
    is false in a condition and unequal to everything, so conda-forge idioms such as
    ``{% set channel_targets = channel_targets or 'conda-forge main' %}`` work as in
    conda-build while a typo in ``{{ verison }}`` is an error instead of an empty string."""

    __bool__ = jinja2.Undefined.__bool__
    __eq__ = jinja2.Undefined.__eq__
    __ne__ = jinja2.Undefined.__ne__
    __hash__ = jinja2.Undefined.__hash__


class NeverFail(jinja2.Undefined):
    """conda-build's UndefinedNeverFail: anything done to an undefined name gives another,
    which prints as nothing. Used only to read what a template says before it can render
    strictly (the build/script_env names it needs, in recipe.py)."""

    def _fail_with_undefined_error(self, *args: Any, **kwargs: Any) -> "NeverFail":
        return NeverFail()

    __add__ = __radd__ = __sub__ = __rsub__ = __mul__ = __rmul__ = __div__ = __rdiv__ = \
        __truediv__ = __rtruediv__ = __floordiv__ = __rfloordiv__ = __mod__ = __rmod__ = \
        __pos__ = __neg__ = __call__ = __getitem__ = __lt__ = __le__ = __gt__ = __ge__ = \
        __complex__ = __pow__ = __rpow__ = _fail_with_undefined_error

    def __getattr__(self, name: str) -> "NeverFail":
        if name.startswith("__"):
            raise AttributeError(name)
        return NeverFail()

    def __int__(self) -> int:
        return 0

    def __float__(self) -> float:
        return 0.0


# What a template being rendered may load: the directories searched, and the filter
# (selectors) applied to what is loaded. Set for the length of one render.
_LOADING: contextvars.ContextVar[tuple[tuple[Path, ...], Callable[[str], str]]] = \
    contextvars.ContextVar("condoit_jinja_loading", default=((), lambda text: text))


class _RecipeLoader(jinja2.BaseLoader):
    """Templates next to the recipe being rendered (``{% import 'macros.j2' as m %}``)."""

    def _find(self, name: str) -> Path:
        dirs, _ = _LOADING.get()
        parts = [p for p in name.replace("\\", "/").split("/") if p and p != "."]
        if ".." in parts:
            raise jinja2.TemplateNotFound(name)
        for base in dirs:
            path = base.joinpath(*parts)
            note_path(path)
            if path.is_file():
                return path
        raise jinja2.TemplateNotFound(name, f"template '{name}' not found in "
                                      + (", ".join(str(d) for d in dirs) or "the recipe directory"))

    def get_source(self, environment: jinja2.Environment, template: str) -> tuple[str, str, Callable[[], bool]]:
        path = self._find(template)
        _, select = _LOADING.get()
        return select(path.read_text(encoding="utf-8-sig")), str(path), lambda: False

    def load(self, environment: jinja2.Environment, name: str, globals: Any = None) -> jinja2.Template:
        source, filename, _ = self.get_source(environment, name)
        tag = "permissive" if environment.undefined is NeverFail else "strict"
        template = template_for(source, None, environment, f"{EXTENSION_VERSION}|{tag}", name, filename)
        if globals:
            template.globals.update(globals)
        return template


@contextlib.contextmanager
def loading(dirs: Iterable[Path], select: Callable[[str], str]) -> Iterator[None]:
    """Let the templates rendered inside import/include from ``dirs``, filtered by ``select``."""
    token = _LOADING.set((tuple(dirs), select))
    try:
        yield
    finally:
        _LOADING.reset(token)


_ENV: jinja2.Environment | None = None
_PERMISSIVE: jinja2.Environment | None = None


def environment() -> jinja2.Environment:
    """One shared Environment (compiling the extension and filters once per process).

    No template cache in the Environment: loaded templates depend on the recipe being
    rendered, so the loader caches them by content instead."""
    global _ENV
    if _ENV is None:
        _ENV = jinja2.Environment(extensions=[_LineMarks], undefined=StrictUndefined,
                                  keep_trailing_newline=True, autoescape=False,
                                  loader=_RecipeLoader(), cache_size=0)
    return _ENV


def permissive_environment() -> jinja2.Environment:
    """The same, where undefined names never fail (conda-build's first pass)."""
    global _PERMISSIVE
    if _PERMISSIVE is None:
        _PERMISSIVE = environment().overlay(undefined=NeverFail)
    return _PERMISSIVE


def render_permissive(source: str, context: Mapping[str, Any]) -> Rendered | None:
    """Render with undefined names as empty; None when even that fails."""
    env = permissive_environment()
    try:
        template = template_for(source, None, env, f"{EXTENSION_VERSION}|permissive")
        return _strip_marks(_run(env, template, context))
    except Exception:  # noqa: BLE001 - a best-effort reading; the strict render reports
        return None


@dataclass(frozen=True)
class Rendered:
    text: str                      # rendered text without markers
    origin: tuple[int, ...]        # 1-based original line of each rendered line

    def line(self, index: int) -> int:
        """Original line of 0-based rendered line ``index`` (past the end: the last + n)."""
        if not self.origin:
            return index + 1
        if index < len(self.origin):
            return self.origin[index]
        return self.origin[-1] + index - len(self.origin) + 1


class JinjaProblem(Exception):
    def __init__(self, line: int, col: int, message: str, hint: str = ""):
        super().__init__(message)
        self.line, self.col, self.message, self.hint = line, col, message, hint


def render(source: str, context: Mapping[str, Any], source_lines: list[str],
           cache_dir: Path | None = None) -> Rendered:
    """Render ``source`` with ``context``; raise JinjaProblem located in the original text."""
    env = environment()
    try:
        template = template_for(source, cache_dir, env, EXTENSION_VERSION)
    except jinja2.TemplateSyntaxError as exc:
        line = exc.lineno or 1
        raise JinjaProblem(line, _col_of_tag(source_lines, line), f"jinja2 syntax error: {exc.message}",
                           "check {{ }} / {% %} pairs and that every block has its end tag") from None
    try:
        out = _run(env, template, context)
    except jinja2.UndefinedError as exc:
        line = _template_line(exc)
        name = _undefined_name(str(exc.message))
        col = _col_of(source_lines, line, name) if name else 1
        known = [k for k in context if not k.startswith("_")] + _SET_RE.findall(source)
        close = close_match(name or "", known)
        hint = (f"did you mean '{close}'?" if close else
                "define it with {% set name = ... %} or in conda_build_config.yaml")
        raise JinjaProblem(line, col, f"undefined jinja2 variable: {exc.message}", hint) from None
    except JinjaProblem:
        raise
    except Exception as exc:  # noqa: BLE001 - any failure inside a template is the recipe's
        line = _template_line(exc)
        message = re.sub(r"\w+\.<locals>\.", "", str(exc))     # our function names, plainly
        raise JinjaProblem(line, _col_of_tag(source_lines, line),
                           f"jinja2 error: {type(exc).__name__}: {message}") from None
    return _strip_marks(out)


def _run(env: jinja2.Environment, template: jinja2.Template, context: Mapping[str, Any]) -> str:
    """Render with ``context`` itself as the parent scope (not a copy, as Template.render
    makes), so a TrackingDict sees which names the template reads."""
    ctx = template.new_context(context, shared=True)  # type: ignore[arg-type]
    try:
        return env.concat(template.root_render_func(ctx))  # type: ignore[attr-defined]
    except Exception:
        env.handle_exception()      # re-raises with template line numbers in the traceback
        raise


def _strip_marks(out: str) -> Rendered:
    lines = out.split("\n")
    origin: list[int] = []
    prev = 0
    for i, text in enumerate(lines):
        if text.startswith(_MARK_OPEN):             # the usual case: one mark, at the start
            end = text.find(_MARK_CLOSE)
            prev = int(text[1:end])
            text = text[end + 1:]
            lines[i] = _MARK_RE.sub("", text) if _MARK_OPEN in text else text
        elif _MARK_OPEN in text:                    # a mark inside (e.g. from a {% set %} block)
            m = _MARK_RE.search(text)
            prev = int(m.group(1)) if m else prev + 1
            lines[i] = _MARK_RE.sub("", text)
        else:                                       # a line break that came from a value
            prev += 1
        origin.append(prev)
    return Rendered("\n".join(lines), tuple(origin))


def _template_line(exc: BaseException) -> int:
    """Line of the template where ``exc`` was raised (jinja rewrites tracebacks to it)."""
    line = 1
    tb = exc.__traceback__
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == "<template>" or \
                tb.tb_frame.f_code.co_filename == TEMPLATE_NAME:
            line = tb.tb_lineno
        tb = tb.tb_next
    return line


def _undefined_name(message: str) -> str | None:
    m = re.search(r"'([^']+)' is undefined", message) or re.search(r"has no attribute '([^']+)'", message)
    return m.group(1) if m else None


def _col_of(source_lines: list[str], line: int, word: str) -> int:
    if 1 <= line <= len(source_lines):
        m = re.search(rf"\b{re.escape(word)}\b", source_lines[line - 1])
        if m:
            return m.start() + 1
    return _col_of_tag(source_lines, line)


def _col_of_tag(source_lines: list[str], line: int) -> int:
    if 1 <= line <= len(source_lines):
        text = source_lines[line - 1]
        for token in ("{{", "{%"):
            if token in text:
                return text.index(token) + 1
        return len(text) - len(text.lstrip()) + 1
    return 1

