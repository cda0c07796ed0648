"""The kiosk keeps its own copies of two checks (it must not import `tally`): what a judge may
type on the pad (`kiosk.scores.check_score`) and what a voter may put on a ballot
(`kiosk.ballots.ballot_line`). One table feeds each copy and the tally's rules engine the same
cases, so the two cannot drift: whatever the kiosk seals, the rules count as the voter meant it;
whatever the rules would refuse or count invalid, the kiosk refuses on the screen.
"""
from __future__ import annotations

from decimal import Decimal

import pytest

from kiosk.ballots import MAX_WRITE_IN, SelectionError, ballot_line
from kiosk.ballots import name_problem as kiosk_name_problem
from kiosk.forms import parse_form
from kiosk.scores import ScoreRound as PadRound
from kiosk.scores import check_score
from tally.box.forms import round_form
from tally.plan import parse_plan
from tally.rules import BallotInputError, ScoreValueError, parse_ballot, score_value
from tally.rules.names import WRITE_IN_MAX, BadName, check_name
from tally.store.models import Round

PLAN = parse_plan({
    "meeting": {"title": "validators"},
    "rounds": [
        {"id": "r1", "kind": "recommend", "expected": 10,
         "posts": [{"id": "p", "seats": 2, "candidates": ["甲", "乙", "丙"], "write_in": True},
                   {"id": "q", "seats": 1, "candidates": ["丁", "戊"]}]},
        {"id": "e1", "kind": "evaluate", "expected": 10, "subjects": ["甲", "乙"],
         "directions": ["提拔", "留任"], "quota": {"优秀": 1}},
        {"id": "d1", "kind": "decide", "expected": 10, "nominees": ["甲", "乙"], "seats": 1},
        {"id": "s1", "kind": "score", "judges": 7, "trim": 1, "min": 60, "max": 100, "step": "0.5",
         "contestants": ["甲"]},
    ],
})

# raw value typed or sent, the rules' answer, the pad's answer (None = accepted, else the code).
SCORES = [
    ("88.5", None, None),
    ("60", None, None),
    ("100", None, None),
    ("100.5", "score_out_of_range", "score_out_of_range"),
    ("59.5", "score_out_of_range", "score_out_of_range"),
    ("-70", "score_out_of_range", "score_out_of_range"),
    ("88.2", "score_off_step", "score_off_step"),
    ("88.25", "score_off_step", "too_many_decimals"),  # the pad counts the decimals before the step
    ("abc", "bad_score", "bad_score"),
    ("", "bad_score", "bad_score"),
    ("1e2", "bad_score", "bad_score"),
    ("NaN", "bad_score", "bad_score"),
    (None, "bad_score", "bad_score"),
    (88.5, "bad_score", "bad_score"),  # a JSON float: scores travel as decimal strings
    # The pad is stricter about how a score is typed, never looser about what it is:
    ("88.50", None, "too_many_decimals"),
    (90, None, "bad_score"),  # a JSON integer is a score for `tally count`; the pad sends text
]


def _pad_round() -> PadRound:
    sp = PLAN.round("s1")
    return PadRound(id="s1", title="s1", public_key=b"\x01" * 32, judges=7, min=sp.min, max=sp.max, step=sp.step,
                    current="甲", phase="scoring", scored_seats=frozenset())


@pytest.mark.parametrize("raw, rules_code, pad_code", SCORES)
def test_one_score_check_on_the_pad_and_in_the_rules(raw, rules_code, pad_code):
    try:
        value = score_value(PLAN.round("s1"), raw)
        got_rules = None
    except ScoreValueError as exc:
        got_rules, value = exc.code, None
    assert got_rules == rules_code
    try:
        sent = check_score(_pad_round(), raw)
        got_pad = None
    except SelectionError as exc:
        got_pad, sent = exc.code, None
    assert got_pad == pad_code
    if sent is not None:  # what the pad sends, the rules take as the very same score
        assert score_value(PLAN.round("s1"), sent) == value == Decimal(str(raw))


def _form(round_id: str):  # the kiosk's form, parsed from what the tally serves for this plan
    rnd = Round(id=round_id, kind=PLAN.round(round_id).kind.value, title=round_id, public_key=b"\x02" * 32)
    doc = {"meeting": {"id": "0123456789abcdef", "title": "validators"}, "rounds": [round_form(PLAN, rnd)]}
    return parse_form(doc).round(round_id)


