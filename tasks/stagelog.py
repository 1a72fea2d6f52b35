"""The log of one stage run, and turning expected failures into one clear StageError.

Library code (fetchers, unpacking, patching) raises plain ``CondoitError`` subclasses
that say what went wrong; ``stage_log`` adds who (recipe, stage) and where to read more
(the log), so the user sees a message instead of a traceback.
"""
from __future__ import annotations

import contextlib
import os
import shlex
import shutil
import subprocess
import time
from pathlib import Path
from typing import IO, Iterator, Mapping, Sequence

from .errors import CondoitError, StageError, log_tail
from .paths import Layout


class CommandFailed(CondoitError):
    """An external program exited non-zero; the message carries its last output lines."""

    def __init__(self, argv: Sequence[str], returncode: int, output: str):
        self.argv, self.returncode, self.output = list(argv), returncode, output
        last = "\n".join(output.strip().splitlines()[-8:])
        text = f"`{shlex.join(self.argv)}` exited with status {returncode}"
        super().__init__(f"{text}\n{last}" if last else text)


class MissingTool(CondoitError):
    """A program a source or stage needs is not installed."""


def require_program(program: str, needed_for: str, package: str | None = None) -> str:
    """Absolute path of ``program``, or a MissingTool error saying how to install it."""
    found = shutil.which(program)
    if found is None:
        raise MissingTool(f"{needed_for} needs the `{program}` program, which is not installed "
                          f"(install it, e.g. `apt-get install {package or program}`)")
    return found


class StageLog:
    """Append-only log of one stage of one recipe (truncated when the stage starts)."""

    def __init__(self, recipe: str, stage: str, path: Path):
        self.recipe, self.stage, self.path = recipe, stage, path
        path.parent.mkdir(parents=True, exist_ok=True)
        self._fh: IO[str] = open(path, "w", encoding="utf-8", errors="replace")
        self.note(f"# {stage} of {recipe}, started {time.strftime('%Y-%m-%d %H:%M:%S')}")

    @property
    def stream(self) -> IO[str]:
        """The open log, for a child process's output (flushed first)."""
        self._fh.flush()
        return self._fh

    def note(self, text: str) -> None:
        self._fh.write(text.rstrip("\n") + "\n")
        self._fh.flush()

    def run(self, argv: Sequence[str], cwd: Path | None = None,
            env: Mapping[str, str] | None = None, check: bool = True) -> subprocess.CompletedProcess:
        """Run a program without a terminal; its output goes to the log and is returned."""
        self.note(f"$ {shlex.join(str(a) for a in argv)}" + (f"   (in {cwd})" if cwd else ""))
        full_env = dict(os.environ, **(env or {}))
        proc = subprocess.run([str(a) for a in argv], cwd=cwd, env=full_env, stdin=subprocess.DEVNULL,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, errors="replace")
        for stream in (proc.stdout, proc.stderr):
            if stream.strip():
                self.note(stream)
        if proc.returncode:
            self.note(f"[exit status {proc.returncode}]")
            if check:
                raise CommandFailed([str(a) for a in argv], proc.returncode, proc.stdout + proc.stderr)
        return proc

    def error(self, message: str, kept: Path | None = None, show_tail: bool = False) -> StageError:
        """The StageError to raise: message noted in the log, log path (and tail) attached."""
        self.note(f"ERROR: {message}")
        return StageError(self.recipe, self.stage, message, log=self.path, kept=kept,
                          tail=log_tail(self.path) if show_tail else "")

    def close(self) -> None:
        self._fh.close()


@contextlib.contextmanager
def stage_log(layout: Layout, recipe: str, stage: str) -> Iterator[StageLog]:
    """Open the stage's log; expected failures inside leave as a StageError naming it."""
    log = StageLog(recipe, stage, layout.log(recipe, stage))
    try:
        yield log
    except StageError:
        raise
    except (CondoitError, OSError) as exc:
        raise log.error(str(exc)) from None
    finally:
        log.close()
