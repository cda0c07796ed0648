"""Judge mode on the kiosk (评委席) against the real tally served on loopback.

A judge card binds the kiosk to its seat; the pad's input is checked (range, step, decimals,
numbers only) and refused with JSON errors that store nothing; a whole contestant scored through
seven kiosks' JSON APIs ends in the tally's 亮分 by the rules; a score the chair returns brings
the pad back; the tally's refusals reach the judge's screen; the judge card's secret is never on
disk and the screen state never carries a score value.
"""
from __future__ import annotations

import base64
import json
import re
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient

from keys.canonical import b64d, b64e
from keys.cards import card_key, parse_card
from keys.identity import Identity
from kiosk.agent import Agent
from kiosk.app import create_app
from kiosk.ballots import SelectionError
from kiosk.scores import ScoreRound, check_score, parse_judging

from .conftest import MEETING, LiveJudging, paired_agent, signed_rounds


@pytest.fixture
def kiosks(tmp_path: Path, judging_tally: LiveJudging) -> Iterator[list[Agent]]:
    """Seven paired kiosks, one per judge's seat, as in the hall."""
    agents = [paired_agent(tmp_path / f"kiosk-{i}", judging_tally, f"评委{i}") for i in range(1, 8)]
    yield agents
    for a in agents:
        a.outbox.close()


@pytest.fixture
def kiosk(tmp_path: Path, judging_tally: LiveJudging) -> Iterator[Agent]:
    agent = paired_agent(tmp_path / "kiosk", judging_tally)
    yield agent
    agent.outbox.close()


def web(agent: Agent) -> FlaskClient:
    return create_app(agent, {"TESTING": True}).test_client()


def bind(client: FlaskClient, card_text: str) -> dict[str, Any]:
    resp = client.post("/api/card", json={"card": card_text})
    assert resp.status_code == 200, resp.get_json()
    doc = resp.get_json()
    assert doc["mode"] == "judge"
    return doc


def poll(agent: Agent, client: FlaskClient, token: str) -> dict[str, Any]:
    agent.judges.refresh()
    resp = client.post("/api/judge", json={"session": token})
    assert resp.status_code == 200, resp.get_json()
    return resp.get_json()


def score(client: FlaskClient, token: str, contestant: str, value: Any) -> Any:
    return client.post("/api/judge/score", json={"session": token, "contestant": contestant, "score": value})


# -- binding -----------------------------------------------------------------------------------

def test_a_judge_card_binds_the_kiosk_to_its_seat(kiosk: Agent, judging_tally: LiveJudging) -> None:
    client = web(kiosk)
    assert client.get("/api/state").get_json()["judging"] == 1
    doc = bind(client, judging_tally.judge_cards["J07"])
    assert (doc["label"], doc["seat"], doc["screen"]) == ("J07", 7, "waiting")
    assert doc["round"] == {"id": "s1", "title": "结构化面试", "min": "0", "max": "100", "step": "0.5", "decimals": 1}
    assert doc["contestant"] is None and doc["notice"] is None
    # The chair opens the first contestant: the judge's next poll shows the pad.
    judging_tally.chair("next")
    now = poll(kiosk, client, doc["session"])
    assert (now["screen"], now["contestant"]) == ("pad", "甲")
    # Another scan replaces the judge (one screen, one person); the old token is refused.
    other = bind(client, judging_tally.judge_cards["J03"])
    assert other["label"] == "J03"
    gone = client.post("/api/judge", json={"session": doc["session"]})
    assert gone.status_code == 409 and gone.get_json()["error"]["code"] == "no_session"
    # Leaving judge mode ends the session.
    assert client.post("/api/judge/exit", json={"session": other["session"]}).get_json() == {"ok": True}
    assert client.post("/api/judge", json={"session": other["session"]}).get_json()["error"]["code"] == "no_session"
    assert not kiosk.judges.bound


