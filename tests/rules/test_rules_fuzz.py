"""Bad input of any shape fails cleanly: a ballot is counted or refused with BallotInputError,
a meeting mapping is a plan or a PlanError; nothing else ever escapes."""
from __future__ import annotations

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from tally.plan import PlanError, load_plan, parse_plan
from tally.rules import BallotInputError, count_meeting

WORDS = st.sampled_from(["round", "r1", "e1", "d1", "s1", "c1", "sections", "mayor", "grades", "votes", "judge",
                         "contestant", "score", "invalid", "张三", "李四", "王五", "优秀", "称职", "agree", "J01",
                         "88.5", "", "directions", "提拔"])
JSON = st.recursive(st.none() | st.booleans() | st.integers(-3, 200) | st.floats(allow_nan=False) | WORDS,
                    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(WORDS, inner, max_size=5),
                    max_leaves=12)
BALLOT = st.fixed_dictionaries({"round": st.sampled_from(["r1", "e1", "d1", "s1", "c1", "r9"])},
                               optional={"sections": JSON, "grades": JSON, "directions": JSON, "votes": JSON,
                                         "judge": JSON, "contestant": JSON, "score": JSON, "invalid": JSON}) | JSON


@settings(max_examples=400, deadline=None)
@given(st.lists(BALLOT, max_size=6))
def test_any_ballot_line_is_counted_or_refused_cleanly(contract_plan, ballots):
    try:
        doc = count_meeting(contract_plan, enumerate(ballots, 1))
    except BallotInputError as exc:
        assert exc.line is not None and 1 <= exc.line <= len(ballots)
        assert "\n" not in exc.message
    else:
        json.dumps(doc)  # always a JSON document


KEYS = st.sampled_from(["meeting", "rounds", "title", "id", "kind", "expected", "present", "issued", "posts",
                        "seats", "candidates", "write_in", "threshold", "preset", "subjects", "grades", "nominees",
                        "judges", "trim", "step", "min", "max", "contestants", "components", "weight", "scores",
                        "round", "post", "quota", "grade_values", "defer_rule", "tie_break", "shortlist", "presets"])
VALUES = st.recursive(st.none() | st.booleans() | st.integers(-2, 40) | st.floats(allow_nan=True)
                      | st.sampled_from(["recommend", "evaluate", "decide", "score", "composite", "r1", ">=1/3",
                                         "rec_competitive", "0.5", "张三", "", "x y"]),
                      lambda inner: st.lists(inner, max_size=4) | st.dictionaries(KEYS, inner, max_size=6),
                      max_leaves=25)


@settings(max_examples=400, deadline=None)
@given(st.dictionaries(KEYS, VALUES, max_size=4))
def test_any_meeting_mapping_is_a_plan_or_one_plan_error(data):
    try:
        parse_plan(data, "fuzz.yaml")
    except PlanError as exc:
        assert str(exc).startswith("fuzz.yaml") and "\n" not in str(exc)


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("meting:rounds-idkyp[]{},\"' \n\t0123456789.&*!|>%张")), max_size=120))
def test_any_meeting_text_is_a_plan_or_one_plan_error(tmp_path_factory, text):
    path = tmp_path_factory.mktemp("fuzz") / "m.yaml"
    path.write_text(text, encoding="utf-8")
    try:
        load_plan(path)
    except PlanError as exc:
        assert str(exc).startswith(str(path)) and "\n" not in str(exc)
