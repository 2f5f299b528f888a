"""Problems found in a project's configuration, and the error that carries them."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from pathlib import Path

from wflow.model import ErrorKind, WflowError

__all__ = ["ConfigError", "Problem", "sort_problems"]


@dataclasses.dataclass(frozen=True)
class Problem:
    """One thing wrong with a project's configuration.

    Attributes:
        file: The definition file (or Python source file) the problem is in, if known.
        line: The 1-based line in `file`, if known.
        message: What is wrong, in one short sentence, without the location.
        entry_id: The entry the problem belongs to, if any.
    """

    file: Path | None
    line: int | None
    message: str
    entry_id: str | None = None

    @property
    def location(self) -> str:
        """`path:line`, `path`, the entry ID, or an empty string, whichever is known."""
        if self.file is not None:
            return f"{self.file}:{self.line}" if self.line is not None else str(self.file)
        return self.entry_id or ""

    def __str__(self) -> str:
        if self.file is not None:
            prefix = f"{self.location}: "
            if self.entry_id is not None:
                prefix += f"{self.entry_id}: "
            return prefix + self.message
        if self.entry_id is not None:
            return f"{self.entry_id}: {self.message}"
        return self.message


def sort_problems(problems: Iterable[Problem]) -> list[Problem]:
    """Order problems by file and line, problems without a file last; stable otherwise."""
    return sorted(
        problems,
        key=lambda p: (p.file is None, str(p.file or ""), p.line or 0),
    )


class ConfigError(WflowError):
    """A project's configuration is invalid (kind `INVALID`).

    Attributes:
        problems: Every problem found, one per file location.
    """

    def __init__(self, problems: Iterable[Problem]) -> None:
        self.problems: list[Problem] = list(problems)
        count = len(self.problems)
        noun = "problem" if count == 1 else "problems"
        lines = "\n".join(str(problem) for problem in self.problems)
        super().__init__(
            f"invalid configuration ({count} {noun}):\n{lines}",
            ErrorKind.INVALID,
            details={"problems": [_problem_dict(problem) for problem in self.problems]},
        )

    def __str__(self) -> str:
        return "\n".join(str(problem) for problem in self.problems)


def _problem_dict(problem: Problem) -> dict[str, object]:
    return {
        "file": None if problem.file is None else str(problem.file),
        "line": problem.line,
        "message": problem.message,
        "entry_id": problem.entry_id,
    }
