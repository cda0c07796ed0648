"""Cross-round short lists (seed 003): conditions on other rounds, an order, a cut at seats × ratio."""
from __future__ import annotations

import copy

from hypothesis import given, settings
from hypothesis import strategies as st

from tally.plan import parse_plan
from tally.rules import count_meeting

PEOPLE = ["陈一", "林二", "黄三", "周四"]
BASE = {"meeting": {"title": "信宜"}, "rounds": [
    {"id": "fs", "kind": "recommend", "expected": 10, "present": 10,
     "posts": [{"id": "sec", "seats": 4, "candidates": PEOPLE, "preset": "rec_full_slate"}]},
    {"id": "rs", "kind": "recommend", "expected": 10, "present": 10,
     "posts": [{"id": "res", "seats": 4, "candidates": PEOPLE, "preset": "rec_reserve"}]},
    {"id": "ev", "kind": "evaluate", "subjects": PEOPLE, "grades": ["优秀", "称职", "不称职"]},
    {"id": "sl", "kind": "shortlist", "title": "镇党委书记差额提名人选",
     "conditions": [{"round": "fs", "post": "sec", "measure": "rate", "threshold": ">50%"},
                    {"round": "rs", "post": "res", "measure": "rate", "threshold": ">50%"}],
     "order": [{"round": "fs", "post": "sec", "by": "votes"}, {"round": "rs", "post": "res", "by": "votes"},
               {"round": "ev", "by": "competent_or_above"}, {"key": "资历"}, {"key": "学历"}],
     "keys": {"资历": {"values": {}}, "学历": {"scale": ["研究生", "大学", "大专"], "values": {}}},
     "seats": 1, "ratio": 2}]}


def run(fs: dict[str, int], rs: dict[str, int], ev: dict[str, int] | None = None, change=None) -> dict:
    """Count the meeting: `fs`/`rs` votes per person (10 ballots each), `ev` how many of 10 graded
    each person 称职 or better (the rest 不称职)."""
    meeting = copy.deepcopy(BASE)
    if change:
        change(meeting)
    ballots = []
    for rid, post, table in (("fs", "sec", fs), ("rs", "res", rs)):
        for i in range(10):
            ballots.append({"round": rid, "sections": {post: [n for n, v in table.items() if i < v]}})
    ev = ev if ev is not None else dict.fromkeys(PEOPLE, 10)
    for i in range(10):
        ballots.append({"round": "ev", "grades": {n: "称职" if i < v else "不称职" for n, v in ev.items()}})
    doc = count_meeting(parse_plan(meeting, "m"), enumerate(ballots, 1))
    return doc["rounds"][-1]


def by_name(doc: dict) -> dict[str, dict]:
    return {c["name"]: c for c in doc["candidates"]}


def keys(meeting: dict, **values: dict) -> None:
    for key, table in values.items():
        meeting["rounds"][3]["keys"][key]["values"] = table


def test_both_above_half_and_leading():
    doc = run({"陈一": 8, "林二": 7, "黄三": 6, "周四": 2}, {"陈一": 9, "林二": 6, "黄三": 6, "周四": 7})
    c = by_name(doc)
    assert [n for n in c if c[n]["shortlisted"]] == ["陈一", "林二"]
    assert (c["陈一"]["rank"], c["林二"]["rank"], c["黄三"]["rank"]) == (1, 2, 3)
    assert c["周四"]["meets"] is False and "rank" not in c["周四"] and "order_values" not in c["周四"]
    assert c["周四"]["checks"] == [{"value": "20.00", "passes": False}, {"value": "70.00", "passes": True}]
    assert c["陈一"]["order_values"] == ["8", "9", "100.00", None, None]
    assert (doc["take"], doc["seats"], doc["ratio"], doc["tie_at_cut"]) == (2, 1, 2, False)
    assert "missing_keys" not in doc
    assert [x["name"] for x in doc["candidates"]] == PEOPLE  # the file's order; sheets sort by rank


def test_exactly_half_does_not_pass_more_than_half():
    c = by_name(run({"陈一": 5, "林二": 6}, {"陈一": 9, "林二": 6}))
    assert c["陈一"]["checks"][0] == {"value": "50.00", "passes": False} and not c["陈一"]["meets"]


def test_a_tie_is_broken_by_the_evaluation():
    c = by_name(run({"陈一": 8, "林二": 7, "黄三": 7}, {"陈一": 9, "林二": 6, "黄三": 6},
                    {"陈一": 10, "林二": 9, "黄三": 10, "周四": 10}))
    assert (c["黄三"]["rank"], c["林二"]["rank"]) == (2, 3) and c["黄三"]["shortlisted"] and not c["林二"]["shortlisted"]


def test_a_tie_is_broken_by_a_typed_key():
    doc = run({"陈一": 8, "林二": 7, "黄三": 7}, {"陈一": 9, "林二": 6, "黄三": 6},
              change=lambda m: keys(m, 资历={"林二": 9, "黄三": "12"}))
    c = by_name(doc)
    assert (c["黄三"]["rank"], c["林二"]["rank"]) == (2, 3) and c["黄三"]["order_values"][3] == "12"


def test_a_scale_key_ranks_by_its_labels_best_first():
    doc = run({"陈一": 8, "林二": 7, "黄三": 7}, {"陈一": 9, "林二": 6, "黄三": 6},
              change=lambda m: keys(m, 资历={"林二": 9, "黄三": 9}, 学历={"林二": "研究生", "黄三": "大专"}))
    c = by_name(doc)
    assert (c["林二"]["rank"], c["黄三"]["rank"]) == (2, 3) and c["林二"]["order_values"][4] == "研究生"