def test_a_ballot_card_still_votes_on_a_judging_kiosk(kiosk: Agent, judging_tally: LiveJudging) -> None:
    client = web(kiosk)
    judge = bind(client, judging_tally.judge_cards["J01"])
    (card,) = judging_tally.cards(kiosk.pairing.meeting, 1)
    resp = client.post("/api/card", json={"card": card.qr_text})
    assert resp.status_code == 200 and resp.get_json()["mode"] == "voter" and resp.get_json()["rounds"] == ["r1"]
    assert client.post("/api/judge", json={"session": judge["session"]}).status_code == 409


def test_a_judge_card_needs_the_tally_to_say_whose_it_is(kiosk: Agent, judging_tally: LiveJudging) -> None:
    # The tally drops off the LAN: with the voter rounds closed, a card cannot be told apart.
    judging_tally.client.post("/api/v1/admin/rounds/r1/close", json={}, headers=judging_tally.admin)
    kiosk.refresh_form()
    # Only judging is open: the welcome screen asks judges for their card.
    page = web(kiosk).get("/").get_data(as_text=True)
    assert re.search(r'data-state="judging"\s*>', page) and "评委请扫描评委卡开始评分。" in page
    assert web(kiosk).get("/api/state").get_json() | {"form": None} == {
        "status": "active", "unlocked": False, "form": None, "rounds": 0, "judging": 1}
    kiosk.page_client.base_url = "http://127.0.0.1:9"
    resp = web(kiosk).post("/api/card", json={"card": judging_tally.judge_cards["J02"]})
    assert resp.status_code == 503 and resp.get_json()["error"] == {
        "code": "tally_unreachable", "message": "暂时无法核验此卡，请稍后再试。"}
    assert not kiosk.judges.bound


# -- the pad -----------------------------------------------------------------------------------

PAD_CASES = [
    ("", "bad_score", "请先输入评分。"),
    ("   ", "bad_score", "请先输入评分。"),
    ("abc", "bad_score", "评分必须是数字。"),
    ("1e2", "bad_score", "评分必须是数字。"),
    ("8 8", "bad_score", "评分必须是数字。"),
    ("88,5", "bad_score", "评分必须是数字。"),
    ("NaN", "bad_score", "评分必须是数字。"),
    (88.5, "bad_score", "评分必须是数字。"),
    (88, "bad_score", "评分必须是数字。"),
    (None, "bad_score", "请先输入评分。"),
    ("101", "score_out_of_range", "评分须在 0 至 100 之间。"),
    ("100.5", "score_out_of_range", "评分须在 0 至 100 之间。"),
    ("-1", "score_out_of_range", "评分须在 0 至 100 之间。"),
    ("88.3", "score_off_step", "评分须为 0.5 的整数倍。"),
    ("0.1", "score_off_step", "评分须为 0.5 的整数倍。"),
    ("88.55", "too_many_decimals", "最多 1 位小数。"),
    ("88.50", "too_many_decimals", "最多 1 位小数。"),
]


def test_the_pad_refuses_bad_scores_and_stores_nothing(kiosk: Agent, judging_tally: LiveJudging) -> None:
    client = web(kiosk)
    token = bind(client, judging_tally.judge_cards["J04"])["session"]
    judging_tally.chair("next")
    kiosk.judges.refresh()
    for value, code, message in PAD_CASES:  # one tally for the whole table: it is the slow part
        resp = score(client, token, "甲", value)
        assert resp.status_code == 400, value
        assert resp.get_json() == {"error": {"code": code, "message": message}}, value
    assert kiosk.outbox.counts() == {"pending": 0, "sent": 0, "rejected": 0}
    assert judging_tally.console()["scored_seats"] == []
    assert poll(kiosk, client, token)["screen"] == "pad"


