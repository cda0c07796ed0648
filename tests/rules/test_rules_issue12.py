"""Rules of issue 12, as tables and properties: item scores, `threshold: none` and `top`."""
from __future__ import annotations

from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tally.plan import parse_plan
from tally.rules import BallotInputError, count_meeting, quantize
from tally.rules.evaluate import check_items

ITEMS = {"德": 20, "能": 20, "勤": 20, "绩": 25, "廉": 15}


def items_plan(step: str = "0.5", directions: bool = False):
    rnd = {"id": "e", "kind": "evaluate", "subjects": ["张三", "李四"], "items": dict(ITEMS), "item_step": step}
    if directions:
        rnd["directions"] = ["提拔", "留任"]
    return parse_plan({"meeting": {"title": "m"}, "rounds": [rnd]}, "m")


FULL = {"德": "18", "能": "17.5", "勤": "19", "绩": "22", "廉": "14"}


@pytest.mark.parametrize(("entry", "code", "total"), [
    (FULL, None, Fraction(181, 2)),
    ({}, "abstain", None),
    (None, "abstain", None),
    ({"德": "18"}, "item_missing", None),
    ({**FULL, "绩": "26"}, "item_out_of_range", None),
    ({**FULL, "德": "-1"}, "item_out_of_range", None),
    ({**FULL, "德": "17.3"}, "item_off_step", None),
    ({**FULL, "德": "17.25"}, "item_off_step", None),
    ({**FULL, "德": "abc"}, "item_not_a_number", None),
    ({**FULL, "德": 17.5}, "item_not_a_number", None),  # a JSON float is never exact enough to trust
    ({**FULL, "德": True}, "item_not_a_number", None),
    ({**FULL, "德": ["18"]}, "item_not_a_number", None),
    ({**FULL, "德": "1e1"}, "item_not_a_number", None),
    ({**FULL, "才": "5"}, "item_unknown", None),
    ({**FULL, "德": 18}, None, Fraction(181, 2)),
    ({**FULL, "德": "18.50"}, None, Fraction(182, 2)),
    ({**FULL, "德": "0", "绩": "25"}, None, Fraction(151, 2)),
    ("90", "item_not_a_number", None),
])
def test_check_items_table(entry, code, total):
    got = check_items(items_plan().round("e"), entry)  # type: ignore[arg-type]
    assert got.code == code and got.total == total


def test_an_invalid_item_entry_is_the_voters_mistake_not_an_input_error():
    plan = items_plan(directions=True)
    ballots = [{"round": "e", "scores": {"张三": {**FULL, "绩": "26"}, "李四": FULL}, "directions": {"张三": "提拔"}},
               {"round": "e", "scores": {"张三": FULL}}, {"round": "e", "invalid": True}]
    doc = count_meeting(plan, enumerate(ballots, 1))["rounds"][0]
    zhang, li = doc["subjects"]
    assert (zhang["valid"], zhang["invalid"], zhang["abstain"]) == (1, 1, 0)
    assert (li["valid"], li["invalid"], li["abstain"]) == (1, 0, 1)
    assert zhang["directions"] == {"提拔": 1, "留任": 0} and doc["invalid"] == 1 and doc["returned"] == 3


@pytest.mark.parametrize(("ballot", "message"), [
    ({"round": "e", "grades": {"张三": "优秀"}}, "this round takes scores (items), not grades"),
    ({"round": "e", "scores": {"王五": FULL}}, "subject '王五' is not in the meeting file"),
    ({"round": "e", "scores": ["张三"]}, '"scores" must be an object'),
    ({"round": "e", "scores": {}, "extra": 1}, "unknown field 'extra'"),
])
def test_items_input_errors(ballot, message):
    with pytest.raises(BallotInputError, match=message.replace("(", r"\(").replace(")", r"\)")):
        count_meeting(items_plan(), [(1, ballot)])


def test_scores_in_a_grades_round_are_an_input_error():
    plan = parse_plan({"meeting": {"title": "m"}, "rounds": [{"id": "e", "kind": "evaluate", "subjects": ["张三"]}]}, "m")
    with pytest.raises(BallotInputError, match="this round takes grades, not scores"):
        count_meeting(plan, [(1, {"round": "e", "scores": {"张三": FULL}})])


def test_no_valid_entry_gives_null_means():
    doc = count_meeting(items_plan(), [(1, {"round": "e", "scores": {"张三": {}}})])["rounds"][0]
    assert doc["subjects"][0]["score"] is None and set(doc["subjects"][0]["items"].values()) == {None}


def test_a_composite_takes_the_items_score():
    plan = parse_plan({"meeting": {"title": "m"}, "rounds": [
        {"id": "e", "kind": "evaluate", "subjects": ["张三"], "items": ITEMS, "item_step": "0.5"},
        {"id": "c", "kind": "composite", "components": [{"name": "笔试", "weight": 50, "scores": {"张三": 80}},
                                                        {"name": "测评", "weight": 50, "round": "e"}]}]}, "m")
    doc = count_meeting(plan, [(1, {"round": "e", "scores": {"张三": FULL}})])
    assert doc["rounds"][1]["candidates"][0]["components"] == {"笔试": "80.00", "测评": "90.50"}
    assert doc["rounds"][1]["candidates"][0]["composite"] == "85.25"


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(*(st.integers(0, 2 * full) for full in ITEMS.values())), min_size=1, max_size=30))
def test_items_score_is_sum_of_item_means(rows):
    plan = items_plan()
    ballots = [(i, {"round": "e", "scores": {"张三": {name: _half(v) for name, v in zip(ITEMS, row, strict=True)}}})
               for i, row in enumerate(rows, 1)]
    subject = count_meeting(plan, ballots)["rounds"][0]["subjects"][0]
    n = len(rows)
    exact_means = [Fraction(sum(r[j] for r in rows), 2 * n) for j in range(len(ITEMS))]
    assert subject["valid"] == n
    assert subject["score"] == str(quantize(sum(exact_means), 2))
    assert list(subject["items"].values()) == [str(quantize(m, 2)) for m in exact_means]


