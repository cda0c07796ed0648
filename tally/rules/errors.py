"""Errors of the rules engine: bad input is refused loudly, never counted silently.

`BallotInputError` is a ballot that the counting rules cannot even classify (unknown round,
wrong shape, a score off the plan's step...). A voter's own mistakes (an over-vote, a name not
on the list) are never errors: they make a section or an entry invalid and are counted as such.
Never touches I/O.
"""
from __future__ import annotations


class RulesError(Exception):
    """Base of every error raised by `tally.rules`."""


class BallotInputError(RulesError):
    """A ballot line that is not a ballot of this meeting (an input error, not a voter's choice).

    `line` is the ballot file's line number once the caller knows it.
    """

    def __init__(self, message: str, line: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.line = line

    def at(self, line: int) -> BallotInputError:
        """The same error, naming the line it came from."""
        return BallotInputError(self.message, line)

    def __str__(self) -> str:
        return self.message if self.line is None else f"line {self.line}: {self.message}"


class ScoreValueError(BallotInputError):
    """A judge's score that is not a number, out of the plan's range or off its step.

    `code` is stable (`bad_score`, `score_out_of_range`, `score_off_step`) and `msgid`/`params`
    say it in the words of a screen; `str()` says it in the words of `tally count`.
    """

    def __init__(self, code: str, msgid: str, message: str, **params: str) -> None:
        super().__init__(message)
        self.code = code
        self.msgid = msgid
        self.params = params


class ThresholdError(RulesError, ValueError):
    """A threshold string that is not `>=` or `>` followed by a fraction or a percentage."""


class MissingAttendance(RulesError):
    """A round needs 应到/实到 to be counted and neither the plan nor the caller gave them."""


class MissingComponent(RulesError):
    """A composite round was counted without the results of a round it draws from."""