def test_the_pad_refuses_what_is_not_open_or_not_its_turn(kiosk: Agent, judging_tally: LiveJudging) -> None:
    client = web(kiosk)
    token = bind(client, judging_tally.judge_cards["J05"])["session"]
    # Nobody open yet.
    resp = score(client, token, "甲", "88")
    assert resp.status_code == 409 and resp.get_json()["error"]["code"] == "contestant_not_open"
    judging_tally.chair("next")
    # The chair just opened 甲: a kiosk that has not polled yet asks the tally before refusing.
    wrong = score(client, token, "乙", "88")
    assert wrong.status_code == 409 and wrong.get_json()["error"] == {
        "code": "contestant_not_open", "message": "该选手的评分尚未开始或已经结束。"}
    assert score(client, "not-my-token", "甲", "88").get_json()["error"]["code"] == "no_session"
    assert client.post("/api/judge/score", data="88", content_type="text/plain").status_code == 415
    assert score(client, token, ["甲"], "88").status_code == 400
    assert kiosk.outbox.counts()["pending"] == 0
    # A good score is taken once; a second tap is refused while the first waits in the outbox.
    first = score(client, token, "甲", "088.5")
    assert first.status_code == 201 and first.get_json()["screen"] == "locked"
    again = score(client, token, "甲", "90")
    assert again.status_code == 409 and again.get_json()["error"]["code"] == "seat_already_scored"
    assert kiosk.outbox.counts() == {"pending": 1, "sent": 0, "rejected": 0}
    assert kiosk.sender.step() is None
    console = judging_tally.console()
    assert console["scored_seats"] == [5]


@pytest.mark.parametrize(
    ("step", "lo", "hi", "typed", "sent"),
    [("0.5", "0", "100", "088.5", "88.5"), ("0.5", "0", "100", "0", "0"), ("1", "60", "100", "75", "75"),
     ("0.1", "0", "10", "9.9", "9.9"), ("0.25", "0", "10", "7.75", "7.75"), ("0.5", "0", "100", "100", "100"),
     ("0.5", "0", "100", "88.", "88")],
)
def test_good_scores_travel_as_decimal_strings(step: str, lo: str, hi: str, typed: str, sent: str) -> None:
    rnd = ScoreRound(id="s1", title="t", public_key=b"\0" * 32, ballot_size=512, judges=7, contestants=("甲",),
                     min=Decimal(lo), max=Decimal(hi),
                     step=Decimal(step), current="甲", phase="scoring", scored_seats=frozenset())
    if typed.endswith("."):  # the page drops a trailing point before it sends; the kiosk does not guess
        with pytest.raises(SelectionError):
            check_score(rnd, typed)
        return
    assert check_score(rnd, typed) == sent


def test_whole_number_plans_say_so() -> None:
    rnd = ScoreRound(id="s1", title="t", public_key=b"\0" * 32, ballot_size=512, judges=7, contestants=("甲",),
                     min=Decimal(60), max=Decimal(100),
                     step=Decimal(1), current=None, phase="idle", scored_seats=frozenset())
    with pytest.raises(SelectionError) as err:
        check_score(rnd, "75.5")
    assert err.value.code == "too_many_decimals" and err.value.message == "The score must be a whole number."


def test_the_judging_document_is_checked() -> None:
    from kiosk.forms import FormError, UnsignedForm

    tally = Identity.generate()
    form = {"id": "s1", "kind": "score", "title": "面试", "public_key": b64e(b"\1" * 32), "judges": 7, "min": "0",
            "max": "100", "step": "0.5", "contestants": ["甲", "乙"]}
    live = {"current": None, "phase": "idle", "scored_seats": []}

    def doc(signed: dict[str, object], state: dict[str, object]) -> dict[str, object]:
        return {"meeting": {"id": MEETING, "title": "x"}, "rounds": signed_rounds(tally, MEETING, [signed], {"s1": state})}

    assert parse_judging(doc(form, live), tally.public_bytes()).round("s1") is not None
    # What the tally signs is checked after its signature: a bad plan is refused even when signed.
    assert parse_judging(doc(form, {**live, "current": "甲", "phase": "scoring"}), tally.public_bytes()).round("s1")
    for field, bad in (("step", "x"), ("step", "0"), ("judges", 0), ("public_key", "xx"), ("ballot_size", 0),
                       ("contestants", ["甲", "甲"])):
        with pytest.raises(FormError):
            parse_judging(doc({**form, field: bad}, live), tally.public_bytes())
    # Who is being scored travels beside the signature: it must be one of the signed contestants.
    for field, bad in (("phase", "open"), ("scored_seats", ["1"]), ("current", "冒名者")):
        with pytest.raises(FormError):
            parse_judging(doc(form, {**live, field: bad}), tally.public_bytes())
    # A form signed by another key, or changed after signing, is never taken.
    with pytest.raises(UnsignedForm):
        parse_judging(doc(form, live), Identity.generate().public_bytes())
    changed = doc(form, live)
    entry = changed["rounds"][0]  # type: ignore[index]
    entry["signed"]["document"] = b64e(b64d(entry["signed"]["document"]).replace(b'"0.5"', b'"0.1"'))
    with pytest.raises(UnsignedForm):
        parse_judging(changed, tally.public_bytes())


