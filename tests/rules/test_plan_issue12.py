"""The meeting-file keys of issue 12: parsed, refused with one clear line, written back, echoed."""
from __future__ import annotations

import json

import pytest
import yaml

from tally.plan import PlanError, dump_plan, load_plan, parse_plan
from tally.rules import count_meeting
from tally.rules.kinds import Channel, Conduct, RoundKind
from tally.rules.model import DecideRound, EvaluateRound, RecommendRound, ScoreRound, ShortlistRound
from tests.rules.test_plan_docs import DATA, SCHEMA, validate

ALL = DATA / "issue12.yaml"


def test_every_new_key_loads_validates_and_round_trips():
    plan = load_plan(ALL)
    validate(yaml.safe_load(ALL.read_text(encoding="utf-8")), SCHEMA)
    dumped = json.loads(json.dumps(dump_plan(plan)))
    validate(dumped, SCHEMA)
    assert parse_plan(dumped, "again") == plan
    r1, t1, r2 = plan.round("r1"), plan.round("t1"), plan.round("r2")
    assert isinstance(r1, RecommendRound) and isinstance(t1, RecommendRound) and isinstance(r2, RecommendRound)
    assert r1.electorate == ("甲组", "乙组") and r1.valid_months == 12
    assert r1.posts[0].advisory and r1.posts[0].top == 2 and r1.posts[1].threshold is None
    assert t1.channel is Channel.TALK and t1.expected is None and t1.beside == "r1"
    assert (r2.repeats, r2.repeat_reason, r2.attempt) == ("r1", "void", 2)
    e1 = plan.round("e1")
    assert isinstance(e1, EvaluateRound) and e1.items == (("德", 20), ("能", 20), ("勤", 20), ("绩", 25), ("廉", 15))
    assert str(e1.item_step) == "0.5" and e1.channel is Channel.PAPER
    d1, d2 = plan.round("d1"), plan.round("d2")
    assert isinstance(d1, DecideRound) and d1.post_of("张三") == "处长" and d1.post_of("王五") is None
    assert isinstance(d2, DecideRound) and d2.post_of("王五") == "副处长" and d2.attempt == 2
    s1 = plan.round("s1")
    assert isinstance(s1, ScoreRound) and s1.panel is not None and s1.panel.quota == (("区公务员局", 2),)
    sl = plan.round("sl")
    assert isinstance(sl, ShortlistRound) and sl.candidates == ("张三", "李四", "王五") and not sl.listed
    assert sl.take == 2
    assert plan.publicity is not None and plan.publicity.working_days == 5 and plan.publicity.title == "干部任前公示"
    assert plan.superseding("r1") == "r2" and plan.superseding("d1") == "d1"  # a tie re-vote replaces nothing


def test_a_single_group_electorate_is_written_back_as_written():
    plan = load_plan(DATA / "contract.yaml")
    assert dump_plan(plan) == dump_plan(parse_plan(dump_plan(plan), "again"))
    data = yaml.safe_load(ALL.read_text(encoding="utf-8"))
    for r in data["rounds"][0], _round(data, "r2"):
        r["electorate"] = "常委"
    assert dump_plan(parse_plan(data, "m"))["rounds"][0]["electorate"] == "常委"


def test_conduct_says_what_a_round_does():
    kiosk, paper, talk = (Conduct(RoundKind.RECOMMEND, c) for c in Channel)
    assert kiosk.channel is Channel.KIOSK and kiosk.takes_cards and kiosk.has_quorum and not kiosk.entered
    assert not paper.takes_cards and paper.entered and paper.has_quorum and paper.secret
    assert not talk.takes_cards and talk.entered and not talk.has_quorum and talk.secret
    assert not Conduct(RoundKind.EVALUATE).has_quorum
    assert RoundKind.SHORTLIST.computed and not RoundKind.SHORTLIST.takes_ballots
    assert not RoundKind.SHORTLIST.takes_cards and not RoundKind.SHORTLIST.secret


def _with(change):
    data = yaml.safe_load(ALL.read_text(encoding="utf-8"))
    change(data)
    return data


