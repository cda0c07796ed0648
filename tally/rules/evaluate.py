"""民主测评: reading an evaluation ballot and counting grades per subject (RULES §3).

One grade per subject; two or more grades make that entry invalid; no grade abstains. A ballot
over a grade quota is invalid as a whole. Per subject, N = its valid graded entries, and every
rate is over N: 优秀率, 称职 (称职-only), 基本称职率, 不称职率, and `competent_or_above`
(称职以上 = 优秀称职率, the best two grades). Quantified score = Σ value × count / N. Pure.
"""
from __future__ import annotations

from collections.abc import Hashable, Mapping
from fractions import Fraction
from typing import Any, Final

from tally.rules.attendance import is_void, settle
from tally.rules.errors import BallotInputError
from tally.rules.model import Attendance, EvaluateRound
from tally.rules.rounding import percent, quantize, text
from tally.rules.shape import check_fields, mapping_of, marked_invalid, unknown_key
from tally.rules.tallying import MarkCounter

FIELDS: Final = frozenset({"round", "grades", "directions", "invalid"})
ABSTAIN: Final = -1
INVALID: Final = -2

# (grade code per subject, direction code per subject) or None for a whole invalid ballot.
Marks = tuple[tuple[int, ...], tuple[int, ...]] | None


def _code(value: object, choices: dict[str, int], subject: str, what: str) -> int:
    if value is None:
        return ABSTAIN
    if type(value) is str:
        if value not in choices:
            raise BallotInputError(f"{what} {value!r} for {subject!r} is not in the meeting file")
        return choices[value]
    if type(value) is list:
        codes = [_code(v, choices, subject, what) if type(v) is str else _bad(v, subject, what)
                 for v in value]
        if not codes:
            return ABSTAIN
        return codes[0] if len(codes) == 1 else INVALID
    return _bad(value, subject, what)


def _bad(value: object, subject: str, what: str) -> int:
    raise BallotInputError(f"{what} for {subject!r} must be a string or a list of strings, not {value!r}")


class EvaluateForm:
    """Turns an evaluate ballot into marks; raises BallotInputError on bad input."""

    __slots__ = ("_directions", "_grades", "_known", "_quota", "_subjects")

    def __init__(self, rnd: EvaluateRound) -> None:
        self._subjects = rnd.subjects
        self._known = frozenset(rnd.subjects)
        self._grades = {g: i for i, g in enumerate(rnd.grades)}
        self._directions = {d: i for i, d in enumerate(rnd.directions)}
        self._quota = tuple((self._grades[g], limit) for g, limit in rnd.quota)

    def parse(self, obj: Mapping[str, Any]) -> Marks:
        check_fields(obj, FIELDS)
        if marked_invalid(obj):
            return None
        grades = mapping_of(obj, "grades") or {}
        directions = mapping_of(obj, "directions") or {}
        unknown_key(grades, self._known, "subject")
        unknown_key(directions, self._known, "subject")
        if directions and not self._directions:
            raise BallotInputError("this round asks for no directions (使用意见)")
        grade_codes = tuple(_code(grades.get(s), self._grades, s, "grade") for s in self._subjects)
        direction_codes = tuple(_code(directions.get(s), self._directions, s, "direction")
                                for s in self._subjects) if directions else ()
        for grade, limit in self._quota:
            if grade_codes.count(grade) > limit:
                return None
        return grade_codes, direction_codes


class EvaluateCounter(MarkCounter):
    """Counts one evaluate round; `result()` is its contract document."""

    def __init__(self, rnd: EvaluateRound) -> None:
        self.plan = rnd
        size = len(rnd.subjects)
        self._grades = [[0] * len(rnd.grades) for _ in range(size)]
        self._abstain = [0] * size
        self._invalid_entries = [0] * size
        self._directions = [[0] * len(rnd.directions) for _ in range(size)]
        self._invalid_ballots = 0
        self._start()

    def _absorb(self, marks: Hashable, n: int) -> None:
        if marks is None:
            self._invalid_ballots += n
            return
        assert isinstance(marks, tuple)
        grades, directions = marks
        for i, code in enumerate(grades):
            if code >= 0:
                self._grades[i][code] += n
            elif code == ABSTAIN:
                self._abstain[i] += n
            else:
                self._invalid_entries[i] += n
        for i, code in enumerate(directions):
            if code >= 0:
                self._directions[i][code] += n

    def result(self, attendance: Attendance | None = None,
               resolved: Mapping[str, dict[str, Any]] | None = None) -> dict[str, Any]:
        rnd = self.plan
        self._tally.fold()
        settled = settle(rnd.id, rnd.expected, rnd.present, rnd.issued, attendance)
        returned = self._tally.returned
        void = is_void(returned, settled.issued)
        doc: dict[str, Any] = {"id": rnd.id, "kind": rnd.kind.value}
        if rnd.title:
            doc["title"] = rnd.title
        doc["status"] = "void" if void else "counted"
        for name, value in settled._asdict().items():
            if value is not None:
                doc[name] = value
        doc.update(returned=returned, invalid=self._invalid_ballots)
        if rnd.threshold is not None:
            doc["threshold"] = rnd.threshold.text
        if rnd.adjust is not None:
            doc["adjust_threshold"] = rnd.adjust.text
        if not void:
            doc["subjects"] = [self._subject(i) for i in range(len(rnd.subjects))]
        return doc

    def _subject(self, index: int) -> dict[str, Any]:
        rnd = self.plan
        counts = self._grades[index]
        valid = sum(counts)
        rates: dict[str, str | None] = {g: text(percent(c, valid, rnd.rounding))
                                        for g, c in zip(rnd.grades, counts, strict=True)}
        best_two = sum(counts[:2])
        rates["competent_or_above"] = text(percent(best_two, valid, rnd.rounding))
        doc: dict[str, Any] = {
            "name": rnd.subjects[index], "valid": valid, "abstain": self._abstain[index],
            "invalid": self._invalid_entries[index], "counts": dict(zip(rnd.grades, counts, strict=True)),
            "rates": rates,
        }
        if rnd.grade_values is not None:
            total = sum((Fraction(v) * c for v, c in zip(rnd.grade_values, counts, strict=True)), Fraction(0))
            doc["score"] = text(quantize(total / valid, 2, rnd.rounding)) if valid else None
        if rnd.threshold is not None:
            doc["passes"] = rnd.threshold.passes(best_two, valid)
        if rnd.adjust is not None:
            doc["adjust"] = rnd.adjust.passes(counts[-1], valid)
        if rnd.directions:
            doc["directions"] = dict(zip(rnd.directions, self._directions[index], strict=True))
        return doc