# -- a whole contestant ---------------------------------------------------------------------------

def test_a_contestant_scored_on_seven_kiosks_is_revealed_by_the_rules(kiosks: list[Agent],
                                                                      judging_tally: LiveJudging) -> None:
    clients = [web(a) for a in kiosks]
    tokens = [bind(c, judging_tally.judge_cards[f"J{i:02d}"])["session"] for i, c in enumerate(clients, start=1)]
    assert judging_tally.chair("next")["current"] == "甲"
    # RULES.md: 85.5, 88, 90, 86.5, 92, 79, 88 with trim 1 → 87.60
    values = ["85.5", "88", "90", "86.5", "92", "79", "88"]
    for agent, client, token, value in zip(kiosks, clients, tokens, values, strict=False):
        pad = poll(agent, client, token)
        assert (pad["screen"], pad["contestant"]) == ("pad", "甲")
        done = score(client, token, "甲", value)
        assert done.status_code == 201
        locked = done.get_json()
        assert (locked["screen"], locked["locked"]) == ("locked", "sending")
        assert value not in json.dumps(locked)  # the screen state never carries the value
        assert agent.sender.step() is None
    console = judging_tally.console()
    assert console["phase"] == "revealed" and console["result"]["mean"] == "87.60"
    struck = {x["label"]: x["struck"] for x in console["result"]["scores"]}
    assert struck["J05"] == "high" and struck["J06"] == "low"
    assert sum(1 for v in struck.values() if v) == 2
    # Revealed: every pad waits for the next contestant.
    for agent, client, token in zip(kiosks, clients, tokens, strict=False):
        assert poll(agent, client, token)["screen"] == "waiting"
        assert agent.outbox.counts() == {"pending": 0, "sent": 1, "rejected": 0}
    # The next contestant opens every pad again, nothing typed carried over.
    judging_tally.chair("next")
    assert {poll(a, c, t)["contestant"] for a, c, t in zip(kiosks, clients, tokens, strict=False)} == {"乙"}


def test_a_returned_score_brings_the_pad_back(kiosks: list[Agent], judging_tally: LiveJudging) -> None:
    clients = [web(a) for a in kiosks]
    tokens = [bind(c, judging_tally.judge_cards[f"J{i:02d}"])["session"] for i, c in enumerate(clients, start=1)]
    judging_tally.chair("next")
    # Seat 7 is far from the panel's median: flagged, so the full panel is not shown at once.
    for agent, client, token, value in zip(kiosks, clients, tokens, ["90", "91", "89", "90", "92", "88", "40"], strict=False):
        agent.judges.refresh()
        assert score(client, token, "甲", value).status_code == 201
        assert agent.sender.step() is None
    seven, client7, token7 = kiosks[6], clients[6], tokens[6]
    # A state fetched before seat 7's receipt cannot tell a returned score from a late one: still locked.
    assert client7.post("/api/judge", json={"session": token7}).get_json()["screen"] == "locked"
    assert judging_tally.console()["flags"] == [7]
    assert poll(seven, client7, token7)["locked"] == "received"
    judging_tally.chair("void", {"seat": 7, "reason": "评委按错键"})
    pad = poll(seven, client7, token7)
    assert pad["screen"] == "pad" and pad["contestant"] == "甲"
    assert pad["notice"] == {"kind": "returned", "code": "returned", "message": "主持人已退回您的评分，请重新打分"}
    # The other seats stay locked.
    assert poll(kiosks[0], clients[0], tokens[0])["screen"] == "locked"
    assert score(client7, token7, "甲", "90").status_code == 201
    assert seven.sender.step() is None
    console = judging_tally.console()
    assert console["phase"] == "revealed" and console["result"]["mean"] == "90.00"
    assert poll(seven, client7, token7) | {"round": None} == {
        "mode": "judge", "label": "J07", "seat": 7, "online": True, "screen": "waiting", "contestant": None,
        "notice": None, "locked": None, "round": None}


