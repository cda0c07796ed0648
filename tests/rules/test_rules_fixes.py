"""Three counting fixes (issue 11), as tables through the engine's public API.

1. 票决: the majority decides first. A nominee without 同意 > half of 应到 is `not_passed`, never
   `deferred` (RULES §4, §8: 25 members, 12/5/3 with 2 未按 → not passed).
2. The 30% rule is for 等额票决 only: a plan that sets `defer_rule` with `seats` is refused.
3. 亮分: the engine says which instances (by seat) are dropped, so equal values at both ends are
   marked once each, on distinct seats (7 judges all 90, trim 1: one seat high, one seat low).
"""
from __future__ import annotations

from decimal import Decimal

import pytest
from contract_ballots import WORKED_30

from tally.plan import PlanError, parse_plan
from tally.rules import DecideRound, Threshold, count_meeting, trimmed_result


def decide(present: int, agree: int, disagree: int, abstain: int, *, defer: bool, expected: int = 25) -> dict:
    meeting = {"meeting": {"title": "t"}, "rounds": [
        {"id": "d1", "kind": "decide", "expected": expected, "present": present, "nominees": ["王五"],
         **({"defer_rule": ">30%"} if defer else {})}]}
    ballots = ([{"round": "d1", "votes": {"王五": "agree"}}] * agree
               + [{"round": "d1", "votes": {"王五": "disagree"}}] * disagree
               + [{"round": "d1", "votes": {"王五": "abstain"}}] * abstain)
    return count_meeting(parse_plan(meeting, "t"), enumerate(ballots, 1))["rounds"][0]["nominees"][0]


# RULES.md §8, 25 members (majority needs 13 同意; the 30% rule defers at 不同意+弃权+未按 ≥ 8).
@pytest.mark.parametrize(("present", "votes", "defer", "outcome", "not_voted"), [
    (22, (14, 4, 4), True, "deferred", 0),      # the majority, but 8 > 7.5 against: 暂缓
    (22, (14, 4, 4), False, "passed", 0),       # the same without the rule
    (22, (12, 5, 3), True, "not_passed", 2),    # 12 ≤ 12.5: not passed, although 5+3+2 = 10 > 7.5 too
    (22, (12, 5, 3), False, "not_passed", 2),
    (25, (12, 13, 0), True, "not_passed", 0),   # the whole other half against: still not 暂缓
    (16, (14, 1, 1), True, "no_quorum", 0),
    (17, (12, 2, 3), True, "not_passed", 0),    # 12 ≤ 12.5 although 71% of those present agreed
    (17, (13, 2, 2), True, "passed", 0),
    (21, (13, 4, 3), True, "deferred", 1),      # 4+3+未按 1 = 8 of 25 > 30%: 未按 counts with 弃权
])
def test_the_majority_decides_before_the_thirty_percent_rule(present, votes, defer, outcome, not_voted):
    nominee = decide(present, *votes, defer=defer)
    assert nominee["outcome"] == outcome
    assert nominee["not_voted"] == not_voted


def test_a_defer_rule_with_seats_is_a_plan_error_naming_its_place():
    meeting = {"meeting": {"title": "t"}, "rounds": [
        {"id": "d2", "kind": "decide", "expected": 11, "present": 11, "nominees": ["李四", "王五"],
         "seats": 1, "defer_rule": ">30%"}]}
    with pytest.raises(PlanError) as caught:
        parse_plan(meeting, "meeting.yaml")
    assert "rounds[0].defer_rule" in str(caught.value) and "等额" in str(caught.value)


def test_the_engine_refuses_a_defer_rule_with_seats_too():
    with pytest.raises(ValueError, match="等额"):
        DecideRound(id="d2", expected=11, nominees=("李四", "王五"), seats=1, defer_rule=Threshold.parse(">30%"))


def D(*values: object) -> list[Decimal]:
    return [Decimal(str(v)) for v in values]


def marks(scores: dict[int, Decimal], trim: int) -> tuple[list[int], list[int]]:
    r = trimmed_result(scores, trim, "half_up", 2, Decimal("0.1"))
    return ([seat for seat, end in r.struck if end == "high"], [seat for seat, end in r.struck if end == "low"])


@pytest.mark.parametrize(("scores", "trim", "high", "low", "mean"), [
    # 7 judges all 90, trim 1: one seat high, another seat low (by seat order: 7 high, 1 low).
    ({n: Decimal(90) for n in range(1, 8)}, 1, [7], [1], "90.00"),
    # RULES §5: 90, 90, 86, 80, 80, k = 1: one of the two 90s and one of the two 80s.
    (dict(zip([1, 2, 3, 4, 5], D(90, 90, 86, 80, 80), strict=True)), 1, [2], [4], "85.33"),
    # Equal values at a cut, seats given out of order: the value, then the seat, decides.
    (dict(zip([5, 3, 9, 1], D(88, 88, 88, 70), strict=True)), 1, [9], [1], "88.00"),
    # RULES §8, 30 judges, k = 5: one of the two 85s (seats 3, 26) and one of the two 92s (2, 28).
    (dict(enumerate(D(*WORKED_30), start=1)), 5, [29, 14, 21, 9, 28], [30, 15, 22, 10, 3], "88.55"),
    # All equal, trim 2 of 5: four distinct seats struck, one kept.
    ({n: Decimal(80) for n in range(1, 6)}, 2, [5, 4], [1, 2], "80.00"),
])
def test_strike_marks_come_from_the_rule_by_seat(scores, trim, high, low, mean):
    r = trimmed_result(scores, trim, "half_up", 2, Decimal("0.1"))
    assert str(r.mean) == mean
    assert marks(scores, trim) == (high, low)
    assert [scores[s] for s in high] == list(r.dropped_high)  # highest first
    assert [scores[s] for s in low] == list(r.dropped_low)    # lowest first
    assert r.strike_of(high[0]) == "high" and r.strike_of(low[0]) == "low"


def test_incomplete_panels_strike_nothing():
    r = trimmed_result({1: Decimal(88), 2: Decimal(90)}, 1, "half_up", 2, Decimal("0.1"))
    assert not r.complete and r.struck == () and r.strike_of(1) is None
