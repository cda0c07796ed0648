"""Every worked example of RULES.md §8, as tables, through the engine's public API."""
from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

import pytest
from contract_ballots import WORKED_30

from tally.plan import parse_plan
from tally.rules import Threshold, count_meeting, rank, rank_contestants, trimmed_result


def D(*values: object) -> list[Decimal]:
    return [Decimal(str(v)) for v in values]


@pytest.mark.parametrize(("scores", "trim", "mean", "high", "low"), [
    (WORKED_30, 5, "88.55", ["96.0", "95.0", "94.0", "93.0", "92.0"], ["81.0", "82.0", "83.0", "84.0", "85.0"]),
    ([85.5, 88, 90, 86.5, 92, 79, 88], 1, "87.60", ["92.0"], ["79.0"]),
    ([90, 90, 86, 80, 80], 1, "85.33", ["90.0"], ["80.0"]),  # drop instances, not values
    ([88, 90, 88], 1, "88.00", ["90.0"], ["88.0"]),
    ([88], 0, "88.00", [], []),
])
def test_trimmed_mean_worked_examples(scores, trim, mean, high, low):
    r = trimmed_result(D(*scores), trim, "half_up", 2, Decimal("0.1"))
    assert r.complete
    assert str(r.mean) == mean
    assert [str(s) for s in r.dropped_high] == high
    assert [str(s) for s in r.dropped_low] == low
    assert len(r.kept) == len(scores) - 2 * trim


def test_thirty_judges_kept_sum_and_plain_mean():
    r = trimmed_result(D(*WORKED_30), 5, "half_up", 2, Decimal("0.1"))
    assert sum(r.kept) == 1771 and len(r.kept) == 20
    assert str(r.full_mean) == "88.53"  # the plain mean the rule must not use


@pytest.mark.parametrize(("scores", "trim"), [([88, 90], 1), ([], 0), ([1, 2, 3, 4], 2)])
def test_too_few_scores_is_incomplete(scores, trim):
    r = trimmed_result(D(*scores), trim, "half_up", 2, Decimal("0.1"))
    assert not r.complete and r.mean is None and r.dropped_high == () and r.count == len(scores)


@pytest.mark.parametrize(("votes", "passes_third", "rate"), [
    (58, True, "48.33"), (40, True, "33.33"), (12, False, "10.00"), (3, False, "2.50"), (2, False, "1.67"),
])
def test_recommendation_rates_over_present(votes, passes_third, rate):
    from tally.rules import percent
    assert str(percent(votes, 120)) == rate
    assert Threshold.parse(">=1/3").passes(votes, 120) is passes_third


def test_sole_candidate_with_58_of_120_is_flagged():
    assert not Threshold.parse(">1/2").passes(58, 120)


def _decide(present: int, agree: int, disagree: int, abstain: int, defer: bool) -> dict:
    meeting = {"meeting": {"title": "t"}, "rounds": [
        {"id": "d1", "kind": "decide", "expected": 25, "present": present, "nominees": ["王五"],
         **({"defer_rule": ">30%"} if defer else {})}]}
    ballots = ([{"round": "d1", "votes": {"王五": "agree"}}] * agree
               + [{"round": "d1", "votes": {"王五": "disagree"}}] * disagree
               + [{"round": "d1", "votes": {"王五": "abstain"}}] * abstain)
    doc = count_meeting(parse_plan(meeting, "t"), enumerate(ballots, 1))
    return doc["rounds"][0]


@pytest.mark.parametrize(("present", "votes", "defer", "outcome"), [
    (22, (14, 4, 4), True, "deferred"),
    (22, (14, 4, 4), False, "passed"),
    (16, (14, 1, 1), True, "no_quorum"),
    (17, (12, 2, 3), True, "not_passed"),  # 12 ≤ 12.5 although 71% of those present agreed
    (17, (13, 2, 2), True, "passed"),  # 13 > 12.5; 不同意+弃权 = 4 ≤ 7.5
    (22, (13, 4, 3), True, "deferred"),  # 4+3+未按 2 = 9 > 7.5
    (21, (13, 4, 3), True, "deferred"),  # 4+3+未按 1 = 8 of 25 = 32% > 30%: 未按 counts with 弃权
    (20, (13, 3, 3), True, "passed"),  # 3+3+未按 1 = 7 of 25 = 28%
])
def test_decision_vote_of_25_members(present, votes, defer, outcome):
    result = _decide(present, *votes, defer)
    assert result["nominees"][0]["outcome"] == outcome
    assert result["quorum_met"] is (present >= 17)


def test_decision_boundaries_majority_13_and_thirty_percent_at_8():
    assert Threshold.parse(">1/2").passes(13, 25) and not Threshold.parse(">1/2").passes(12, 25)
    assert Threshold.parse(">30%").passes(8, 25) and not Threshold.parse(">30%").passes(7, 25)