# -- the tally's refusals reach the judge --------------------------------------------------------

def test_a_score_refused_by_the_tally_is_shown_on_the_pad(kiosk: Agent, judging_tally: LiveJudging) -> None:
    client = web(kiosk)
    token = bind(client, judging_tally.judge_cards["J02"])["session"]
    judging_tally.chair("next")
    kiosk.judges.refresh()
    # The staff replace seat 2's card (reported lost) while the judge still holds the old one.
    judging_tally.chair("judge-cards", {"seats": [2]})
    assert score(client, token, "甲", "80").status_code == 201
    assert kiosk.sender.step() is None
    assert kiosk.outbox.rejections() == {"unknown_judge_card": 1}
    pad = poll(kiosk, client, token)
    assert pad["screen"] == "pad"
    assert pad["notice"] == {"kind": "rejected", "code": "unknown_judge_card",
                             "message": "这张评委卡不是本轮的有效评委卡，请联系工作人员。"}
    client.get("/?lang=en")
    assert poll(kiosk, client, token)["notice"]["message"] == \
        "This judge card is not valid for this round. Please call the staff."


def test_a_score_that_arrives_after_the_chair_showed_the_result(kiosks: list[Agent],
                                                                judging_tally: LiveJudging) -> None:
    clients = [web(a) for a in kiosks[:4]]
    tokens = [bind(c, judging_tally.judge_cards[f"J{i:02d}"])["session"] for i, c in enumerate(clients, start=1)]
    judging_tally.chair("next")
    for agent, client, token in zip(kiosks[:4], clients, tokens, strict=False):
        agent.judges.refresh()
        assert score(client, token, "甲", "80").status_code == 201
    for agent in kiosks[:3]:
        assert agent.sender.step() is None
    # Seat 4's score is still in its outbox (the LAN dropped) when the chair shows the result with 3.
    judging_tally.chair("show")
    assert kiosks[3].sender.step() is None
    waiting = poll(kiosks[3], clients[3], tokens[3])
    assert waiting["screen"] == "waiting"
    assert waiting["notice"]["code"] == "contestant_not_open"
    assert waiting["notice"]["message"] == "该选手的评分尚未开始或已经结束，您的评分未被接收。"


def test_a_judge_card_binds_before_the_kiosk_has_heard_of_its_round(tmp_path: Path,
                                                                    judging_tally: LiveJudging) -> None:
    """A judge card is known to the tally only by its key for its score round. A kiosk whose
    judging state has not arrived yet asks with its voter rounds' keys, hears "unknown", fetches
    the judging state and asks again with the score round's key."""
    agent = paired_agent(tmp_path / "fresh", judging_tally, judging=False)
    try:
        assert agent.judges.open_rounds() == ()
        doc = bind(web(agent), judging_tally.judge_cards["J02"])
        assert (doc["label"], doc["round"]["id"]) == ("J02", "s1")
    finally:
        agent.outbox.close()


def test_a_judge_cards_keys_for_other_rounds_are_no_seat(kiosk: Agent, judging_tally: LiveJudging) -> None:
    """The check asks with one key per open round; only the s1 key names the seat."""
    meeting, secret = parse_card(judging_tally.judge_cards["J05"])
    answer = kiosk.page_client.check_card(kiosk.signer.identity, kiosk.signer.kiosk_id,
                                          {"r1": card_key(secret, meeting, "r1").public_bytes()})
    assert answer == {"card": "unknown", "rounds": {}}
    answer = kiosk.page_client.check_card(kiosk.signer.identity, kiosk.signer.kiosk_id,
                                          {r: card_key(secret, meeting, r).public_bytes() for r in ("r1", "s1")})
    assert answer == {"card": "judge", "round": "s1", "seat": 5, "label": "J05"}


