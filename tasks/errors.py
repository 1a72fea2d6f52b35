"""Errors a user sees instead of a traceback.

Recipe errors point at the original meta.yaml (file, line, column) and carry a hint;
stage errors name the recipe, the stage and the log to read.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


class CondoitError(Exception):
    """Base of every error condoit reports without a traceback."""


@dataclass(frozen=True)
class RecipeProblem:
    """One problem in one recipe file, located in the *original* text (1-based)."""

    path: Path
    line: int
    col: int
    message: str
    hint: str = ""
    warning: bool = False       # reported, but the recipe is built (a leniency; strict=1 refuses)

    def __str__(self) -> str:
        text = f"{self.path}:{self.line}:{self.col}: {'warning: ' if self.warning else ''}{self.message}"
        if self.hint:
            text += f"\n    hint: {self.hint}"
        return text


class RecipeError(CondoitError):
    """One or more problems in recipe text; all are reported together."""

    def __init__(self, problems: list[RecipeProblem] | RecipeProblem):
        if isinstance(problems, RecipeProblem):
            problems = [problems]
        self.problems: list[RecipeProblem] = list(problems)
        super().__init__("\n".join(str(p) for p in self.problems))

    @classmethod
    def at(cls, path: Path | str, line: int, col: int, message: str, hint: str = "") -> "RecipeError":
        return cls(RecipeProblem(Path(path), line, col, message, hint))


class StageError(CondoitError):
    """A stage of one recipe failed; the work tree and the log are kept for debugging."""

    def __init__(self, recipe: str, stage: str, message: str, log: Path | None = None,
                 kept: Path | None = None, tail: str = ""):
        self.recipe, self.stage, self.log, self.kept, self.tail = recipe, stage, log, kept, tail
        lines = [f"[{recipe}] stage '{stage}' failed: {message}"]
        if tail:
            lines.append("---- last lines of the log ----")
            lines.append(tail.rstrip())
            lines.append("-------------------------------")
        if log is not None:
            lines.append(f"log: {log}")
        if kept is not None:
            lines.append(f"work tree kept for debugging: {kept}")
        super().__init__("\n".join(lines))


class LockBusy(CondoitError):
    """Another condoit run holds the cache."""


def log_tail(log: Path, lines: int = 25) -> str:
    """Last lines of a log file, for showing on screen next to the log's path."""
    try:
        with open(log, "rb") as fh:
            fh.seek(0, 2)
            size = fh.tell()
            fh.seek(max(0, size - 16384))
            data = fh.read().decode("utf-8", "replace")
    except OSError:
        return ""
    return "\n".join(data.splitlines()[-lines:])
