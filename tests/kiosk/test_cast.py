"""The kiosk's `/api/card` and `/api/cast`: what the screens may send, and what gets sealed.

The tally is unreachable in these tests (see conftest), so the card check is skipped as it is
during an outage, and every accepted cast must still land in the outbox before the answer.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient

from keys.canonical import b64e
from keys.cards import Card, new_card
from keys.envelope import open_envelope, parse_envelope, verify_envelope
from kiosk.agent import Agent

from .conftest import Hall, open_session

BLANK: dict[str, Any] = {"r1": {}, "e1": {}, "d1": {}}


def cast(client: FlaskClient, token: str, rounds: Any) -> Any:
    return client.post("/api/cast", json={"session": token, "rounds": rounds})


def with_round(rid: str, selection: Any) -> dict[str, Any]:
    return {**BLANK, rid: selection}


# (round, selection, expected error code)
REFUSED = [
    ("r1", {"sections": {"mayor": ["张三", "李四"]}}, "over_vote"),
    ("r1", {"sections": {"deputy": ["赵六", "钱七", "孙八"]}}, "over_vote"),
    ("r1", {"sections": {"deputy": ["赵六", "赵六"]}}, "duplicate_name"),
    ("r1", {"sections": {"mayor": ["张三", " 张三 "]}}, "duplicate_name"),
    ("r1", {"sections": {"deputy": ["钱多多"]}}, "unknown_name"),  # write-ins are off for deputy
    ("r1", {"sections": {"governor": ["张三"]}}, "unknown_post"),
    ("r1", {"sections": {"mayor": [""]}}, "malformed"),
    ("r1", {"sections": {"mayor": "张三"}}, "malformed"),
    ("r1", {"sections": {"mayor": ["名" * 40]}}, "malformed"),
    ("r1", {"votes": {"张三": "agree"}}, "malformed"),
    ("e1", {"grades": {"张三": "优秀", "李四": "优秀"}}, "quota_exceeded"),
    ("e1", {"grades": {"张三": "极好"}}, "unknown_grade"),
    ("e1", {"grades": {"张三": ["优秀", "称职"]}}, "unknown_grade"),
    ("e1", {"grades": {"赵六": "称职"}}, "unknown_name"),
    ("e1", {"grades": {"张三": "称职"}, "directions": {"张三": "退休"}}, "unknown_direction"),
    ("d1", {"votes": {"王五": "agree", "赵六": "agree"}}, "over_vote"),
    ("d1", {"votes": {"王五": "yes"}}, "bad_choice"),
    ("d1", {"votes": {"张三": "agree"}}, "unknown_name"),
    ("d1", ["agree"], "malformed"),
]


@pytest.mark.parametrize(("rid", "selection", "code"), REFUSED)
def test_bad_selection_is_refused_and_nothing_is_stored(
    client: FlaskClient, agent: Agent, card: Card, rid: str, selection: Any, code: str
) -> None:
    token = open_session(client, card)["session"]
    resp = cast(client, token, with_round(rid, selection))
    assert resp.status_code == 400
    err = resp.get_json()["error"]
    assert err["code"] == code
    assert err["message"]
    assert agent.outbox.counts() == {"pending": 0, "sent": 0, "rejected": 0}
    # The voter can fix the screen and cast with the same session.
    assert cast(client, token, BLANK).status_code == 201


def test_cast_seals_what_was_chosen_and_stores_it_before_answering(
    client: FlaskClient, agent: Agent, card: Card, hall: Hall
) -> None:
    session = open_session(client, card)
    assert session["rounds"] == ["r1", "e1", "d1"]
    assert session["check_code"] == card.check_code
    rounds = {
        "r1": {"sections": {"mayor": ["钱多多"], "deputy": ["孙八", "赵六"]}},  # write-in for mayor
        "e1": {"grades": {"张三": "优秀", "李四": "称职"}, "directions": {"张三": "提拔"}},
        "d1": {"votes": {"王五": "agree", "周九": "abstain"}},
    }
    resp = cast(client, session["session"], rounds)
    assert resp.status_code == 201
    receipts = resp.get_json()["receipts"]
    assert len(receipts) == 3
    assert agent.outbox.counts()["pending"] == 3

    opened = {}
    for item in agent.outbox.pending():
        header = parse_envelope(item.body)
        verify_envelope(header, agent.signer.identity.public_bytes())
        # Each round's envelope carries the card's key for that round, never one shared key.
        assert header.card_public == card.public_for(item.round_id)
        assert header.receipt_code in receipts
        opened[item.round_id] = open_envelope(header, hall.round_keys[item.round_id])
    assert len({parse_envelope(i.body).card_public for i in agent.outbox.pending()}) == 3
    assert opened == {
        "r1": {"round": "r1", "sections": {"mayor": ["钱多多"], "deputy": ["孙八", "赵六"]}},
        "e1": {"round": "e1", "grades": {"张三": "优秀", "李四": "称职"}, "directions": {"张三": "提拔"}},
        "d1": {"round": "d1", "votes": {"王五": "agree", "周九": "abstain"}},
    }


def test_blank_ballot_is_allowed(client: FlaskClient, agent: Agent, card: Card, hall: Hall) -> None:
    token = open_session(client, card)["session"]
    assert cast(client, token, BLANK).status_code == 201
    lines = {i.round_id: open_envelope(parse_envelope(i.body), hall.round_keys[i.round_id])
             for i in agent.outbox.pending()}
    assert lines["r1"] == {"round": "r1", "sections": {"mayor": [], "deputy": []}}
    assert lines["e1"] == {"round": "e1", "grades": {}, "directions": {}}
    assert lines["d1"] == {"round": "d1", "votes": {}}


def test_one_card_casts_once(client: FlaskClient, agent: Agent, card: Card) -> None:
    token = open_session(client, card)["session"]
    assert cast(client, token, BLANK).status_code == 201
    again = cast(client, token, BLANK)
    assert again.status_code == 409
    assert again.get_json()["error"]["code"] == "no_session"
    # The tally is away, yet the kiosk's own outbox knows this card has voted every round.
    rescan = client.post("/api/card", json={"card": card.qr_text})
    assert rescan.status_code == 409
    assert rescan.get_json()["error"]["code"] == "card_used"
    assert agent.outbox.counts()["pending"] == 3


def test_a_new_scan_replaces_the_previous_session(client: FlaskClient, card: Card) -> None:
    first = open_session(client, card)["session"]
    second = open_session(client, new_card(card.meeting_id))["session"]
    assert cast(client, first, BLANK).status_code == 409
    assert cast(client, second, BLANK).status_code == 201


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"card": "not a card"}, 400, "bad_card"),
        ({"card": new_card("fedcba9876543210").qr_text}, 403, "wrong_meeting"),
        ({"unlock": True}, 409, "not_unlocked"),
        ({"card": 42}, 400, "malformed"),
        ([], 400, "malformed"),
    ],
)
def test_card_refusals(client: FlaskClient, body: Any, status: int, code: str) -> None:
    resp = client.post("/api/card", json=body)
    assert resp.status_code == status
    assert resp.get_json()["error"]["code"] == code


def test_the_card_number_as_printed_opens_a_ballot_and_the_check_code_is_named(client: FlaskClient, card: Card) -> None:
    """The card prints its number grouped by four (what the scan screen asks for) and its check
    code: the number typed with its spaces opens the ballot; the check code is refused by name."""
    from keys.cards import printed_number

    printed = printed_number(card.qr_text)
    refused = client.post("/api/card", json={"card": card.check_code.lower()})
    assert refused.status_code == 400 and refused.get_json()["error"]["code"] == "check_code_typed"
    assert "SCR1" in refused.get_json()["error"]["message"]
    opened = client.post("/api/card", json={"card": printed})
    assert opened.status_code == 200 and opened.get_json()["check_code"] == card.check_code


def test_stale_page_is_told_to_reload(client: FlaskClient, card: Card) -> None:
    resp = client.post("/api/card", json={"card": card.qr_text, "form": "0" * 16})
    assert resp.status_code == 409
    assert resp.get_json()["error"]["code"] == "form_changed"


@pytest.mark.parametrize(
    ("kwargs", "status", "code"),
    [
        ({"data": "{}", "content_type": "text/plain"}, 415, "unsupported_media_type"),
        ({"data": "{not json", "content_type": "application/json"}, 400, "malformed"),
        ({"json": {"session": "x", "rounds": BLANK}}, 409, "no_session"),
    ],
)
def test_cast_request_errors_are_json(client: FlaskClient, kwargs: dict[str, Any], status: int, code: str) -> None:
    resp = client.post("/api/cast", **kwargs)
    assert resp.status_code == status
    assert resp.get_json()["error"]["code"] == code


def test_rounds_must_match_the_session(client: FlaskClient, card: Card) -> None:
    token = open_session(client, card)["session"]
    resp = cast(client, token, {"r1": {}})
    assert resp.status_code == 400
    assert resp.get_json()["error"]["code"] == "incomplete"


def test_wrong_method_and_unknown_api_path_are_json(client: FlaskClient) -> None:
    assert client.get("/api/cast").get_json()["error"]["code"] == "method_not_allowed"
    assert client.get("/api/nothing").get_json()["error"]["code"] == "not_found"


def test_card_secret_never_reaches_the_disk(client: FlaskClient, agent: Agent, card: Card, paths: Any) -> None:
    token = open_session(client, card)["session"]
    assert cast(client, token, {**BLANK, "r1": {"sections": {"mayor": ["张三"]}}}).status_code == 201
    agent.outbox.close()  # let SQLite put everything where it rests (db and WAL files)
    secret_forms = [
        card.secret, card.secret.hex().encode(), b64e(card.secret).encode(), card.qr_text.encode(),
        *(card.identity(r).private_bytes() for r in ("r1", "e1", "d1")),
    ]
    files = [f for f in Path(paths.data).rglob("*") if f.is_file()]
    blob = b"".join(f.read_bytes() for f in files)
    for r in ("r1", "e1", "d1"):
        assert b64e(card.public_for(r)).encode() in blob  # the scan reads where envelopes rest
    for form in secret_forms:
        assert form not in blob
