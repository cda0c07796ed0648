"""民主测评: reading an evaluation ballot and counting grades per subject (RULES §3).

One grade per subject; two or more grades make that entry invalid; no grade abstains. A ballot
over a grade quota is invalid as a whole. Per subject, N = its valid graded entries, and every
rate is over N: 优秀率, 称职 (称职-only), 基本称职率, 不称职率, and `competent_or_above`
(称职以上 = 优秀称职率, the best two grades). Quantified score = Σ value × count / N.

量化计分 by items (`items`, 德能勤绩廉): a score per item, from 0 to the item's full marks on
`item_step`. A subject left out (or `{}`) abstains; any other entry that is not a full, correct
row is invalid for that subject (the voter's mistake, never an input error): `check_items` is the
one check, which the kiosk's copy is held to. Per subject, each item's mean and the score (the
mean of the totals) over the N valid entries, kept exactly in step units and rounded once. Pure.
"""
from __future__ import annotations

from collections.abc import Hashable, Mapping
from fractions import Fraction
from typing import Any, Final, NamedTuple

from tally.rules.attendance import is_void, open_doc, settle
from tally.rules.errors import BallotInputError
from tally.rules.model import Attendance, EvaluateRound
from tally.rules.rounding import DECIMAL_TEXT, percent, quantize, text
from tally.rules.shape import check_fields, mapping_of, marked_invalid, unknown_key
from tally.rules.tallying import MarkCounter

FIELDS: Final = frozenset({"round", "grades", "directions", "invalid"})
ITEM_FIELDS: Final = frozenset({"round", "scores", "directions", "invalid"})
ABSTAIN: Final = -1
INVALID: Final = -2
# Why a subject's item entry is invalid (`check_items`); each is the voter's mistake.
ITEM_CODES: Final = ("item_missing", "item_unknown", "item_not_a_number", "item_out_of_range", "item_off_step")


class ItemsCheck(NamedTuple):
    """One subject's entry in an items round: `code` None (valid, `units` per item in steps and
    `total` the exact sum), "abstain", or why it is invalid (ITEM_CODES)."""

    code: str | None
    units: tuple[int, ...] | None = None
    total: Fraction | None = None


def check_items(rnd: EvaluateRound, entry: object) -> ItemsCheck:
    """The one check of a subject's item scores (`tally count`, the live count, the agreement test)."""
    assert rnd.items is not None
    if entry is None or entry == {}:
        return ItemsCheck("abstain")
    if type(entry) is not dict:
        return ItemsCheck("item_not_a_number")
    known = dict(rnd.items)
    for name in entry:
        if name not in known:
            return ItemsCheck("item_unknown")
    step = Fraction(rnd.item_step)
    units = []
    for name, full in rnd.items:
        if name not in entry:
            return ItemsCheck("item_missing")
        raw = entry[name]
        if type(raw) is int or (type(raw) is str and DECIMAL_TEXT.fullmatch(raw)):
            value = Fraction(raw)
        else:
            return ItemsCheck("item_not_a_number")
        if not 0 <= value <= full:
            return ItemsCheck("item_out_of_range")
        if value % step:
            return ItemsCheck("item_off_step")
        units.append(int(value / step))
    return ItemsCheck(None, tuple(units), sum(units) * step)

