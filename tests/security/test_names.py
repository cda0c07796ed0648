"""Names are checked where they enter: the meeting file, a kiosk's name at `kiosk pair`.

One rule (`tally.rules.names`): printable characters only (no control character, lone surrogate
or format character such as a bidi override, which could make a screen show one name while the
ballot counts another), trimmed, a length limit. Markup characters are allowed: they are printed
as text everywhere (test_hostile_names). Write-ins, roster and pool rows and kiosk names at the
tally are held to it in test_validators_agree, test_hostile_names and test_malformed.
"""
from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from tally.plan import PlanError, parse_plan

PLAN: dict[str, Any] = {
    "meeting": {"title": "某镇会议"},
    "rounds": [
        {"id": "r1", "kind": "recommend", "title": "推荐", "expected": 10,
         "posts": [{"id": "p", "title": "镇长", "seats": 1, "candidates": ["张三", "李四"]}]},
        {"id": "e1", "kind": "evaluate", "title": "测评", "subjects": ["张三"], "grades": ["好", "差"],
         "directions": ["提拔"]},
        {"id": "d1", "kind": "decide", "title": "票决", "expected": 10, "nominees": ["王五"]},
        {"id": "s1", "kind": "score", "title": "面试", "judges": 3, "trim": 1, "contestants": ["甲"]},
    ],
}
PLACES = {
    "meeting title": lambda p, v: p["meeting"].__setitem__("title", v),
    "round title": lambda p, v: p["rounds"][0].__setitem__("title", v),
    "post title": lambda p, v: p["rounds"][0]["posts"][0].__setitem__("title", v),
    "candidate": lambda p, v: p["rounds"][0]["posts"][0]["candidates"].__setitem__(1, v),
    "subject": lambda p, v: p["rounds"][1]["subjects"].__setitem__(0, v),
    "grade": lambda p, v: p["rounds"][1]["grades"].__setitem__(0, v),
    "direction": lambda p, v: p["rounds"][1]["directions"].__setitem__(0, v),
    "nominee": lambda p, v: p["rounds"][2]["nominees"].__setitem__(0, v),
    "contestant": lambda p, v: p["rounds"][3]["contestants"].__setitem__(0, v),
}
NOT_NAMES = {"bidi override": "\u202e四李", "NUL": "李\x00四", "bell": "李\x07四", "line break": "李\n四",
             "zero-width space": "李\u200b四", "lone surrogate": "李\ud800", "surrounding space": " 李四"}


@pytest.mark.parametrize("place", PLACES)
@pytest.mark.parametrize("what", NOT_NAMES)
def test_the_meeting_file_refuses_a_name_that_is_not_text(place: str, what: str) -> None:
    plan = copy.deepcopy(PLAN)
    PLACES[place](plan, NOT_NAMES[what])
    with pytest.raises(PlanError) as err:
        parse_plan(plan, source="meeting.yaml")
    assert "\u202e" not in str(err.value) and "\x00" not in str(err.value)  # the message shows it escaped


@pytest.mark.parametrize("place", PLACES)
def test_the_meeting_file_takes_markup_characters_as_text_and_limits_length(place: str) -> None:
    plan = copy.deepcopy(PLAN)
    PLACES[place](plan, "<b>李四</b>&amp;")
    parse_plan(plan)
    PLACES[place](plan, "李" * 201)
    with pytest.raises(PlanError, match="longer than"):
        parse_plan(plan)


def test_kiosk_pair_refuses_a_name_that_is_not_text(tmp_path: Path) -> None:
    from kiosk.cli import main

    offer = "scrutineer-pair:?u=http%3A%2F%2F127.0.0.1%3A9&c=abcdefgh&f=" + "A" * 32
    for name in ["\u202e1号", "终端\x1b[31m", "k" * 65]:
        out = CliRunner().invoke(main, ["pair", offer, "--data", str(tmp_path / "k"), "--name", name],
                                 env={"KIOSK_PASSPHRASE": "a long kiosk passphrase"})
        assert out.exit_code == 1 and "printable text" in out.output, out.output
        assert not (tmp_path / "k" / "kiosk.json").exists()
