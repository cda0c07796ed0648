"""Ballots: input errors are refused with a clear message, voters' mistakes are counted as such,
and the streaming API the live tally uses gives the same document as `count_meeting`."""
from __future__ import annotations

from decimal import Decimal

import pytest
from contract_ballots import contract_ballots

from tally.plan import load_plan, parse_plan
from tally.rules import Attendance, Ballot, BallotInputError, MissingAttendance, count_meeting, new_counter, parse_ballot


@pytest.fixture
def plan(contract_meeting):
    return load_plan(contract_meeting)


@pytest.mark.parametrize(("ballot", "message"), [
    ({"round": "r9"}, 'round "r9" is not in the meeting file'),
    ({"sections": {}}, 'a ballot needs "round"'),
    ({"round": 1}, 'a ballot needs "round"'),
    ({"round": "c1"}, "is a composite round: it takes no ballots"),
    ({"round": "r1", "sections": {"deputy": ["张三"]}}, "post 'deputy' is not in the meeting file"),
    ({"round": "r1", "sections": {"mayor": "张三"}}, 'section "mayor" must be a list of names'),
    ({"round": "r1", "sections": {"mayor": [1]}}, "1 is not a name"),
    ({"round": "r1", "sections": {"mayor": [""]}}, "is not a name"),
    ({"round": "r1", "sections": ["mayor"]}, '"sections" must be an object'),
    ({"round": "r1", "sections": {}, "extra": 1}, "unknown field 'extra'"),
    ({"round": "r1", "invalid": "yes"}, '"invalid" must be true or false'),
    ({"round": "r1", "invalid": True, "sections": {}}, "a ballot marked invalid carries no choices"),
    ({"round": "e1", "grades": {"王五": "优秀"}}, "subject '王五' is not in the meeting file"),
    ({"round": "e1", "grades": {"张三": "良好"}}, "grade '良好' for '张三' is not in the meeting file"),
    ({"round": "e1", "grades": {"张三": 1}}, "must be a string or a list of strings"),
    ({"round": "e1", "grades": {"张三": ["优秀", 2]}}, "must be a string or a list of strings"),
    ({"round": "e1", "directions": {"张三": "退休"}}, "direction '退休' for '张三' is not in the meeting file"),
    ({"round": "d1", "votes": {"王五": "yes"}}, "must be agree, disagree or abstain"),
    ({"round": "d1", "votes": {"赵六": "agree"}}, "nominee '赵六' is not in the meeting file"),
    ({"round": "s1", "judge": "J1", "contestant": "张三"}, "a score line needs score"),
    ({"round": "s1", "judge": "J 1", "contestant": "张三", "score": "88"}, "is not a judge id"),
    ({"round": "s1", "judge": 7, "contestant": "张三", "score": "88"}, "is not a judge id"),
    ({"round": "s1", "judge": "J1", "contestant": "王五", "score": "88"}, "contestant '王五' is not in the meeting file"),
    ({"round": "s1", "judge": "J1", "contestant": "张三", "score": "100.1"}, "outside 0–100"),
    ({"round": "s1", "judge": "J1", "contestant": "张三", "score": "-1"}, "outside 0–100"),
    ({"round": "s1", "judge": "J1", "contestant": "张三", "score": "88.25"}, "not on the step 0.1"),
    ({"round": "s1", "judge": "J1", "contestant": "张三", "score": 88.5}, "must be a decimal string"),
    ({"round": "s1", "judge": "J1", "contestant": "张三", "score": "8_8"}, "must be a decimal string"),
    ({"round": "s1", "judge": "J1", "contestant": "张三", "score": "NaN"}, "must be a decimal string"),
    ({"round": "s1", "judge": "J1", "contestant": "张三", "score": True}, "must be a decimal string"),
    ({"round": "s1", "invalid": True}, "unknown field 'invalid'"),
    ([], "a ballot must be a JSON object"),
])
def test_input_errors(plan, ballot, message):
    with pytest.raises(BallotInputError) as caught:
        parse_ballot(plan, ballot)
    assert message in str(caught.value)
    with pytest.raises(BallotInputError) as at_line:
        count_meeting(plan, [(1, {"round": "r1", "sections": {}}), (7, ballot)])
    assert at_line.value.line == 7 and message in at_line.value.message


@pytest.mark.parametrize(("section", "outcome"), [
    ([], "blank"), (None, "blank"), (["张三"], "valid"), (["钱七"], "valid"),  # write-ins allowed in r1
    (["张三", "李四"], "invalid"),  # over-vote: one seat
    (["张三", "张三"], "invalid"),  # a name twice
])
def test_voter_mistakes_are_classified_not_refused(plan, section, outcome):
    counter = new_counter(plan.round("r1"))
    counter.add(parse_ballot(plan, {"round": "r1", "sections": {"mayor": section}}))
    post = counter.result()["posts"][0]
    assert (post["blank"], post["invalid"], post["valid"]) == {
        "blank": (1, 0, 1), "valid": (0, 0, 1), "invalid": (0, 1, 0)}[outcome]