def _half(v: int) -> str:
    return f"{v // 2}.5" if v % 2 else str(v // 2)


bad_values = st.one_of(st.just("26"), st.just("-0.5"), st.just("1.25"), st.just("x"), st.just(None))


@settings(max_examples=200, deadline=None)
@given(st.lists(st.one_of(st.integers(0, 40).map(_half), bad_values), min_size=5, max_size=5),
       st.booleans())
def test_items_invalid_iff_any_item_bad(values, drop_one):
    row = {name: v for name, v in zip(ITEMS, values, strict=True) if v is not None}
    if drop_one and row:
        row.pop(next(iter(row)))
    full = dict(ITEMS)
    good = len(row) == len(ITEMS) and all(
        v not in ("x", "-0.5", "1.25") and Fraction(v) <= full[k] for k, v in row.items())
    subject = count_meeting(items_plan(), [(1, {"round": "e", "scores": {"张三": row}})])["rounds"][0]["subjects"][0]
    if not row:
        assert subject["abstain"] == 1
    else:
        assert subject["valid"] == (1 if good else 0) and subject["invalid"] == (0 if good else 1)


# --- threshold: none and top -------------------------------------------------------------------

def rec_plan(threshold: str | None = None, top: int | None = 3, present: int = 30, candidates=("甲", "乙", "丙", "丁", "戊")):
    post: dict = {"id": "p", "seats": 3, "candidates": list(candidates), "write_in": True}
    if threshold is not None:
        post["threshold"] = threshold
    if top is not None:
        post["top"] = top
    return parse_plan({"meeting": {"title": "m"}, "rounds": [
        {"id": "r", "kind": "recommend", "expected": 30, "present": present, "posts": [post]}]}, "m")


def votes(plan, table: dict[str, int]):
    ballots = []
    for name, n in table.items():
        ballots += [{"round": "r", "sections": {"p": [name]}} for _ in range(n)]
    post = count_meeting(plan, enumerate(ballots, 1))["rounds"][0]["posts"][0]
    return post, {c["name"]: c for c in post["candidates"]}


def test_top_three_with_a_tie_at_third_forwards_four():
    post, c = votes(rec_plan("none"), {"甲": 9, "乙": 8, "丙": 5, "丁": 5, "戊": 2})
    assert [n for n in c if c[n]["forwarded"]] == ["甲", "乙", "丙", "丁"]
    assert [c[n]["rank"] for n in c] == [1, 2, 3, 3, 5]
    assert post["top"] == 3 and "threshold" not in post and all("passes" not in x for x in c.values())


def test_top_three_with_two_eligible_forwards_two():
    _, c = votes(rec_plan("none"), {"甲": 9, "乙": 8})
    assert [n for n in c if c[n]["forwarded"]] == ["甲", "乙"]  # nobody with 0 votes takes a place


def test_a_candidate_who_does_not_pass_never_takes_a_place():
    _, c = votes(rec_plan(">=1/3"), {"甲": 12, "乙": 10, "丙": 7, "丁": 1})
    assert [n for n in c if c[n]["forwarded"]] == ["甲", "乙"] and c["丙"]["passes"] is False


def test_no_quorum_forwards_nobody():
    _, c = votes(rec_plan("none", present=19), {"甲": 12})
    assert not any(x["forwarded"] for x in c.values())


def test_write_ins_are_forwarded_too():
    _, c = votes(rec_plan("none", top=1, candidates=()), {"钱七": 3, "孙八": 3, "周九": 1})
    assert [n for n in c if c[n]["forwarded"]] == ["孙八", "钱七"]  # both tied at the cut; sorted by name among write-ins


def test_without_top_nothing_is_ranked():
    _, c = votes(rec_plan(None, top=None), {"甲": 12})
    assert all("rank" not in x and "forwarded" not in x for x in c.values())


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from(["甲", "乙", "丙", "丁", "戊", "己"]), max_size=30), st.integers(1, 4),
       st.sampled_from(["none", ">=1/3", ">1/10"]), st.randoms(use_true_random=False))
def test_forwarded_never_depends_on_ballot_order(names, top, threshold, rnd):
    plan = rec_plan(threshold, top=top, candidates=("甲", "乙", "丙", "丁", "戊"))
    ballots = [{"round": "r", "sections": {"p": [n]}} for n in names]
    shuffled = list(ballots)
    rnd.shuffle(shuffled)
    first = count_meeting(plan, enumerate(ballots, 1))["rounds"][0]["posts"][0]
    assert first == count_meeting(plan, enumerate(shuffled, 1))["rounds"][0]["posts"][0]
    cands = first["candidates"]
    forwarded = [c for c in cands if c["forwarded"]]
    eligible = [c for c in cands if c["votes"] >= 1 and c.get("passes", True)]
    assert all(c in eligible for c in forwarded)
    if forwarded:
        assert all(f["votes"] >= e["votes"] for f in forwarded for e in eligible if e not in forwarded)
    assert len(forwarded) >= min(top, len(eligible))
