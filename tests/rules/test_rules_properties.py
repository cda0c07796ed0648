"""Property tests (Hypothesis): the engine against the independent reference, and its invariants."""
from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

import reference
from hypothesis import given, settings
from hypothesis import strategies as st
from rules_strategies import contested_decisions, meeting_and_ballots, meetings

from tally.plan import dump_plan, parse_plan
from tally.rules import count_meeting, rank, trimmed_result

SETTINGS = settings(max_examples=300, deadline=None)


@SETTINGS
@given(meeting_and_ballots())
def test_engine_matches_the_reference_field_by_field(case):
    meeting, ballots = case
    plan = parse_plan(meeting, "generated")
    got = count_meeting(plan, enumerate(ballots, 1))
    want = reference.count(meeting, ballots)
    for mine, theirs in zip(got["rounds"], want["rounds"], strict=True):
        assert mine == theirs, mine["id"]
    assert got == want


@settings(max_examples=150, deadline=None)
@given(contested_decisions())
def test_contested_decisions_match_the_reference(case):
    meeting, ballots = case
    assert count_meeting(parse_plan(meeting, "generated"), enumerate(ballots, 1)) == reference.count(meeting, ballots)


@SETTINGS
@given(meeting_and_ballots(), st.randoms(use_true_random=False))
def test_counting_in_any_order_gives_the_same_result(case, rnd):
    meeting, ballots = case
    plan = parse_plan(meeting, "generated")
    shuffled = list(ballots)
    rnd.shuffle(shuffled)
    assert count_meeting(plan, enumerate(ballots, 1)) == count_meeting(plan, enumerate(shuffled, 1))


@SETTINGS
@given(meeting_and_ballots())
def test_valid_plus_invalid_is_returned_per_section(case):
    meeting, ballots = case
    doc = count_meeting(parse_plan(meeting, "generated"), enumerate(ballots, 1))
    for rnd in doc["rounds"]:
        if rnd["kind"] == "recommend" and rnd["status"] != "void":
            for post in rnd["posts"]:
                assert post["valid"] + post["invalid"] == rnd["returned"]
                assert post["blank"] <= post["valid"]
                assert sum(c["votes"] for c in post["candidates"]) <= post["seats"] * (post["valid"] - post["blank"])
        if rnd["kind"] == "evaluate" and rnd["status"] != "void":
            for s in rnd["subjects"]:
                assert s["valid"] + s["abstain"] + s["invalid"] + rnd["invalid"] == rnd["returned"]
        if rnd["kind"] == "decide" and rnd["status"] != "void":
            for n in rnd["nominees"]:
                assert n["agree"] + n["disagree"] + n["abstain"] <= rnd["returned"] - rnd["invalid"]


@SETTINGS
@given(meetings())
def test_a_dumped_plan_reads_back_equal(meeting):
    plan = parse_plan(meeting, "generated")
    assert parse_plan(dump_plan(plan), "dumped") == plan


scores = st.lists(st.integers(0, 1000).map(lambda u: Decimal(u) / 10), max_size=40)


@SETTINGS
@given(scores, st.integers(0, 6), st.randoms(use_true_random=False))
def test_trimmed_mean_lies_between_kept_extremes_and_ignores_order(values, trim, rnd):
    r = trimmed_result(values, trim, "half_up", 2, Decimal("0.1"))
    shuffled = list(values)
    rnd.shuffle(shuffled)
    # Values do not depend on the order; the struck positions (a list's seats) do.
    assert replace(trimmed_result(shuffled, trim, "half_up", 2, Decimal("0.1")), struck=()) == replace(r, struck=())
    if len(values) < 2 * trim + 1:
        assert not r.complete and r.mean is None
        return
    assert r.complete and len(r.kept) == len(values) - 2 * trim
    assert min(r.kept) <= r.exact_mean <= max(r.kept)
    assert min(r.kept) <= r.mean <= max(r.kept)  # rounding to 2 places of 0.1-step scores stays inside
    assert sorted(list(r.dropped_low) + list(r.kept) + list(r.dropped_high)) == sorted(values)
    assert all(low <= k <= high for k in r.kept for low in r.dropped_low for high in r.dropped_high)


@SETTINGS
@given(st.dictionaries(st.integers(1, 30), st.integers(0, 20).map(lambda u: Decimal(u) * 5), max_size=30),
       st.integers(0, 6))
def test_struck_marks_name_distinct_seats_holding_the_dropped_values(by_seat, trim):
    """The marks come from where the rule is applied: k seats low, k other seats high, and the
    values under the marks are exactly the dropped values, however often a value repeats."""
    r = trimmed_result(by_seat, trim, "half_up", 2, Decimal(1))
    if not r.complete:
        assert r.struck == ()
        return
    high = [seat for seat, end in r.struck if end == "high"]
    low = [seat for seat, end in r.struck if end == "low"]
    assert len(high) == len(low) == trim and len(set(high + low)) == 2 * trim
    assert sorted(by_seat[s] for s in high) == sorted(r.dropped_high)
    assert sorted(by_seat[s] for s in low) == sorted(r.dropped_low)
    kept = [v for s, v in by_seat.items() if s not in high + low]
    assert all(by_seat[lo] <= k <= by_seat[hi] for k in kept for lo in low for hi in high)


@SETTINGS
@given(st.dictionaries(st.text(min_size=1, max_size=3), st.tuples(st.integers(0, 5), st.integers(0, 2)), max_size=12))
def test_ranks_are_competition_ranks(keys):
    places = rank(keys)
    for name, place in places.items():
        assert place == 1 + sum(1 for other in keys.values() if other > keys[name])
    if keys:
        assert min(places.values()) == 1
    # places skip after a tie: 1, 1, 3
    counts = sorted(places.values())
    for i, p in enumerate(counts):
        assert p <= i + 1
