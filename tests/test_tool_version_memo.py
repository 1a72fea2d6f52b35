"""tool_version's memo: a no-op run asks no tool its version, a changed binary is asked again."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from tasks.paths import Layout
from tasks.toolchain import tool_version


def _tool(bindir: Path, version: str) -> Path:
    """A `--version`-answering tool that counts its runs in ``bindir/runs``."""
    path = bindir / "condoit-fake-tool"
    text = f"#!/bin/sh\necho run >> {bindir / 'runs'}\necho 'fake tool {version}'\n"
    tmp = bindir / "tool.new"
    tmp.write_text(text)
    tmp.chmod(0o755)
    os.replace(tmp, path)     # a new inode, as an upgrade's install does
    return path


def _runs(bindir: Path) -> int:
    runs = bindir / "runs"
    return len(runs.read_text().splitlines()) if runs.exists() else 0


def _ask(memo: Path) -> str:
    tool_version.cache_clear()     # a new process
    return tool_version("condoit-fake-tool", memo)


@pytest.fixture
def bindir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    bindir = tmp_path / "bin"
    bindir.mkdir()
    monkeypatch.setenv("PATH", f"{bindir}{os.pathsep}{os.environ['PATH']}")
    yield bindir
    tool_version.cache_clear()


def test_memo_spares_the_process_and_notices_a_changed_binary(tmp_path: Path, bindir: Path) -> None:
    memo = Layout(tmp_path / "cache").tool_versions
    _tool(bindir, "1.0")
    assert _ask(memo) == "fake tool 1.0" and _runs(bindir) == 1
    assert _ask(memo) == "fake tool 1.0" and _runs(bindir) == 1     # from the memo
    _tool(bindir, "2.0")
    assert _ask(memo) == "fake tool 2.0" and _runs(bindir) == 2
    assert _ask(memo) == "fake tool 2.0" and _runs(bindir) == 2


def test_a_binary_elsewhere_on_path_is_asked(tmp_path: Path, bindir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    memo = Layout(tmp_path / "cache").tool_versions
    _tool(bindir, "1.0")
    assert _ask(memo) == "fake tool 1.0"
    other = tmp_path / "other"
    other.mkdir()
    _tool(other, "3.0")
    monkeypatch.setenv("PATH", f"{other}{os.pathsep}{os.environ['PATH']}")
    assert _ask(memo) == "fake tool 3.0" and _runs(other) == 1


def test_no_memo_asks_every_process(bindir: Path) -> None:
    _tool(bindir, "1.0")
    assert tool_version("condoit-fake-tool") == "fake tool 1.0"
    tool_version.cache_clear()
    assert tool_version("condoit-fake-tool") == "fake tool 1.0" and _runs(bindir) == 2


def test_zig_version_through_the_memo(tmp_path: Path) -> None:
    """Zig's version, remembered by binary, is the one asked directly (the compile signature)."""
    from tasks.toolchain import zig_binary, zig_version
    from conftest import require_cross_toolchain
    require_cross_toolchain()          # fails (not skips) without zig: setup is incomplete
    binary = zig_binary()
    assert binary is not None
    memo = Layout(tmp_path / "cache").tool_versions
    direct = zig_version(str(binary))
    assert direct
    zig_version.cache_clear()
    assert zig_version(str(binary), memo) == direct
    zig_version.cache_clear()
    assert zig_version(str(binary), memo) == direct and "zig version" in memo.read_text()
    zig_version.cache_clear()


def test_condoit_version_is_the_installed_metadata() -> None:
    """about.json's tool_version (read from the metadata file directly) is importlib.metadata's."""
    import importlib.metadata

    from tasks.stages.package import tool_version as condoit_version
    condoit_version.cache_clear()
    assert condoit_version() == importlib.metadata.version("condoit")