# -- secrets -----------------------------------------------------------------------------------

def test_the_judge_card_secret_is_never_on_disk(kiosk: Agent, judging_tally: LiveJudging) -> None:
    text = judging_tally.judge_cards["J06"]
    client = web(kiosk)
    token = bind(client, text)["session"]
    judging_tally.chair("next")
    kiosk.judges.refresh()
    assert score(client, token, "甲", "87.5").status_code == 201
    assert kiosk.sender.step() is None
    client.post("/api/judge/exit", json={"session": token})
    meeting, secret = parse_card(text)
    private = card_key(secret, meeting, "s1").private_bytes()
    needles = [text.encode(), text.split(".")[-1].encode(), secret, private, secret.hex().encode(),
               private.hex().encode(), b64e(secret).encode(), b64e(private).encode(),
               base64.b64encode(secret), base64.b64encode(private)]
    files = [p for p in kiosk.paths.data.rglob("*") if p.is_file()]
    assert {p.name for p in files} >= {"kiosk.json", "kiosk.key", "outbox.sqlite"}
    for path in files:
        data = path.read_bytes()
        for needle in needles:
            assert needle not in data, path.name
        assert b"87.5" not in data and b'"score"' not in data, path.name  # the score is sealed
    # The outbox does hold the card's public key (it is in the envelope anyway).
    public = b64e(card_key(secret, meeting, "s1").public_bytes()).encode()
    assert any(public in p.read_bytes() for p in files if p.name.startswith("outbox"))


# -- the outbox keys judges' scores by contestant -------------------------------------------------

OLD_SCHEMA = """
CREATE TABLE envelopes (
    id INTEGER PRIMARY KEY, envelope_hash TEXT NOT NULL UNIQUE, round TEXT NOT NULL, card TEXT NOT NULL,
    body TEXT NOT NULL,
    state TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'sent', 'rejected')),
    receipt TEXT, error TEXT, attempts INTEGER NOT NULL DEFAULT 0,
    CHECK ((state = 'sent') = (receipt IS NOT NULL)), CHECK ((state = 'rejected') = (error IS NOT NULL)));
CREATE INDEX envelopes_pending ON envelopes (state, id);
CREATE UNIQUE INDEX envelopes_card_round ON envelopes (round, card) WHERE state != 'rejected';
INSERT INTO envelopes (envelope_hash, round, card, body) VALUES ('h0', 'r1', 'ballot-card', '{}');
"""


def test_an_outbox_from_before_judging_is_upgraded_and_keys_scores_by_contestant(tmp_path: Path) -> None:
    import sqlite3

    from kiosk.outbox import CardAlreadyUsed, Outbox, Outgoing

    path = tmp_path / "outbox.sqlite"
    with sqlite3.connect(path) as db:
        db.executescript(OLD_SCHEMA)
    box = Outbox(path)
    try:
        assert box.used_rounds("ballot-card") == {"r1"}
        with pytest.raises(CardAlreadyUsed):  # a ballot card still votes once per round
            box.add_all([Outgoing("h1", "r1", "ballot-card", {})])

        def score(h: str, contestant: str) -> list[int]:
            return box.add_all([Outgoing(h, "s1", "judge-card", {}, subject=contestant)])

        (a,) = score("s1", "甲")
        with pytest.raises(CardAlreadyUsed):  # one score waiting per seat and contestant
            score("s2", "甲")
        (b,) = score("s3", "乙")  # the same card scores the next contestant
        box.mark_sent(a, {"receipt": "x"})
        (c,) = score("s4", "甲")  # after the chair returned it, 甲 again
        assert [box.latest_score("judge-card", "s1", n).id for n in ("甲", "乙")] == [c, b]  # type: ignore[union-attr]
        assert box.latest_score("judge-card", "s1", "丙") is None
        assert box.used_rounds("judge-card") == set()  # a judge card is never a spent ballot card
    finally:
        box.close()