def test_a_tie_that_survives_every_key_takes_both():
    doc = run({"陈一": 8, "林二": 7, "黄三": 7}, {"陈一": 9, "林二": 6, "黄三": 6},
              change=lambda m: keys(m, 资历={"林二": 9, "黄三": 9}, 学历={"林二": "大学", "黄三": "大学"}))
    c = by_name(doc)
    assert c["林二"]["rank"] == c["黄三"]["rank"] == 2 and c["林二"]["shortlisted"] and c["黄三"]["shortlisted"]
    assert doc["tie_at_cut"] is True and "missing_keys" not in doc


def test_a_missing_key_at_the_cut_is_named():
    doc = run({"陈一": 8, "林二": 7, "黄三": 7}, {"陈一": 9, "林二": 6, "黄三": 6},
              change=lambda m: keys(m, 资历={"林二": 9}))
    c = by_name(doc)
    assert doc["missing_keys"] == {"资历": ["黄三"]} and doc["tie_at_cut"] is True
    assert c["林二"]["rank"] == c["黄三"]["rank"] == 2  # never decided without the value
    assert c["黄三"]["order_values"][3] is None


def test_a_missing_key_away_from_the_cut_is_not_asked_for():
    doc = run({"陈一": 8, "林二": 8, "黄三": 6}, {"陈一": 9, "林二": 9, "黄三": 6},
              change=lambda m: keys(m, 资历={}))
    assert "missing_keys" not in doc and doc["tie_at_cut"] is False  # 陈一 and 林二 share 1st: both in, exactly 2


def test_an_advisory_condition_flags_but_does_not_leave_out():
    def change(m):
        m["rounds"][3]["conditions"].append({"round": "ev", "measure": "competent_or_above", "preset": "eval_003",
                                             "advisory": True})
    doc = run({"陈一": 8, "林二": 7}, {"陈一": 9, "林二": 6}, {"陈一": 10, "林二": 9, "黄三": 10, "周四": 10}, change)
    c = by_name(doc)
    assert c["林二"]["meets"] and c["林二"]["flagged"] == [2] and c["林二"]["checks"][2] == {"value": "90.00", "passes": False}
    assert "flagged" not in c["陈一"] and doc["conditions"][2] == {
        "round": "ev", "measure": "competent_or_above", "threshold": ">90%", "advisory": True}


def test_an_incomplete_source_makes_the_candidate_incomplete():
    def change(m):
        m["rounds"][2]["subjects"] = ["陈一", "林二", "周四"]  # 黄三 was not evaluated
    doc = run({"陈一": 8, "林二": 7, "黄三": 7}, {"陈一": 9, "林二": 6, "黄三": 6},
              {"陈一": 10, "林二": 10, "周四": 10}, change)
    c = by_name(doc)
    assert c["黄三"]["status"] == "incomplete" and "rank" not in c["黄三"] and not c["黄三"]["shortlisted"]
    assert c["林二"]["shortlisted"]


def test_no_quorum_source_makes_everyone_incomplete():
    def change(m):
        m["rounds"][0]["present"] = 6  # 6 of 10: no quorum
    doc = run({"陈一": 5}, {"陈一": 9}, change=change)
    assert all(c["status"] == "incomplete" and not c["meets"] for c in doc["candidates"])


def test_lower_first_and_a_composite_source():
    meeting = {"meeting": {"title": "m"}, "rounds": [
        {"id": "c", "kind": "composite", "components": [{"name": "笔试", "weight": 100,
                                                         "scores": {"甲": "80", "乙": "90", "丙": "85"}}]},
        {"id": "s", "kind": "shortlist", "order": [{"round": "c", "by": "composite", "lower_first": True}], "seats": 2}]}
    doc = count_meeting(parse_plan(meeting, "m"), [])["rounds"][1]
    assert [c["name"] for c in doc["candidates"] if c["shortlisted"]] == ["甲", "丙"]
    assert doc["order"] == [{"round": "c", "by": "composite", "lower_first": True}]


@settings(max_examples=100, deadline=None)
@given(st.lists(st.integers(0, 10), min_size=4, max_size=4), st.lists(st.integers(0, 10), min_size=4, max_size=4),
       st.integers(1, 3), st.permutations(PEOPLE))
def test_shortlist_properties(fs, rs, ratio, order):
    def change(m):
        m["rounds"][3].update(ratio=ratio, candidates=list(order))
    doc = run(dict(zip(PEOPLE, fs, strict=True)), dict(zip(PEOPLE, rs, strict=True)), change=change)
    c = by_name(doc)
    shortlisted = {n for n in c if c[n]["shortlisted"]}
    assert all(c[n]["meets"] for n in shortlisted)  # shortlisted ⊆ meets
    assert len(shortlisted) <= ratio or doc["tie_at_cut"]
    assert [x["name"] for x in doc["candidates"]] == list(order)
    # Independent of the candidates' order, and monotone in take.
    other = run(dict(zip(PEOPLE, fs, strict=True)), dict(zip(PEOPLE, rs, strict=True)),
                change=lambda m: m["rounds"][3].update(ratio=ratio + 1))
    more = {x["name"] for x in other["candidates"] if x["shortlisted"]}
    assert shortlisted <= more
    assert {x["name"]: x.get("rank") for x in other["candidates"]} == {n: c[n].get("rank") for n in c}
