"""Compiled meta.yaml templates, cached in memory and on disk by content hash.

Compiling a template (jinja2 lexer, parser, code generation, Python compile) is most of
the cost of rendering, and it runs on every ``doit`` call. The compiled code depends only
on the template text and the versions of Python, jinja2 and our line-marking extension,
so it is cached under ``cache/render/`` keyed by a hash of exactly those. Rendering
itself (variant, selectors, files present) always happens live.
"""
from __future__ import annotations

import hashlib
import marshal
import os
import sys
import tempfile
from pathlib import Path
from types import CodeType

import jinja2

_MEMORY: dict[str, jinja2.Template] = {}


def template_for(source: str, cache_dir: Path | None, env: jinja2.Environment, env_version: str,
                 name: str | None = None, filename: str | None = None) -> jinja2.Template:
    """The compiled template of ``source`` in ``env`` (raises jinja2.TemplateSyntaxError).

    ``env_version`` names what the environment's extensions do to the source, so a change
    to them never reuses code compiled by the old ones. ``name`` and ``filename`` are given
    for templates a recipe imports or includes (the code differs: no line marks, and
    tracebacks name their file).
    """
    salt = f"{sys.version}|{jinja2.__version__}|{env_version}|{name}|{filename}".encode()
    key = hashlib.sha256(salt + source.encode("utf-8", "surrogatepass")).hexdigest()
    template = _MEMORY.get(key)
    if template is not None:
        return template
    code = _read(cache_dir, key)
    if code is None:
        code = env.compile(source, name, filename)
        _write(cache_dir, key, code)
    template = env.template_class.from_code(env, code, env.make_globals(None), None)
    if name is not None:
        template.name = name
    if filename is not None:
        template.filename = filename
    _MEMORY[key] = template
    return template


def used_keys() -> set[str]:
    """The keys of the templates this process compiled or read (a render's, for its memo)."""
    return set(_MEMORY)


def unused_files(cache_dir: Path, keep: set[str]) -> list[Path]:
    """The compiled templates under ``cache_dir`` whose key is not in ``keep`` (for purge)."""
    return [path for path in sorted(cache_dir.glob("??/*.marshal")) if path.name[:-len(".marshal")] not in keep]


def _path(cache_dir: Path, key: str) -> Path:
    return cache_dir / key[:2] / f"{key}.marshal"


def _read(cache_dir: Path | None, key: str) -> CodeType | None:
    if cache_dir is None:
        return None
    try:
        data = _path(cache_dir, key).read_bytes()
        code = marshal.loads(data)
    except (OSError, ValueError, EOFError, TypeError):
        return None
    return code if isinstance(code, CodeType) else None


def _write(cache_dir: Path | None, key: str, code: CodeType) -> None:
    """Best effort and atomic (a cache entry is either whole or absent; no fsync needed)."""
    if cache_dir is None:
        return
    path = _path(cache_dir, key)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmpl.", suffix=".part")
        with os.fdopen(fd, "wb") as fh:
            fh.write(marshal.dumps(code))
        os.replace(tmp, path)
    except OSError:
        pass