def _round(data, round_id):
    return next(r for r in data["rounds"] if r["id"] == round_id)


def _set(round_id, **fields):
    return lambda d: _round(d, round_id).update(fields)


def _pop(round_id, key):
    return lambda d: _round(d, round_id).pop(key)


def _post(round_id, index=0, **fields):
    return lambda d: _round(d, round_id)["posts"][index].update(fields)


BAD = [
    # publicity
    ("publicity typo", lambda d: d["publicity"].update(working_day=5),
     "publicity.working_day: unknown key 'working_day' (did you mean 'working_days'?)"),
    ("publicity both", lambda d: d["publicity"].update(days=7),
     "publicity: give working_days (N 个工作日) or days (N 天), exactly one"),
    ("publicity neither", lambda d: d["publicity"].pop("working_days"), "exactly one"),
    ("publicity zero", lambda d: d["publicity"].update(working_days=0),
     "publicity.working_days: must be a whole number between 1 and 60, not 0"),
    ("publicity issuer", lambda d: d["publicity"].pop("issuer"), "publicity: 'issuer' is required"),
    ("publicity contact", lambda d: d["publicity"].pop("contact"),
     "publicity: 'contact' is required (where concerns are sent)"),
    ("publicity contact too long", lambda d: d["publicity"].update(contact="电" * 501), "longer than 500"),
    ("publicity details", lambda d: d["publicity"].update(details={"钱七": " "}),
     "publicity.details.钱七: must be a non-empty string"),
    # electorate, channel, postal
    ("electorate not a list of names", _set("r1", electorate=[1]), "must be a group name or a list of group names"),
    ("electorate twice", _set("r1", electorate=["常委", "常委"]), "'常委' is listed twice"),
    ("electorate empty", _set("r1", electorate=[]), "must be a group name or a list of group names"),
    ("channel unknown", _set("r1", channel="post"), "must be one of kiosk, paper, talk, not 'post'"),
    ("talk decide", _set("d1", channel="talk"), "only a recommend round can be talk (个别谈话推荐)"),
    ("postal talk", _set("t1", postal=True), "a talk round takes no postal ballots"),
    ("postal not a bool", _set("r1", postal="yes"), "must be true or false"),
    ("expected without talk", _pop("r1", "expected"), "'expected' is required"),
    # repeats
    ("repeats missing round", _set("r2", repeats="d9"), 'names round "d9", which is not in the meeting file'),
    ("repeats a round below", _set("r1", repeats="r2", repeat_reason="void"), "must name a round above this one"),
    ("repeats another kind", _set("d2", repeats="r1"), 'round "r1" is a recommend round; this is a decide round'),
    ("repeats another electorate", _set("r2", electorate="甲组"), 'the electorate must be the same as that of "r1"'),
    ("repeat without reason", _pop("r2", "repeat_reason"), "'repeat_reason' is required with repeats"),
    ("reason without repeats", _set("r1", repeat_reason="tie"), "only a round that repeats another"),
    ("bad reason", _set("r2", repeat_reason="oops"),
     "must be one of tie, no_majority, void, closed_early, succession"),
    ("no_majority on recommend", _set("r2", repeat_reason="no_majority"), "no_majority repeats only a 差额 decide round"),
    ("succession on recommend", _set("r2", repeat_reason="succession"), "succession repeats only a decide round"),
    ("tie with a new nominee", _set("d2", nominees=["李四", "赵六"]), "tie: '赵六' is not a nominee of \"d1\""),
    ("repeated twice", lambda d: d["rounds"].append({**_round(d, "r2"), "id": "r3"}),
     'round "r1" is already repeated by "r2"'),
    ("repeats a talk round", lambda d: d["rounds"].append(
        {"id": "t2", "kind": "recommend", "channel": "talk", "repeats": "t1", "repeat_reason": "void",
         "posts": [{"id": "p", "seats": 1, "candidates": ["张三"]}]}), "talk records are not voted again"),
    # recommend: beside, valid_months, posts
    ("beside on a kiosk round", _set("r1", beside="t1"), "only a talk round is shown beside another round"),
    ("beside an evaluate round", _set("t1", beside="e1"), 'round "e1" is a evaluate round: a talk round is shown beside'),
    ("beside a missing post", _post("t1", id="x"), "has no post \"x\" (a talk round's posts must be among"),
    ("beside a missing round", _set("t1", beside="zz"), 'names round "zz"'),
    ("valid_months zero", _set("r1", valid_months=0), "must be at least 1, not 0"),
    ("valid_months too many", _set("r1", valid_months=121), "must be at most 120"),
    ("none with a preset", _post("r1", 1, preset="rec_competitive"), "'none' takes no preset"),
    ("advisory without threshold", _post("r1", 1, advisory=True), "advisory needs a threshold (not none)"),
    ("top zero", _post("r1", top=0), "must be at least 1, not 0"),
    # evaluate items
    ("items empty", _set("e1", items={}), "must name at least one item"),
    ("items fraction", _set("e1", items={"德": 20, "绩": "25.5"}),
     "items.绩: full marks must be a whole number of at least 1, not '25.5'"),
    ("items with grades", _set("e1", grades=["好", "坏"]), "grades cannot be combined with items"),
    ("items with grade_values", _set("e1", grade_values=[1, 2, 3, 4]), "grade_values cannot be combined with items"),
    ("items with threshold", _set("e1", threshold=">=80%"), "threshold cannot be combined with items"),
    ("items with quota", _set("e1", quota={"优秀": 1}), "quota cannot be combined with items"),
    ("items with advisory", _set("e1", advisory=True), "advisory cannot be combined with items"),
    ("item_step without items", _set("e2", item_step="0.5"), "item_step: only with items"),
    ("item_step zero", _set("e1", item_step="0"), "must be more than 0"),
    ("item_step off", _set("e1", item_step="0.3"), "0.3 does not divide the full marks of 德 (20)"),
    ("evaluate advisory without threshold", _pop("e2", "preset"), "advisory needs a threshold"),
    # decide
    ("post and posts", _set("d1", post="处长"), "give post or posts, not both"),
    ("posts of a stranger", _set("d1", posts={"钱七": "处长"}), "posts.钱七: '钱七' is not a nominee"),
    ("advisory decide", _set("d1", advisory=True), "a decision's majority is binding"),
    # score panel
    ("panel over", _set("s1", panel={"quota": {"区公务员局": 5, "其他": 4}}),
     "panel.quota: the minimums total 9, more than the panel of 7 judges"),
    ("panel zero", _set("s1", panel={"quota": {"x": 0}}), "panel.quota.x: must be at least 1"),
    ("panel typo", _set("s1", panel={"quota": {"x": 1}, "advisry": True}), "panel.advisry: unknown key 'advisry'"),
    ("panel without quota", _set("s1", panel={"advisory": True}), "'quota' is required"),
    # shortlist
    ("condition on a score round", lambda d: _round(d, "sl")["conditions"].append(
        {"round": "s1", "measure": "mean", "threshold": ">50%"}), 'round "s1" is a score round: conditions compare rates'),
    ("condition without post", lambda d: _round(d, "sl")["conditions"][0].pop("post"),
     'on recommend round "r1" must name one of its posts'),
    ("condition measure", lambda d: _round(d, "sl")["conditions"][0].update(measure="votes"),
     "measure: must be rate for round \"r1\", not 'votes'"),
    ("condition on a decide round", lambda d: _round(d, "sl")["conditions"][0].update(round="d1"),
     'round "d1" is a decide round'),
    ("condition on a short list", lambda d: d["rounds"].append(
        {"id": "sl2", "kind": "shortlist", "order": [{"round": "sl", "by": "rank"}]}), "is a short list"),
    ("order by unknown measure", lambda d: _round(d, "sl")["order"][1].update(by="mean"),
     "by: 'mean' is not a measure of composite round \"c1\" (composite)"),
    ("order key undefined", lambda d: _round(d, "sl")["order"].append({"key": "年龄"}),
     "key: '年龄' is not defined under keys"),
    ("order both", lambda d: _round(d, "sl")["order"][0].update(key="资历"), "give round (with by) or key, exactly one"),
    ("order empty", _set("sl", order=[]), "must be a non-empty list"),
    ("key off the scale", lambda d: _round(d, "sl")["keys"]["学历"]["values"].update(张三="中专"),
     "keys.学历.values.张三: '中专' is not on the scale (研究生, 大学)"),
    ("key not a number", lambda d: _round(d, "sl")["keys"]["资历"]["values"].update(张三="十二"),
     "keys.资历.values.张三: not a decimal number"),
    ("seats zero", _set("sl", seats=0), "must be at least 1"),
    ("no candidates to derive", lambda d: _round(d, "sl").update(
        conditions=[], order=[{"round": "r1", "post": "q", "by": "votes"}]), "lists nobody (write-ins only)"),
]


