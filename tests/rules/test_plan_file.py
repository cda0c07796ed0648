"""The meeting file: loading YAML and JSON, and refusing bad files with one clear line."""
from __future__ import annotations

import json
from decimal import Decimal

import pytest
import yaml

from tally.plan import Attendance, PlanError, dump_plan, load_plan, parse_plan
from tally.rules import CompositeRound, RecommendRound, ScoreRound

GOOD = """\
meeting:
  title: 测试会议
rounds:
  - id: r1
    kind: recommend
    expected: 30
    present: 25
    posts:
      - id: mayor
        seats: 1
        candidates: [张三, 李四]
  - id: s1
    kind: score
    judges: 7
    trim: 1
    step: 0.5
    contestants: [张三, 李四]
  - id: c1
    kind: composite
    components:
      - {name: 笔试, weight: 60, scores: {张三: 82.5, 李四: "88"}}
      - {name: 面试, weight: 40, round: s1}
"""


def test_a_good_file_loads_with_exact_decimals(write_meeting):
    plan = load_plan(write_meeting(GOOD))
    assert plan.title == "测试会议" and [r.id for r in plan.rounds] == ["r1", "s1", "c1"]
    s1 = plan.round("s1")
    assert isinstance(s1, ScoreRound) and s1.step == Decimal("0.5") and s1.max == 100
    c1 = plan.round("c1")
    assert isinstance(c1, CompositeRound) and c1.components[0].scores == (("张三", Decimal("82.5")), ("李四", Decimal(88)))
    r1 = plan.round("r1")
    assert isinstance(r1, RecommendRound) and r1.posts[0].threshold.text == ">=1/3"  # 差额 default


def test_the_same_meeting_as_json(write_meeting):
    data = yaml.safe_load(GOOD)
    data["rounds"][2]["components"][0]["scores"]["张三"] = "82.5"
    data["rounds"][1]["step"] = "0.5"
    assert load_plan(write_meeting(data, "meeting.json")) == load_plan(write_meeting(GOOD))


def test_round_lookup(write_meeting):
    plan = load_plan(write_meeting(GOOD))
    assert "s1" in plan and "r9" not in plan
    with pytest.raises(KeyError, match="r9"):
        plan.round("r9")


def _mutate(change):
    data = yaml.safe_load(GOOD)
    change(data)
    return data


def _set(path, value):
    def change(data):
        node = data
        for key in path[:-1]:
            node = node[key]
        if value is KeyError:
            del node[path[-1]]
        else:
            node[path[-1]] = value
    return change


