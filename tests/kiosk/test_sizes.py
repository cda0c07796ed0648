"""Every sealed ballot of a round has the same length, and a section's names are sorted before sealing.

Hypothesis draws what voters choose (any subset of candidates, write-ins of any characters up to
`keys.limits.MAX_WRITE_IN`, characters outside the BMP and JSON's escaped characters included, any
grades, directions and votes); the kiosk's own check (`kiosk.ballots.ballot_line`) keeps what a
screen could send; each is sealed as a kiosk seals it, to the size the tally signed in the round's
form. The sealed length is always that one size, so the hall network and the ballot box learn
nothing from it; and the order names were tapped in never reaches the ballot.
"""
from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from keys.cards import new_card
from keys.envelope import open_envelope, parse_envelope, seal_envelope
from keys.identity import Identity
from keys.limits import MAX_WRITE_IN
from keys.sealing import OVERHEAD, RoundKey
from kiosk.ballots import SelectionError, ballot_line
from kiosk.forms import RoundForm, parse_form
from tally.box.forms import round_form
from tally.plan import parse_plan
from tally.setup.meeting import MeetingInfo
from tally.store.models import Round

MEETING = "0123456789abcdef"
PLAN = parse_plan({
    "meeting": {"title": "长度测试"},
    "rounds": [
        {"id": "r1", "kind": "recommend", "expected": 15,
         "posts": [{"id": "p", "seats": 3, "candidates": ["甲", "乙乙", "丙丙丙", "Zhang San"], "write_in": True},
                   {"id": "q", "seats": 1, "candidates": ["丁", "戊"]}]},
        {"id": "e1", "kind": "evaluate", "expected": 15, "subjects": ["甲", "乙", "丙", "丁"],
         "directions": ["提拔", "留任", "交流使用"], "quota": {"优秀": 2}},
        {"id": "d1", "kind": "decide", "expected": 15, "nominees": ["甲", "乙", "丙"], "seats": 2},
    ],
})
TALLY = Identity.generate()
KEYS = {r.id: RoundKey.generate() for r in PLAN.rounds}
KIOSK = Identity.generate()


def form(round_id: str) -> RoundForm:
    """The kiosk's form of a round, as the tally signs it for this plan and the kiosk verifies it."""
    info = MeetingInfo(id=MEETING, title="长度测试", plan=PLAN)
    rnd = Round(id=round_id, kind=PLAN.round(round_id).kind.value, title=round_id,
                public_key=KEYS[round_id].public_bytes())
    parsed = parse_form({"meeting": {"id": MEETING}, "rounds": [round_form(info, TALLY, rnd)]}, TALLY.public_bytes())
    found = parsed.round(round_id)
    assert found is not None
    return found


FORMS = {r: form(r) for r in ("r1", "e1", "d1")}
CARD = new_card(MEETING)
# Any character a voter could type, the widest in canonical JSON among them; what the kiosk's name
# check refuses (control and format characters) is drawn less often, and filtered out.
NAME = st.text(st.characters(exclude_categories=["Cs", "Cc", "Cf", "Co", "Cn"]), min_size=1, max_size=MAX_WRITE_IN)


def sealed_length(round_id: str, line: dict[str, Any]) -> int:
    body = seal_envelope(meeting=MEETING, round_id=round_id, kiosk_id="k1", kiosk_identity=KIOSK,
                         card_key=CARD.identity(round_id), round_public=KEYS[round_id].public_bytes(), ballot=line,
                         ballot_size=FORMS[round_id].ballot_size).body
    header = parse_envelope(body)
    assert open_envelope(header, KEYS[round_id]) == line
    return len(header.sealed)


@st.composite
def recommend(draw: Any) -> dict[str, Any]:
    sections = {}
    for post in FORMS["r1"].posts:
        chosen = draw(st.lists(st.sampled_from(post.candidates), unique=True, max_size=post.seats))
        if post.write_in:
            chosen += draw(st.lists(NAME, max_size=post.seats - len(chosen)))
        sections[post.id] = draw(st.permutations(chosen))
    return {"sections": sections}


@st.composite
def evaluate(draw: Any) -> dict[str, Any]:
    f = FORMS["e1"]
    grades = draw(st.dictionaries(st.sampled_from(f.subjects), st.sampled_from(f.grades)))
    directions = draw(st.dictionaries(st.sampled_from(f.subjects), st.sampled_from(f.directions)))
    return {"grades": grades, "directions": directions}


@st.composite
def decide(draw: Any) -> dict[str, Any]:
    return {"votes": draw(st.dictionaries(st.sampled_from(FORMS["d1"].nominees),
                                          st.sampled_from(["agree", "disagree", "abstain"])))}


SELECTIONS = {"r1": recommend(), "e1": evaluate(), "d1": decide()}
SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.filter_too_much])


def _line(round_id: str, selection: dict[str, Any]) -> dict[str, Any]:
    try:
        return ballot_line(FORMS[round_id], selection)
    except SelectionError:
        assume(False)  # the screen would not have let the voter send it
        raise


@SETTINGS
@given(st.data())
def test_every_sealed_ballot_of_a_round_has_the_rounds_one_length(data: Any) -> None:
    for round_id, selection in SELECTIONS.items():
        line = _line(round_id, data.draw(selection))
        assert sealed_length(round_id, line) == FORMS[round_id].ballot_size + OVERHEAD


@SETTINGS
@given(recommend())
def test_names_are_sealed_sorted_whatever_order_they_were_tapped_in(selection: dict[str, Any]) -> None:
    line = _line("r1", selection)
    for names in line["sections"].values():
        assert names == sorted(names)
    # Tapping the same names in another order seals the very same ballot.
    flipped = {"sections": {p: list(reversed(n)) for p, n in selection["sections"].items()}}
    assert ballot_line(FORMS["r1"], flipped) == line


def test_the_largest_ballot_a_screen_allows_fits_exactly_at_most() -> None:
    """The widest write-ins the kiosk takes (characters outside the BMP, 4 bytes each in canonical
    JSON; the size allows 6, what a control character would take) on every seat still fit the
    round's size: the size bounds every ballot the kiosk's check lets through."""
    widest = [chr(0x20000 + c) * MAX_WRITE_IN for c in (1, 2, 3)]
    line = ballot_line(FORMS["r1"], {"sections": {"p": widest, "q": ["戊"]}})
    assert sealed_length("r1", line) == FORMS["r1"].ballot_size + OVERHEAD
    with pytest.raises(SelectionError) as refused:  # a longer write-in is refused before anything is sealed
        ballot_line(FORMS["r1"], {"sections": {"p": ["x" * (MAX_WRITE_IN + 1)]}})
    assert refused.value.code == "malformed"