@pytest.mark.parametrize(("change", "message"), [pytest.param(c, m, id=i) for i, c, m in BAD])
def test_bad_new_keys_fail_with_one_clear_line(write_meeting, change, message):
    path = write_meeting(_with(change))
    with pytest.raises(PlanError) as caught:
        load_plan(path)
    text = str(caught.value)
    assert message in text, text
    assert text.startswith(f"{path}:") and "\n" not in text


def test_errors_of_new_keys_name_their_line(write_meeting):
    text = ALL.read_text(encoding="utf-8").replace("item_step: \"0.5\"", "item_step: \"0.3\"")
    path = write_meeting(text)
    with pytest.raises(PlanError) as caught:
        load_plan(path)
    line = next(i for i, t in enumerate(text.splitlines(), start=1) if "item_step" in t)
    assert caught.value.line == line


def _count(plan_data, ballots):
    return count_meeting(parse_plan(plan_data, "m"), list(enumerate(ballots, start=1)))


def test_a_talk_round_has_no_quorum_and_counts_its_records():
    data = _with(lambda d: None)
    ballots = [{"round": "t1", "sections": {"p": ["张三"]}}] * 3 + [{"round": "t1", "sections": {"p": ["李四"]}}]
    doc = next(r for r in _count(data, ballots)["rounds"] if r["id"] == "t1")
    assert doc["channel"] == "talk" and doc["beside"] == "r1" and doc["status"] == "counted"
    assert "quorum_met" not in doc and "expected" not in doc
    assert (doc["present"], doc["issued"], doc["returned"]) == (4, 4, 4)
    votes = {c["name"]: (c["votes"], c["rate"]) for c in doc["posts"][0]["candidates"]}
    assert votes["张三"] == (3, "75.00") and votes["李四"] == (1, "25.00")  # each rate over those talked to
    _round(data, "t1").update(expected=30, present=2)
    doc = next(r for r in _count(data, ballots)["rounds"] if r["id"] == "t1")
    assert doc["expected"] == 30 and doc["status"] == "void"  # 4 records where 2 were talked to


def test_a_repeat_is_echoed_and_a_void_one_stands_for_its_origin():
    data = _with(lambda d: _round(d, "c1")["components"].__setitem__(0, {"name": "推荐", "weight": 50,
                                                                          "round": "r1", "post": "p"}))
    ballots = [{"round": "r1", "sections": {"p": ["张三"]}}] * 20 + [{"round": "r2", "sections": {"p": ["李四"]}}] * 5
    rounds = {r["id"]: r for r in _count(data, ballots)["rounds"]}
    assert rounds["r1"]["status"] == "void"  # 20 returned where 9 were issued
    assert {k: rounds["r2"][k] for k in ("repeats", "repeat_reason", "attempt")} == {
        "repeats": "r1", "repeat_reason": "void", "attempt": 2}
    assert "repeats" not in rounds["r1"] and "attempt" not in rounds["r1"]
    components = {c["name"]: c["components"] for c in rounds["c1"]["candidates"]}
    assert components["李四"]["推荐"] == "55.56"  # from r2 (5 of 9), the repeat that replaced void r1
    d2 = rounds["d2"]
    assert (d2["repeats"], d2["repeat_reason"], d2["attempt"]) == ("d1", "tie", 2)