def test_write_in_without_permission_invalidates_the_section():
    plan = parse_plan({"meeting": {"title": "t"}, "rounds": [{"id": "r", "kind": "recommend", "expected": 3,
                       "present": 3, "posts": [{"id": "p", "seats": 1, "candidates": ["a", "b"]}]}]}, "t")
    doc = count_meeting(plan, enumerate([{"round": "r", "sections": {"p": ["x"]}}], 1))
    post = doc["rounds"][0]["posts"][0]
    assert post["invalid"] == 1 and [c["name"] for c in post["candidates"]] == ["a", "b"]


def test_overvote_may_void_the_whole_ballot():
    rounds = [{"id": "r", "kind": "recommend", "expected": 3, "present": 3, "overvote": "ballot", "posts": [
        {"id": "p", "seats": 2, "candidates": ["a", "b", "e"]}, {"id": "q", "seats": 1, "candidates": ["c", "d"]}]}]
    plan = parse_plan({"meeting": {"title": "t"}, "rounds": rounds}, "t")
    doc = count_meeting(plan, enumerate([{"round": "r", "sections": {"p": ["a", "b", "e"], "q": ["c"]}},
                                         {"round": "r", "sections": {"p": ["a", "a"], "q": ["c"]}}], 1))
    p, q = doc["rounds"][0]["posts"]
    assert (p["invalid"], q["invalid"]) == (2, 1)  # a repeated name is not an over-vote
    assert q["candidates"][0] == {"name": "c", "votes": 1, "rate": "33.33", "passes": True, "write_in": False}


def test_evaluation_quota_two_grades_and_abstention(plan):
    e1 = plan.round("e1")
    quota_plan = parse_plan({"meeting": {"title": "t"}, "rounds": [{
        "id": "e1", "kind": "evaluate", "subjects": ["a", "b", "c"], "quota": {"优秀": 1}}]}, "t")
    ballots = [{"round": "e1", "grades": {"a": "优秀", "b": "优秀"}},  # over quota: whole ballot invalid
               {"round": "e1", "grades": {"a": ["优秀", "称职"], "b": "称职"}},  # two grades: entry invalid
               {"round": "e1", "grades": {"a": ["称职"], "b": []}}]  # one-item list counts; [] abstains
    doc = count_meeting(quota_plan, enumerate(ballots, 1))["rounds"][0]
    assert doc["invalid"] == 1 and doc["returned"] == 3
    a, b, c = doc["subjects"]
    assert (a["valid"], a["invalid"], a["abstain"]) == (1, 1, 0)
    assert (b["valid"], b["abstain"], c["abstain"]) == (1, 1, 2)
    assert c["rates"]["优秀"] is None and "passes" not in c  # N = 0: no rate; no threshold: no passes
    assert e1.threshold is not None


def test_score_round_refuses_a_second_line_for_the_same_pair(plan):
    counter = new_counter(plan.round("s1"))
    line = {"round": "s1", "judge": "J07", "contestant": "张三", "score": "88.5"}
    counter.add(parse_ballot(plan, line))
    counter.add(parse_ballot(plan, {**line, "contestant": "李四"}))
    with pytest.raises(BallotInputError, match="already scored"):
        counter.add(parse_ballot(plan, {**line, "score": "90"}))
    assert counter.result()["contestants"][0]["count"] == 1  # the refused line changed nothing


def test_score_round_refuses_more_judges_than_the_panel():
    plan = parse_plan({"meeting": {"title": "t"}, "rounds": [{"id": "s", "kind": "score", "judges": 2, "trim": 0,
                                                               "contestants": ["a"]}]}, "t")
    lines = [{"round": "s", "judge": f"J{i}", "contestant": "a", "score": "80"} for i in range(3)]
    with pytest.raises(BallotInputError, match="more judges than the panel of 2") as caught:
        count_meeting(plan, enumerate(lines, 1))
    assert caught.value.line == 3


def test_live_counters_equal_the_offline_count(plan):
    ballots = contract_ballots()
    offline = count_meeting(plan, enumerate(ballots, 1))
    counters = {r.id: new_counter(r) for r in plan.rounds}
    for b in ballots:
        parsed = parse_ballot(plan, b)
        assert isinstance(parsed, Ballot)
        counters[parsed.round].add(parsed)
    live = {rid: c.result() for rid, c in counters.items() if rid != "c1"}
    live["c1"] = counters["c1"].result(None, resolved=live)
    assert [live[r["id"]] for r in offline["rounds"]] == offline["rounds"]


