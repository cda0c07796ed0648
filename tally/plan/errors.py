"""The one error a bad meeting file raises: one line naming the file, the line and the problem."""
from __future__ import annotations


class PlanError(ValueError):
    """A meeting file that cannot be a plan. `str()` is one line: `file:line: where: problem`."""

    def __init__(self, source: str, problem: str, line: int | None = None, where: str = "") -> None:
        self.source = source
        self.line = line
        self.where = where
        self.problem = " ".join(problem.split())  # one line, whatever the cause said
        super().__init__(str(self))

    def __str__(self) -> str:
        place = f"{self.source}:{self.line}" if self.line else self.source
        return f"{place}: {self.where}: {self.problem}" if self.where else f"{place}: {self.problem}"