BAD = [
    ("unknown kind", _set(["rounds", 0, "kind"], "election"), "unknown kind 'election'"),
    ("duplicate round id", _set(["rounds", 1, "id"], "r1"), 'round id "r1" is used twice'),
    ("bad round id", _set(["rounds", 0, "id"], "r 1"), "may use only letters"),
    ("duplicate candidate", _set(["rounds", 0, "posts", 0, "candidates"], ["张三", "张三"]), "'张三' is listed twice"),
    ("duplicate contestant", _set(["rounds", 1, "contestants"], ["张三", "张三"]), "listed twice"),
    ("seats below one", _set(["rounds", 0, "posts", 0, "seats"], 0), "must be at least 1"),
    ("seats not a number", _set(["rounds", 0, "posts", 0, "seats"], "one"), "must be a whole number"),
    ("fewer candidates than seats", _set(["rounds", 0, "posts", 0, "seats"], 3), "fewer candidates (2) than seats (3)"),
    ("差额 required", (lambda d: d["rounds"][0]["posts"][0].update(competitive=True, seats=2)),
     "差额 needs more candidates than seats"),
    ("weights not 100", _set(["rounds", 2, "components", 1, "weight"], 30), "weights total 90, not 100"),
    ("bad threshold", _set(["rounds", 0, "posts", 0, "threshold"], "=>1/3"), "bad threshold '=>1/3'"),
    ("threshold above 1", _set(["rounds", 0, "posts", 0, "threshold"], ">=4/3"), "above 100%"),
    ("unknown preset", _set(["rounds", 0, "posts", 0, "preset"], "nope"), "unknown preset 'nope'"),
    ("threshold and preset", (lambda d: d["rounds"][0]["posts"][0].update(threshold=">1/2", preset="rec_uncontested")),
     "either 'threshold' or 'preset'"),
    ("composite names a missing round", _set(["rounds", 2, "components", 1, "round"], "s9"),
     'names round "s9", which is not in the meeting file'),
    ("composite names a decide round", (lambda d: d["rounds"].insert(0, {
        "id": "d0", "kind": "decide", "expected": 5, "nominees": ["a"]}) or d["rounds"][3]["components"][1].update(round="d0")),
     "is a decide round"),
    ("trim too large", _set(["rounds", 1, "trim"], 4), "needs at least 9 judges; the panel has 7"),
    ("negative trim", _set(["rounds", 1, "trim"], -1), "must be at least 0"),
    ("score min not below max", _set(["rounds", 1, "min"], 100), "must be more than min"),
    ("max off the step", _set(["rounds", 1, "max"], "99.7"), "not on the step 0.5"),
    ("step zero", _set(["rounds", 1, "step"], "0"), "must be more than 0"),
    ("unknown key", _set(["rounds", 0, "posts", 0, "treshold"], ">1/2"), "unknown key 'treshold' (did you mean 'threshold'?)"),
    ("unknown round key", _set(["rounds", 0, "judges"], 3), "rounds[0].judges: unknown key 'judges' (known: id, kind"),
    ("unknown top key", _set(["votes"], 1), "unknown key 'votes'"),
    ("no title", _set(["meeting", "title"], KeyError), "'title' is required"),
    ("no rounds", _set(["rounds"], []), "must be a non-empty list of rounds"),
    ("round not a mapping", _set(["rounds", 0], "r1"), "must be a mapping"),
    ("present above expected", _set(["rounds", 0, "present"], 31), "实到 (31) cannot exceed 应到 (30)"),
    ("expected missing", _set(["rounds", 0, "expected"], KeyError), "'expected' is required"),
    ("write_in not a bool", _set(["rounds", 0, "posts", 0, "write_in"], "yes please"), "must be true or false"),
    ("bad denominator", _set(["rounds", 0, "denominator"], "voters"), "must be one of present, valid, expected"),
    ("bad rounding", _set(["rounds", 1, "rounding"], "banker"), "must be one of half_up, down"),
    ("float-like score text", _set(["rounds", 2, "components", 0, "scores", "张三"], "8e1"), "is not a decimal number"),
    ("tie-break not a component", _set(["rounds", 2, "tie_break"], ["口试"]), "'口试' is not a component"),
    ("score tie-break unknown", _set(["rounds", 1, "tie_break"], ["median"]), "unknown tie-break key 'median'"),
    ("component with both sources", _set(["rounds", 2, "components", 1, "scores"], {"张三": 1}), "exactly one"),
    ("empty candidate name", _set(["rounds", 0, "posts", 0, "candidates"], ["张三", " "]), "is not a name"),
    ("decide with fewer nominees than seats", (lambda d: d["rounds"].append(
        {"id": "d1", "kind": "decide", "expected": 9, "nominees": ["a"], "seats": 2})), "at least as many nominees as seats"),
    ("grade_values of the wrong length", (lambda d: d["rounds"].append(
        {"id": "e1", "kind": "evaluate", "subjects": ["a"], "grade_values": [100, 80]})), "must be a list of 4 numbers"),
    ("quota on an unknown grade", (lambda d: d["rounds"].append(
        {"id": "e1", "kind": "evaluate", "subjects": ["a"], "quota": {"良好": 1}})), "is not one of the grades"),
    ("composite from evaluate without values", (lambda d: d["rounds"].append(
        {"id": "e1", "kind": "evaluate", "subjects": ["张三"]}) or d["rounds"][2]["components"][1].update(round="e1")),
     "has neither grade_values nor items"),
    ("composite from recommend without post", _set(["rounds", 2, "components", 1, "round"], "r1"), "must name one of its posts"),
    ("bad preset definition", _set(["presets"], {"local": "half"}), "bad threshold 'half'"),
]


@pytest.mark.parametrize(("change", "message"), [pytest.param(c, m, id=i) for i, c, m in BAD])
def test_bad_meeting_files_fail_with_one_clear_line(write_meeting, change, message):
    path = write_meeting(_mutate(change))
    with pytest.raises(PlanError) as caught:
        load_plan(path)
    text = str(caught.value)
    assert message in text
    assert text.startswith(f"{path}:") and "\n" not in text


