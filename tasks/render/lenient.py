"""Where condoit reads a recipe as leniently as conda-build does, and ``strict=1`` does not.

conda-build builds recipes that a careful reader would call broken: a key written twice
(PyYAML keeps the last), a key in the wrong section or one it does not know (checked only
by ``conda build --check``), jinja on lines a selector drops. condoit renders those too,
and says so: each leniency is one call here, a *warning* (printed once per doit call with
``file:line:col``, like a problem, but the recipe is built). With ``strict=1`` (a doit
variable, ``CONDOIT_STRICT`` or the setting) every such warning is a problem instead and
the recipe is refused, which is what condoit did before.

The leniencies, one place each:

    duplicate keys           yaml_positions.load(duplicates=...), reported in recipe._parse
                             and variants.read_variant_file (the file's other keys count)
    unknown keys, sections   schema.Checker.known_keys
    false-selector and       recipe._parse blanks them before jinja; strict=1 also renders
      comment-only lines       them (recipe._strict_full_render) and reports what fails
    source placeholders      recipe._report_pending (GIT_*, HG_*, loaders of source files)
    resolved_packages()      the same (an empty list: the host env is solved later)
"""
from __future__ import annotations

from pathlib import Path

from ..errors import RecipeProblem

STRICT_HINT = "an error because strict=1; without it, a warning"


class Report:
    """The problems and warnings of one file; ``lenient`` files a warning, or a problem
    under strict."""

    __slots__ = ("path", "problems", "warnings", "strict")

    def __init__(self, path: Path, problems: list[RecipeProblem], warnings: list[RecipeProblem] | None,
                 strict: bool = False):
        self.path, self.problems, self.strict = path, problems, strict
        # no list for warnings: every leniency is a problem (a quiet checker, a strict run)
        self.warnings = warnings

    def problem(self, line: int, col: int, message: str, hint: str = "") -> None:
        self.problems.append(RecipeProblem(self.path, line, col, message, hint))

    def lenient(self, line: int, col: int, message: str, hint: str = "") -> None:
        if self.strict or self.warnings is None:
            hint = f"{hint}; {STRICT_HINT}" if hint and self.strict else (hint or (STRICT_HINT if self.strict else ""))
            self.problems.append(RecipeProblem(self.path, line, col, message, hint))
        else:
            self.warnings.append(RecipeProblem(self.path, line, col, message, hint, warning=True))