# (grade code per subject, direction code per subject) or None for a whole invalid ballot; in an
# items round each subject's mark is its scores in step units (a tuple), ABSTAIN or INVALID.
Marks = tuple[tuple[int | tuple[int, ...], ...], tuple[int, ...]] | None


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

    __slots__ = ("_directions", "_grades", "_known", "_quota", "_rnd", "_subjects")

    def __init__(self, rnd: EvaluateRound) -> None:
        self._rnd = rnd
        self._subjects = rnd.subjects
        self._known = frozenset(rnd.subjects)
        self._grades = {g: i for i, g in enumerate(rnd.grades)}
        self._directions = {d: i for i, d in enumerate(rnd.directions)}
        self._quota = tuple((self._grades[g], limit) for g, limit in rnd.quota)

    def parse(self, obj: Mapping[str, Any]) -> Marks:
        items = self._rnd.items is not None
        if items and "grades" in obj:
            raise BallotInputError("this round takes scores (items), not grades")
        if not items and "scores" in obj:
            raise BallotInputError("this round takes grades, not scores (it has no items)")
        check_fields(obj, ITEM_FIELDS if items else FIELDS)
        if marked_invalid(obj):
            return None
        directions = mapping_of(obj, "directions") or {}
        unknown_key(directions, self._known, "subject")
        if directions and not self._directions:
            raise BallotInputError("this round asks for no directions (使用意见)")
        direction_codes = tuple(_code(directions.get(s), self._directions, s, "direction")
                                for s in self._subjects) if directions else ()
        if items:
            scores = mapping_of(obj, "scores") or {}
            unknown_key(scores, self._known, "subject")
            return tuple(_item_marks(check_items(self._rnd, scores.get(s))) for s in self._subjects), direction_codes
        grades = mapping_of(obj, "grades") or {}
        unknown_key(grades, self._known, "subject")
        grade_codes = tuple(_code(grades.get(s), self._grades, s, "grade") for s in self._subjects)
        for grade, limit in self._quota:
            if grade_codes.count(grade) > limit:
                return None
        return grade_codes, direction_codes


def _item_marks(check: ItemsCheck) -> int | tuple[int, ...]:
    if check.code is None:
        assert check.units is not None
        return check.units
    return ABSTAIN if check.code == "abstain" else INVALID


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
        # Items: per subject N and Σ per item, in step units (exact integers).
        self._item_n = [0] * size
        self._item_sums = [[0] * len(rnd.items or ()) for _ in range(size)]
        self._start()

    def _absorb(self, marks: Hashable, n: int) -> None:
        if marks is None:
            self._invalid_ballots += n
            return
        assert isinstance(marks, tuple)
        grades, directions = marks
        for i, code in enumerate(grades):
            if isinstance(code, tuple):
                self._item_n[i] += n
                sums = self._item_sums[i]
                for j, units in enumerate(code):
                    sums[j] += units * n
            elif code >= 0:
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
        doc = open_doc(rnd)
        doc["status"] = "void" if void else "counted"
        for name, value in settled._asdict().items():
            if value is not None:
                doc[name] = value
        doc.update(returned=returned, invalid=self._invalid_ballots)
        if rnd.items is not None:
            doc.update(full_marks=dict(rnd.items), item_step=text(rnd.item_step))
        if rnd.threshold is not None:
            doc["threshold"] = rnd.threshold.text
        if rnd.advisory:
            doc["advisory"] = True
        if rnd.adjust is not None:
            doc["adjust_threshold"] = rnd.adjust.text
        if not void:
            subject = self._item_subject if rnd.items is not None else self._subject
            doc["subjects"] = [subject(i) for i in range(len(rnd.subjects))]
        return doc

    def _item_subject(self, index: int) -> dict[str, Any]:
        """N, 弃权, 无效, each item's mean and the score (the mean of the totals), rounded once."""
        rnd = self.plan
        assert rnd.items is not None
        n = self._item_n[index]
        step = Fraction(rnd.item_step)
        sums = self._item_sums[index]

        def mean(units: int) -> str | None:
            return text(quantize(units * step / n, 2, rnd.rounding)) if n else None

        doc: dict[str, Any] = {
            "name": rnd.subjects[index], "valid": n, "abstain": self._abstain[index],
            "invalid": self._invalid_entries[index],
            "items": {name: mean(total) for (name, _full), total in zip(rnd.items, sums, strict=True)},
            "score": mean(sum(sums)),
        }
        if rnd.directions:
            doc["directions"] = dict(zip(rnd.directions, self._directions[index], strict=True))
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
