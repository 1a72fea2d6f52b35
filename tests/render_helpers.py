"""Shared helpers of the render tests: write real recipe files, load them as a stack."""
from __future__ import annotations

import textwrap
from pathlib import Path

from tasks.model import Recipe
from tasks.render.stack_loader import load_stack
from tasks.settings import load_settings
from tasks.stack import Stack


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text).lstrip("\n"))
    return path


def recipe_dir(root: Path, name: str, meta: str, files: dict[str, str] | None = None) -> Path:
    """``root/<name>/meta.yaml`` plus extra files (relative path -> text)."""
    d = root / name
    write(d / "meta.yaml", meta)
    for rel, text in (files or {}).items():
        write(d / rel, text)
    return d


def stack(root: Path, target: str = "linux-aarch64", build: str = "linux-64", **more: str) -> Stack:
    overrides = {"recipes": str(root), "cache": str(root.parent / "cache"), "target": target,
                 "build": build, **more}
    return load_stack(load_settings(overrides, root=root.parent))


def render(tmp_path: Path, meta: str, target: str = "linux-aarch64",
           files: dict[str, str] | None = None, **more: str) -> Recipe:
    """Render one recipe; fail the test with every problem if it does not render."""
    root = tmp_path / "recipes"
    recipe_dir(root, "r", meta, files)
    s = stack(root, target=target, **more)
    assert not s.problems, "\n".join(str(p) for p in s.problems)
    assert len(s.recipes) == 1, (s.recipes, s.skipped)
    return s.recipes[0]


def located(root: Path, found) -> list[str]:
    """Problems or warnings as 'meta.yaml:line:col: message' (paths relative to ``root``)."""
    return [f"{p.path.relative_to(root) if p.path.is_relative_to(root) else p.path}:"
            f"{p.line}:{p.col}: {p.message}" for p in found]


def problems(tmp_path: Path, meta: str, target: str = "linux-aarch64",
             files: dict[str, str] | None = None, **more: str) -> list[str]:
    """Problems of one recipe as 'meta.yaml:line:col: message' (paths relative to recipes/)."""
    root = tmp_path / "recipes"
    recipe_dir(root, "r", meta, files)
    return located(root, stack(root, target=target, **more).problems)


def outcome(tmp_path: Path, meta: str, files: dict[str, str] | None = None,
            **more: str) -> tuple[Stack, list[str], list[str]]:
    """The stack of one recipe, its problems and its warnings (located, as ``problems``)."""
    root = tmp_path / "recipes"
    recipe_dir(root, "r", meta, files)
    s = stack(root, **more)
    return s, located(root, s.problems), located(root, s.warnings)