@pytest.mark.parametrize(("text", "line", "message"), [
    (GOOD.replace("        seats: 1\n", "        seats: 0\n"), 10, "rounds[0].posts[0].seats: must be at least 1"),
    (GOOD.replace("    trim: 1\n", "    trim: 4\n"), 15, "rounds[1].trim: dropping 4 at each end"),
    (GOOD.replace("kind: composite", "kind: compost"), 19, "unknown kind 'compost'"),
    (GOOD.replace("    judges: 7\n", "    judges: 7\n    judges: 8\n"), 15, "key 'judges' appears twice"),
    (GOOD + "  - id: x\n   kind: [\n", 24, "not valid YAML"),
    (GOOD.replace("step: 0.5", "step: .nan"), 16, "is not a finite number"),
])
def test_errors_name_the_line(write_meeting, text, line, message):
    path = write_meeting(text)
    with pytest.raises(PlanError) as caught:
        load_plan(path)
    assert caught.value.line == line, str(caught.value)
    assert str(caught.value).startswith(f"{path}:{line}: ") and message in str(caught.value)


@pytest.mark.parametrize(("content", "message"), [
    ('{"meeting": {"title": "x"}, "rounds": [}', "not valid JSON"),
    ('{"meeting": {"title": "x"}, "meeting": {"title": "y"}, "rounds": []}', "key 'meeting' appears twice"),
    ('{"meeting": {"title": "x"}, "rounds": [{"id": "s", "kind": "score", "judges": NaN}]}', "NaN is not a number"),
    ("[1, 2]", "must be a mapping"),
])
def test_bad_json_files(tmp_path, content, message):
    path = tmp_path / "m.json"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(PlanError, match=message.replace("(", r"\(").replace(")", r"\)")):
        load_plan(path)


def test_pathological_files(tmp_path):
    (tmp_path / "deep.yaml").write_text("meeting: " + "[" * 100_000 + "]" * 100_000, encoding="utf-8")
    with pytest.raises(PlanError, match="nested too deeply"):
        load_plan(tmp_path / "deep.yaml")
    (tmp_path / "big.yaml").write_text("meeting: {title: x}\nrounds: [{id: a, kind: decide, expected: "
                                       + "9" * 5000 + ", nominees: [a]}]", encoding="utf-8")
    with pytest.raises(PlanError, match="cannot be read"):
        load_plan(tmp_path / "big.yaml")


def test_unreadable_and_empty_files(tmp_path):
    with pytest.raises(PlanError, match="cannot be read"):
        load_plan(tmp_path / "missing.yaml")
    (tmp_path / "empty.yaml").write_text("", encoding="utf-8")
    with pytest.raises(PlanError, match="is empty"):
        load_plan(tmp_path / "empty.yaml")
    (tmp_path / "latin.yaml").write_bytes("meeting: {title: caf\xe9}".encode("latin-1"))
    with pytest.raises(PlanError, match="not UTF-8"):
        load_plan(tmp_path / "latin.yaml")


def test_presets_by_name_and_redefined_in_the_file(write_meeting):
    data = yaml.safe_load(GOOD)
    data["presets"] = {"rec_competitive": ">1/4", "local_rule": ">=60%"}
    data["rounds"][0]["posts"][0]["preset"] = "rec_competitive"
    data["rounds"].append({"id": "e1", "kind": "evaluate", "subjects": ["张三"], "threshold": "local_rule",
                           "adjust": "eval_adjust"})
    plan = load_plan(write_meeting(data))
    post = plan.round("r1").posts[0]  # type: ignore[union-attr]
    assert (post.threshold.text, post.threshold.preset) == (">1/4", "rec_competitive")
    e1 = plan.round("e1")
    assert e1.threshold.text == ">=60%" and e1.adjust.text == ">=1/3"  # type: ignore[union-attr]
    assert parse_plan(dump_plan(plan), "again") == plan


def test_floats_from_other_readers_are_taken_by_their_literal():
    data = yaml.safe_load(GOOD)  # plain safe_load: step 0.5 and 82.5 arrive as floats
    plan = parse_plan(json.loads(json.dumps(data)), "stored")
    assert plan.round("s1").step == Decimal("0.5")  # type: ignore[union-attr]


def test_dump_fills_in_live_attendance_and_stays_yaml_safe(write_meeting, tmp_path):
    plan = load_plan(write_meeting(GOOD))
    dumped = dump_plan(plan, {"r1": Attendance(expected=30, present=27, issued=26)})
    assert dumped["rounds"][0]["present"] == 27 and dumped["rounds"][0]["issued"] == 26
    text = yaml.safe_dump(dumped, allow_unicode=True, sort_keys=False)
    again = load_plan(write_meeting(text, "export.yaml"))
    assert again.round("r1").present == 27  # type: ignore[union-attr]
    assert again.round("c1") == plan.round("c1")
    assert "!!" not in text  # plain YAML, no Python tags