VALID, INVALID = "valid", "invalid"
# round, the voter's selection, the kiosk's refusal code (None: sealed), what the rules make of it.
BALLOTS = [
    ("r1", {"sections": {"p": ["甲"], "q": ["丁"]}}, None, VALID),
    ("r1", {"sections": {"p": ["甲", "乙"]}}, None, VALID),
    ("r1", {"sections": {"p": ["钱七"]}}, None, VALID),  # a write-in where the post allows one
    ("r1", {"sections": {}}, None, VALID),  # blank: valid, abstains
    ("r1", {"sections": {"p": ["甲", "乙", "丙"]}}, "over_vote", INVALID),
    ("r1", {"sections": {"p": ["甲", "甲"]}}, "duplicate_name", INVALID),
    ("r1", {"sections": {"q": ["钱七"]}}, "unknown_name", INVALID),  # no write-ins for q
    ("r1", {"sections": {"x": ["甲"]}}, "unknown_post", INVALID),
    # Write-ins: one rule of what a name is (tally.rules.names, and the kiosk's copy).
    ("r1", {"sections": {"p": [" 钱七 "]}}, None, VALID),  # trimmed before it is sealed
    ("r1", {"sections": {"p": ["王　五"]}}, None, VALID),  # a full-width space inside a name is a space
    ("r1", {"sections": {"p": ["<b>钱七</b>"]}}, None, VALID),  # markup characters are text, printed as text
    ("r1", {"sections": {"p": ["钱" * 32]}}, None, VALID),
    ("r1", {"sections": {"p": ["钱" * 33]}}, "malformed", INVALID),  # longer than the kiosk's field
    ("r1", {"sections": {"p": [""]}}, "malformed", INVALID),
    ("r1", {"sections": {"p": ["   "]}}, "malformed", INVALID),
    ("r1", {"sections": {"p": [7]}}, "malformed", INVALID),
    ("r1", {"sections": {"p": ["钱\x00七"]}}, "bad_name", INVALID),
    ("r1", {"sections": {"p": ["钱\n七"]}}, "bad_name", INVALID),
    ("r1", {"sections": {"p": ["\u202e七钱"]}}, "bad_name", INVALID),  # a bidi override shows another name
    ("r1", {"sections": {"p": ["钱\u200b七"]}}, "bad_name", INVALID),  # a zero-width space
    ("r1", {"sections": {"p": ["钱\ud800"]}}, "bad_name", INVALID),  # a lone surrogate is not text
    ("e1", {"grades": {"甲": "优秀", "乙": "称职"}, "directions": {"甲": "提拔"}}, None, VALID),
    ("e1", {"grades": {"甲": "优秀", "乙": "优秀"}}, "quota_exceeded", INVALID),
    ("e1", {"grades": {"甲": "极好"}}, "unknown_grade", INVALID),
    ("e1", {"grades": {"丙": "称职"}}, "unknown_name", INVALID),
    ("e1", {"grades": {"甲": "称职"}, "directions": {"甲": "退休"}}, "unknown_direction", INVALID),
    ("d1", {"votes": {"甲": "agree", "乙": "disagree"}}, None, VALID),
    ("d1", {"votes": {"甲": "agree", "乙": "agree"}}, "over_vote", INVALID),
    ("d1", {"votes": {"甲": "maybe"}}, "bad_choice", INVALID),
    ("d1", {"votes": {"丙": "agree"}}, "unknown_name", INVALID),
]


def _rules_verdict(line: dict) -> str:
    """VALID when the rules count every part of the line as the voter marked it, else INVALID."""
    try:
        marks = parse_ballot(PLAN, line).marks
    except BallotInputError:
        return INVALID
    if marks is None:  # the whole ballot is invalid (over a quota, over the seats)
        return INVALID
    if line["round"] == "r1":
        return INVALID if any(section is None for section in marks) else VALID
    if line["round"] == "e1":
        grades, _directions = marks
        return INVALID if any(code == -2 for code in grades) else VALID
    return VALID


@pytest.mark.parametrize("round_id, selection, kiosk_code, rules", BALLOTS)
def test_the_kiosk_refuses_exactly_what_the_rules_would_not_count(round_id, selection, kiosk_code, rules):
    form = _form(round_id)
    try:
        line = ballot_line(form, selection)
        got = None
    except SelectionError as exc:
        got, line = exc.code, {"round": round_id, **selection}
    assert got == kiosk_code
    assert _rules_verdict(line) == rules


NAMES = ["钱七", " 钱七", "王　五", "a b", "<img src=x onerror=alert(1)>", "=1+1", "钱" * 32, "钱" * 33, "", " ",
         "钱\x00七", "钱\t七", "钱\x7f", "钱\x85", "\u202e钱", "\u2066钱", "钱\u200d七", "钱\u2028七", "\ud800", "\ufeff钱",
         None, 7, ["钱七"]]


@pytest.mark.parametrize("raw", NAMES)
def test_one_rule_of_what_a_write_in_is_on_the_kiosk_and_in_the_rules(raw):
    assert MAX_WRITE_IN == WRITE_IN_MAX
    try:
        check_name(raw, WRITE_IN_MAX)
        rules = None
    except BadName as exc:
        rules = exc.reason
    assert kiosk_name_problem(raw, MAX_WRITE_IN) == rules
