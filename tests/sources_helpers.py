"""Shared pieces of the tests/test_sources_*.py files: a loopback archive server, archive
builders, and recipes/contexts made directly from the model (no renderer needed)."""
from __future__ import annotations

import bz2
import gzip
import hashlib
import io
import lzma
import os
import subprocess
import sys
import tarfile
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from tasks.model import Frozen, Recipe, Source
from tasks.settings import Settings
from tasks.stack import Stack

REPO = Path(__file__).resolve().parent.parent
DODO = REPO / "dodo.py"


# -- loopback HTTP server ------------------------------------------------------------------
@dataclass
class Served:
    """One file the server offers, and how it misbehaves."""

    body: bytes
    status: int = 200
    truncate_at: int | None = None      # send Content-Length of the whole body, close after this many bytes
    slow: bool = False                  # trickle the body until ArchiveServer.fast is set


@dataclass
class ArchiveServer:
    files: dict[str, Served] = field(default_factory=dict)
    hits: dict[str, int] = field(default_factory=dict)
    fast: threading.Event = field(default_factory=threading.Event)
    started_slow: threading.Event = field(default_factory=threading.Event)
    port: int = 0

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}/{path.lstrip('/')}"

    def add(self, path: str, body: bytes, **how: Any) -> str:
        self.files["/" + path.lstrip("/")] = Served(body, **how)
        return self.url(path)

    def total_hits(self) -> int:
        return sum(self.hits.values())


def _handler(server: ArchiveServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: Any) -> None:
            pass

        def do_GET(self) -> None:  # noqa: N802
            server.hits[self.path] = server.hits.get(self.path, 0) + 1
            served = server.files.get(self.path)
            if served is None or served.status != 200:
                status = 404 if served is None else served.status
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            self.send_response(200)
            self.send_header("Content-Length", str(len(served.body)))
            self.send_header("Content-Type", "application/octet-stream")
            self.end_headers()
            if served.truncate_at is not None:
                self.wfile.write(served.body[:served.truncate_at])
                self.wfile.flush()
                self.close_connection = True
                return
            if served.slow:
                server.started_slow.set()
                for i in range(0, len(served.body), 1024):
                    self.wfile.write(served.body[i:i + 1024])
                    self.wfile.flush()
                    if not server.fast.is_set():
                        time.sleep(0.05)
                return
            self.wfile.write(served.body)

    return Handler


@pytest.fixture
def http_server():
    state = ArchiveServer()
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(state))
    httpd.daemon_threads = True
    state.port = httpd.server_address[1]
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield state
    state.fast.set()
    httpd.shutdown()
    httpd.server_close()


# -- archives ----------------------------------------------------------------------------
def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _compress(raw: bytes, mode: str) -> bytes:
    """Deterministic compression (gzip without a time stamp), so equal input -> equal sha256."""
    kind = mode.partition(":")[2]
    return {"": lambda d: d, "gz": lambda d: gzip.compress(d, mtime=0), "bz2": bz2.compress,
            "xz": lzma.compress}[kind](raw)


def tar_bytes(files: dict[str, bytes | str], mode: str = "w:gz", top: str | None = "pkg-1.0") -> bytes:
    """A tar archive of regular files (under one top directory unless ``top`` is None)."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        for name, content in sorted(files.items()):
            data = content.encode() if isinstance(content, str) else content
            info = tarfile.TarInfo(f"{top}/{name}" if top else name)
            info.size, info.mode, info.mtime = len(data), 0o755 if name.endswith(".sh") else 0o644, 1700000000
            tar.addfile(info, io.BytesIO(data))
    return _compress(buf.getvalue(), mode)


def tar_with(members: list[tarfile.TarInfo], mode: str = "w:gz") -> bytes:
    """A tar archive of hand-made members (links, devices...), all without content."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        for info in members:
            tar.addfile(info, io.BytesIO(b"x" * info.size) if info.isfile() else None)
    return _compress(buf.getvalue(), mode)


def member(name: str, kind: bytes = tarfile.REGTYPE, linkname: str = "", size: int = 0) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type, info.linkname, info.size, info.mode = kind, linkname, size, 0o644
    return info


# -- recipes and contexts without the renderer -----------------------------------------------
def make_recipe(tmp: Path, name: str = "pkg", version: str = "1.0", sources: tuple[Source, ...] = (),
                extra: dict | None = None) -> Recipe:
    recipe_dir = tmp / "recipes" / name
    recipe_dir.mkdir(parents=True, exist_ok=True)
    return Recipe(name=name, version=version, recipe_dir=recipe_dir, meta_path=recipe_dir / "meta.yaml",
                  sources=sources, extra=Frozen(extra or {}))


def make_context(tmp: Path, *recipes: Recipe, mirrors: tuple[str, ...] = ()):
    """An Engine over these recipes (no renderer); ``.layout`` is the cache's layout."""
    from tasks.engine import Engine
    settings = Settings(root=tmp, recipes_dir=tmp / "recipes", cache_dir=tmp / "cache", mirrors=mirrors)
    return Engine(settings, Stack(recipes=tuple(recipes), order=tuple(r.name for r in recipes)))


def run_stage(stage: str, recipe: Recipe, engine) -> str | None:
    """Run one stage like doit would; returns the failure text or None."""
    failed = engine.execute(stage, recipe.name)
    return None if failed is None else str(failed)


def is_current(stage: str, recipe: Recipe, engine) -> bool:
    return engine.is_current(stage, recipe.name)


# -- doit in a subprocess ------------------------------------------------------------------
def doit(recipes: Path, cache: Path, *args: str, extra_vars: tuple[str, ...] = (),
         timeout: float = 300) -> subprocess.CompletedProcess:
    cmd = [sys.executable, "-m", "doit", "-f", str(DODO), *args[:1], f"recipes={recipes}", f"cache={cache}",
           *extra_vars, *args[1:]]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, cwd=REPO,
                          env=dict(os.environ, PYTHONPATH=str(REPO)))


def doit_tasks(recipes: Path, cache: Path, *tasks: str, extra_vars: tuple[str, ...] = ()) -> tuple[set, set, str]:
    """(executed, up-to-date, output) of ``doit run <tasks>``: doit prints '.  t' and '-- t'."""
    proc = doit(recipes, cache, "run", *tasks, extra_vars=extra_vars)
    text = proc.stdout + proc.stderr
    assert proc.returncode == 0, text
    ran = {line[3:].strip() for line in proc.stdout.splitlines() if line.startswith(".  ")}
    fresh = {line[3:].strip() for line in proc.stdout.splitlines() if line.startswith("-- ")}
    return ran, fresh, text


def write_meta(recipes: Path, name: str, text: str, files: dict[str, str] | None = None) -> Path:
    folder = recipes / name
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "meta.yaml").write_text(text)
    for fname, content in (files or {}).items():
        (folder / fname).write_text(content)
    return folder