def test_evaluation_worked_example(contract_meeting):
    from contract_ballots import contract_ballots

    from tally.plan import load_plan
    doc = count_meeting(load_plan(contract_meeting), enumerate(contract_ballots(), 1))
    e1 = next(r for r in doc["rounds"] if r["id"] == "e1")
    subject = e1["subjects"][0]
    assert subject["valid"] == 57
    assert subject["rates"] == {"优秀": "52.63", "称职": "35.09", "基本称职": "8.77", "不称职": "3.51",
                                "competent_or_above": "87.72"}
    assert subject["score"] == "85.96" and subject["passes"] is True


COMPOSITE = {"meeting": {"title": "t"}, "rounds": [{
    "id": "c1", "kind": "composite", "components": [
        {"name": "笔试", "weight": 40, "scores": {"A": "82.5", "B": "88.0", "C": "79.0", "D": "85.0"}},
        {"name": "面试", "weight": 40, "scores": {"A": "86.40", "B": "83.20", "C": "88.60", "D": "85.90"}},
        {"name": "测评", "weight": 20, "scores": {"A": "90.00", "B": "85.00", "C": "88.00", "D": "86.00"}}],
}]}


@pytest.mark.parametrize(("tie_break", "places", "order"), [
    ([], {"A": 1, "D": 1, "B": 3, "C": 4}, None),
    (["面试"], {"A": 1, "D": 2, "B": 3, "C": 4}, "ADBC"),
    (["笔试"], {"D": 1, "A": 2, "B": 3, "C": 4}, "DABC"),
    (["面试", "笔试"], {"A": 1, "D": 2, "B": 3, "C": 4}, "ADBC"),
])
def test_composite_worked_example(tie_break, places, order):
    meeting = {**COMPOSITE, "rounds": [{**COMPOSITE["rounds"][0], "tie_break": tie_break, "shortlist": 1}]}
    doc = count_meeting(parse_plan(meeting, "t"), [])
    people = {c["name"]: c for c in doc["rounds"][0]["candidates"]}
    assert {n: c["composite"] for n, c in people.items()} == {"A": "85.56", "B": "85.48", "C": "84.64", "D": "85.56"}
    assert {n: c["rank"] for n, c in people.items()} == places
    if order:
        assert "".join(sorted(people, key=lambda n: people[n]["rank"])) == order
    # a shortlist of one takes everyone tied at the cut
    assert {n for n, c in people.items() if c["shortlisted"]} == {n for n, p in places.items() if p == 1}


def test_composite_floats_would_be_wrong_and_fractions_are_not():
    assert 0.4 * 85 + 0.4 * 85.9 + 0.2 * 86 != 85.56
    assert Fraction(40 * 85 + 40 * Fraction("85.9") + 20 * 86, 100) == Fraction("85.56")


def test_ranks_share_places():
    assert rank({"a": (2,), "b": (2,), "c": (1,)}) == {"a": 1, "b": 1, "c": 3}
    results = {n: trimmed_result(D(*s), 0, "half_up", 2, Decimal(1)) for n, s in
               {"x": [90], "y": [90], "z": [80], "w": []}.items()}
    assert rank_contestants(results) == {"x": 1, "y": 1, "z": 3}


ITEMS_PLAN = {"meeting": {"title": "量化计分"}, "rounds": [
    {"id": "e2", "kind": "evaluate", "subjects": ["张三"], "items": {"德": 20, "能": 20, "勤": 20, "绩": 25, "廉": 15},
     "item_step": "0.5"}]}


def test_items_example():
    """RULES §8 Items: entries totalling 90, 85.5 and 77 → 84.17; a fourth with 绩 26 is invalid."""
    entries = [{"德": "18", "能": "18", "勤": "18", "绩": "22", "廉": "14"},          # 90
               {"德": "17.5", "能": "17", "勤": "18", "绩": "20", "廉": "13"},       # 85.5
               {"德": 15, "能": "15", "勤": "16", "绩": "19", "廉": "12"},           # 77 (a JSON integer is fine)
               {"德": "18", "能": "18", "勤": "18", "绩": "26", "廉": "14"}]          # 绩 26 > 25
    ballots = [(i, {"round": "e2", "scores": {"张三": e}}) for i, e in enumerate(entries, 1)]
    doc = count_meeting(parse_plan(ITEMS_PLAN, "m"), ballots)["rounds"][0]
    subject = doc["subjects"][0]
    assert subject["score"] == "84.17" and (subject["valid"], subject["invalid"], subject["abstain"]) == (3, 1, 0)
    assert subject["items"] == {"德": "16.83", "能": "16.67", "勤": "17.33", "绩": "20.33", "廉": "13.00"}
    assert list(subject["items"]) == ["德", "能", "勤", "绩", "廉"]  # the file's order
    assert doc["full_marks"] == {"德": 20, "能": 20, "勤": 20, "绩": 25, "廉": 15} and doc["item_step"] == "0.5"
    assert "counts" not in subject and "rates" not in subject and "passes" not in subject
    # The score is the mean of the totals, rounded once: not the sum of the rounded item means (84.16).
    assert Fraction(90 + Fraction(171, 2) + 77, 3) == Fraction(5050, 60)
