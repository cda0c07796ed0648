"""评分: reading judges' score lines and counting a panel per contestant (RULES §5).

One line per judge per contestant (`{"round", "judge", "contestant", "score"}`); a second line
for the same pair is an input error (a correction is a new version by the chair, made live).
Scores are exact decimals within [min, max] on the plan's step. Pure.
"""
from __future__ import annotations

import re
from collections.abc import Mapping
from decimal import Decimal
from fractions import Fraction
from typing import Any, Final

from tally.rules.errors import BallotInputError, ScoreValueError
from tally.rules.model import Attendance, ScoreRound
from tally.rules.rounding import DECIMAL_TEXT, text
from tally.rules.shape import check_fields
from tally.rules.trimmed import ScoreResult, rank_contestants, trimmed_result

FIELDS: Final = frozenset({"round", "judge", "contestant", "score"})
JUDGE: Final = re.compile(r"[A-Za-z0-9_-]{1,32}")

Marks = tuple[str, int, Decimal]


def score_value(rnd: ScoreRound, raw: object) -> Decimal:
    """A judge's score as the exact decimal it is: a decimal string (or a JSON integer) within
    the plan's range, on its step. The one check of a score: `tally count`, the live intake and
    the judge's pad (`kiosk.scores`, a copy held to the same cases by a test) all apply it."""
    if type(raw) is int or (type(raw) is str and DECIMAL_TEXT.fullmatch(raw)):
        score = Decimal(raw)
    else:
        detail = f'score {raw!r} must be a decimal string such as "88.5"'
        raise ScoreValueError("bad_score", "The score must be a number.", detail)
    if not score:
        score = abs(score)  # "-0" is a zero, printed without a sign
    if not rnd.min <= score <= rnd.max:
        detail = f"score {raw} is outside {rnd.min}–{rnd.max}"
        raise ScoreValueError("score_out_of_range", "The score must be between %(min)s and %(max)s.", detail,
                              min=str(rnd.min), max=str(rnd.max))
    if (Fraction(score) - Fraction(rnd.min)) % Fraction(rnd.step):  # exact: Decimal rounds at 28 digits
        detail = f"score {raw} is not on the step {rnd.step}"
        raise ScoreValueError("score_off_step", "The score must be a multiple of %(step)s.", detail, step=str(rnd.step))
    return score


class ScoreForm:
    """Turns a score line into marks (judge, contestant index, score)."""

    __slots__ = ("_index", "_plan")

    def __init__(self, rnd: ScoreRound) -> None:
        self._index = {c: i for i, c in enumerate(rnd.contestants)}
        self._plan = rnd

    def parse(self, obj: Mapping[str, Any]) -> Marks:
        if obj.keys() != FIELDS:
            check_fields(obj, FIELDS)
            missing = sorted(FIELDS - obj.keys())
            raise BallotInputError(f"a score line needs {', '.join(missing)}")
        judge, contestant, raw = obj.get("judge"), obj.get("contestant"), obj.get("score")
        if type(judge) is not str or not JUDGE.fullmatch(judge):
            raise BallotInputError(f"judge {judge!r} is not a judge id (letters, digits, - or _)")
        if contestant not in self._index:
            raise BallotInputError(f"contestant {contestant!r} is not in the meeting file")
        return judge, self._index[contestant], score_value(self._plan, raw)


class ScoreCounter:
    """Counts one score round; `result()` is its contract document."""

    def __init__(self, rnd: ScoreRound) -> None:
        self.plan = rnd
        self._scores: list[dict[str, Decimal]] = [{} for _ in rnd.contestants]  # judge id → score
        self._seen: set[tuple[str, int]] = set()
        self._judges: set[str] = set()

    def add(self, ballot: Any) -> None:
        self.add_marks(ballot.marks)

    def fold(self) -> None:
        """Scores are kept one by one (bounded by judges × contestants): nothing to fold."""

    def add_marks(self, marks: Marks) -> None:
        judge, index, score = marks
        if (judge, index) in self._seen:
            raise BallotInputError(f"judge {judge} already scored {self.plan.contestants[index]!r}; "
                                   "a correction is a new version made by the chair")
        if judge not in self._judges and len(self._judges) >= self.plan.judges:
            raise BallotInputError(f"judge {judge} would make more judges than the panel of {self.plan.judges}")
        self._seen.add((judge, index))
        self._judges.add(judge)
        self._scores[index][judge] = score

    def results(self) -> dict[str, ScoreResult]:
        """Each contestant's panel result, its struck marks by judge id."""
        rnd = self.plan
        return {name: trimmed_result(scores, rnd.trim, rnd.rounding, rnd.decimals, rnd.step)
                for name, scores in zip(rnd.contestants, self._scores, strict=True)}

    def result(self, attendance: Attendance | None = None,
               resolved: Mapping[str, dict[str, Any]] | None = None) -> dict[str, Any]:
        rnd = self.plan
        results = self.results()
        ranks = rank_contestants(results, rnd.tie_break)
        contestants = []
        for name, r in results.items():
            entry: dict[str, Any] = {"name": name, "status": "complete" if r.complete else "incomplete",
                                     "count": r.count}
            if r.complete:
                entry.update(mean=text(r.mean),
                             dropped_high=[text(s) for s in r.dropped_high],
                             dropped_low=[text(s) for s in r.dropped_low],
                             rank=ranks[name])
                if rnd.tie_break:
                    entry["full_mean"] = text(r.full_mean)
            if rnd.shortlist is not None:
                entry["shortlisted"] = name in ranks and ranks[name] <= rnd.shortlist
            contestants.append(entry)
        doc: dict[str, Any] = {"id": rnd.id, "kind": rnd.kind.value}
        if rnd.title:
            doc["title"] = rnd.title
        doc.update(status="counted", judges=rnd.judges, trim=rnd.trim, contestants=contestants)
        return doc