def test_attendance_from_check_in_overrides_the_plan(plan):
    counter = new_counter(plan.round("r1"))
    for _ in range(3):
        counter.add(parse_ballot(plan, {"round": "r1", "sections": {"mayor": ["张三"]}}))
    doc = counter.result(Attendance(expected=130, present=90, issued=2))
    assert (doc["present"], doc["issued"], doc["status"]) == (90, 2, "void")
    assert "posts" not in doc  # a void round publishes no candidate results
    doc = counter.result(Attendance(expected=130, present=86))
    assert (doc["issued"], doc["status"], doc["quorum_met"]) == (86, "no_quorum", False)
    assert all(not c["passes"] for c in doc["posts"][0]["candidates"])
    doc = counter.result(Attendance(expected=130, present=87))
    assert doc["status"] == "counted" and doc["posts"][0]["candidates"][0]["rate"] == "3.45"


def test_a_round_without_attendance_cannot_be_counted():
    plan = parse_plan({"meeting": {"title": "t"}, "rounds": [{"id": "d", "kind": "decide", "expected": 5,
                                                               "nominees": ["a"]}]}, "t")
    with pytest.raises(MissingAttendance, match='round "d" needs expected'):
        count_meeting(plan, [])
    assert count_meeting(plan, [], {"d": Attendance(expected=5, present=4)})["rounds"][0]["quorum_met"]


def test_decide_seats_invalid_when_agreeing_with_too_many():
    plan = parse_plan({"meeting": {"title": "t"}, "rounds": [{"id": "d", "kind": "decide", "expected": 4,
                       "present": 4, "nominees": ["a", "b", "c"], "seats": 2}]}, "t")
    ballots = [{"round": "d", "votes": {"a": "agree", "b": "agree", "c": "agree"}}] + \
              [{"round": "d", "votes": {"a": "agree", "b": "agree"}}] * 3
    doc = count_meeting(plan, enumerate(ballots, 1))["rounds"][0]
    assert doc["invalid"] == 1
    assert [(n["agree"], n["not_voted"], n["outcome"], n["elected"]) for n in doc["nominees"]] == [
        (3, 1, "passed", True), (3, 1, "passed", True), (0, 4, "not_passed", False)]


def test_decide_tie_at_the_last_seat():
    plan = parse_plan({"meeting": {"title": "t"}, "rounds": [{"id": "d", "kind": "decide", "expected": 6,
                       "present": 6, "nominees": ["a", "b", "c"], "seats": 2}]}, "t")
    votes = [("a", "b")] * 2 + [("a", "c")] * 2 + [("b", "c")] * 1 + [("a",)] * 1
    ballots = [{"round": "d", "votes": {n: "agree" for n in v}} for v in votes]
    doc = count_meeting(plan, enumerate(ballots, 1))["rounds"][0]
    assert [(n["name"], n["agree"], n["outcome"], n["elected"]) for n in doc["nominees"]] == [
        ("a", 5, "passed", True), ("b", 3, "not_passed", False), ("c", 3, "not_passed", False)]
    votes = [("a", "b")] * 2 + [("a", "c")] * 2 + [("b", "c")] * 2
    ballots = [{"round": "d", "votes": {n: "agree" for n in v}} for v in votes]
    doc = count_meeting(plan, enumerate(ballots, 1))["rounds"][0]
    assert [(n["agree"], n["outcome"], n["elected"]) for n in doc["nominees"]] == [
        (4, "tie", False), (4, "tie", False), (4, "tie", False)]


def test_score_tie_break_by_the_untrimmed_mean_and_shortlist():
    plan = parse_plan({"meeting": {"title": "t"}, "rounds": [{"id": "s", "kind": "score", "judges": 3, "trim": 1,
                       "step": "1", "decimals": 1, "tie_break": ["full_mean"], "shortlist": 1,
                       "contestants": ["a", "b", "c"]}]}, "t")
    scores = {"a": [80, 85, 90], "b": [70, 85, 99], "c": [85, 85]}
    lines = [{"round": "s", "judge": f"J{i}", "contestant": n, "score": str(v)}
             for n, vs in scores.items() for i, v in enumerate(vs)]
    doc = count_meeting(plan, enumerate(lines, 1))["rounds"][0]
    a, b, c = doc["contestants"]
    assert (a["mean"], b["mean"]) == ("85.0", "85.0")
    assert (a["full_mean"], b["full_mean"]) == ("85.0", "84.7")
    assert (a["rank"], b["rank"], a["shortlisted"], b["shortlisted"]) == (1, 2, True, False)
    assert c == {"name": "c", "status": "incomplete", "count": 2, "shortlisted": False}
    assert b["dropped_high"] == ["99"] and b["dropped_low"] == ["70"]  # printed at the step "1"


def test_truncating_plan():
    plan = parse_plan({"meeting": {"title": "t"}, "rounds": [{"id": "s", "kind": "score", "judges": 3, "trim": 0,
                       "rounding": "down", "contestants": ["a"]}]}, "t")
    lines = [{"round": "s", "judge": f"J{i}", "contestant": "a", "score": v} for i, v in enumerate(["90", "90", "86.9"])]
    assert count_meeting(plan, enumerate(lines, 1))["rounds"][0]["contestants"][0]["mean"] == "88.96"
    assert Decimal("88.966") > Decimal("88.96")  # 266.9/3 = 88.9666…, truncated
