"""票决: reading a decision ballot and deciding each nominee (RULES §4).

同意 must exceed half of all members (应到), not of those present. 未按 (a nominee left out, or
a ballot not cast) is `not_voted` = present − agree − disagree − abstain: it is not 同意 for the
majority and counts with 弃权 for the optional 30% rule, which defers (暂缓) a nominee who has
the majority; a nominee without it is not passed, never deferred. The 30% rule is for 等额票决
only (a plan that sets it with `seats` is refused). With `seats` (差额票决) a member agrees with at most `seats` nominees (more
makes the ballot invalid) and the winners by 同意 take the seats; nominees tied at the last seat
get `tie` (a new vote among them). Pure.
"""
from __future__ import annotations

from collections.abc import Hashable, Mapping
from typing import Any, Final

from tally.rules.attendance import quorum_round_head
from tally.rules.errors import BallotInputError
from tally.rules.model import Attendance, DecideRound
from tally.rules.shape import check_fields, mapping_of, marked_invalid, unknown_key
from tally.rules.tallying import MarkCounter

FIELDS: Final = frozenset({"round", "votes", "invalid"})
CHOICES: Final = {"agree": 0, "disagree": 1, "abstain": 2}
NOT_VOTED: Final = 3

Marks = tuple[int, ...] | None


class DecideForm:
    """Turns a decide ballot into marks; raises BallotInputError on bad input."""

    __slots__ = ("_known", "_nominees", "_seats")

    def __init__(self, rnd: DecideRound) -> None:
        self._nominees = rnd.nominees
        self._known = frozenset(rnd.nominees)
        self._seats = rnd.seats

    def parse(self, obj: Mapping[str, Any]) -> Marks:
        if len(obj) != 2 or "votes" not in obj:
            check_fields(obj, FIELDS)
            if marked_invalid(obj):
                return None
        votes = mapping_of(obj, "votes") or {}
        if not self._known.issuperset(votes):
            unknown_key(votes, self._known, "nominee")
        codes = []
        for nominee in self._nominees:
            choice = votes.get(nominee)
            if choice is None:
                codes.append(NOT_VOTED)
            elif type(choice) is str and choice in CHOICES:
                codes.append(CHOICES[choice])
            else:
                raise BallotInputError(
                    f"vote for {nominee!r} must be agree, disagree or abstain, not {choice!r}")
        if self._seats is not None and codes.count(0) > self._seats:
            return None
        return tuple(codes)


class DecideCounter(MarkCounter):
    """Counts one decide round; `result()` is its contract document."""

    def __init__(self, rnd: DecideRound) -> None:
        self.plan = rnd
        self._counts = [[0, 0, 0] for _ in rnd.nominees]
        self._invalid = 0
        self._start()

    def _absorb(self, marks: Hashable, n: int) -> None:
        if marks is None:
            self._invalid += n
            return
        assert isinstance(marks, tuple)
        for counts, code in zip(self._counts, marks, strict=True):
            if code != NOT_VOTED:
                counts[code] += n

    def result(self, attendance: Attendance | None = None,
               resolved: Mapping[str, dict[str, Any]] | None = None) -> dict[str, Any]:
        rnd = self.plan
        self._tally.fold()
        returned = self._tally.returned
        doc, expected, present, _issued, quorum, void = quorum_round_head(rnd, returned, attendance)
        doc.update(invalid=self._invalid, quorum_met=quorum, threshold=rnd.threshold.text)
        if rnd.defer_rule is not None:
            doc["defer_rule"] = rnd.defer_rule.text
        if rnd.seats is not None:
            doc["seats"] = rnd.seats
        if void:
            return doc
        nominees = []
        for name, (agree, disagree, abstain) in zip(rnd.nominees, self._counts, strict=True):
            not_voted = present - agree - disagree - abstain
            nominees.append({"name": name, "agree": agree, "disagree": disagree, "abstain": abstain,
                             "not_voted": not_voted, "outcome": outcome(rnd, quorum, expected, agree, disagree,
                                                                        abstain, not_voted)})
        if rnd.seats is not None:
            _seat(nominees, rnd.seats)
        doc["nominees"] = nominees
        return doc


def outcome(rnd: DecideRound, quorum: bool, expected: int, agree: int, disagree: int, abstain: int,
            not_voted: int) -> str:
    """One nominee's outcome, decided in CONTRACT.md's order: no quorum; then the majority (a nominee
    without it is `not_passed`, never deferred: 暂缓 postpones an appointment that would otherwise be
    made); then the optional 30% rule (未按 counts with 弃权); else `passed`."""
    if not quorum:
        return "no_quorum"
    if not rnd.threshold.passes(agree, expected):
        return "not_passed"
    if rnd.defer_rule is not None and rnd.defer_rule.passes(disagree + abstain + not_voted, expected):
        return "deferred"
    return "passed"


def _seat(nominees: list[dict[str, Any]], seats: int) -> None:
    """差额: passed nominees take the seats by 同意; a tie across the last seat elects none of the tied."""
    for n in nominees:
        n["elected"] = False
    passed = sorted((n for n in nominees if n["outcome"] == "passed"), key=lambda n: -n["agree"])
    if len(passed) <= seats:
        for n in passed:
            n["elected"] = True
        return
    last = passed[seats - 1]["agree"]
    tied_across = passed[seats]["agree"] == last
    for n in passed:
        if n["agree"] > last or (n["agree"] == last and not tied_across):
            n["elected"] = True
        elif n["agree"] == last:
            n["outcome"] = "tie"
