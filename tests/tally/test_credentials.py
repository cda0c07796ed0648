"""Ballot credentials: one key per card and ballot round, over the real app and database.

A card's key of one round votes only in that round; the console counts cards, not rows; the desk
issues a scanned card in every round; a desk unlock registers the kiosk-made card in every open
ballot round; the kiosk's card check asks with one key per round.
"""
from __future__ import annotations

from typing import Any

from sqlalchemy import select

from keys.canonical import b64e
from keys.cards import Card as CardSecret
from keys.cards import new_card, parse_card
from tally.services import services
from tally.store.models import Card

from .conftest import issue_cards, load_forms, pair_kiosk, setup_meeting

BALLOT_ROUNDS = ("r1", "e1", "d1")
R1 = {"round": "r1", "sections": {"mayor": ["张三"]}}
D1 = {"round": "d1", "votes": {"王五": "agree"}}


def rows(app: Any) -> dict[bytes, tuple[str, str]]:
    with services(app).store.writer() as s:
        return {c.public_key: (c.round_id, c.status) for c in s.scalars(select(Card))}


def cards_state(client: Any, admin: dict[str, str]) -> dict[str, int]:
    return client.get("/api/v1/admin/state", headers=admin).get_json()["cards"]


def printed(client: Any, admin: dict[str, str], n: int) -> list[str]:
    resp = client.post("/api/v1/admin/cards", json={"count": n}, headers=admin)
    assert resp.status_code == 201, resp.get_json()
    return resp.get_json()["cards"]


def error(resp: Any) -> tuple[int, str]:
    return resp.status_code, resp.get_json()["error"]["code"]


def test_a_card_is_one_unlinked_row_per_ballot_round(client, app, admin_headers):
    texts = printed(client, admin_headers, 4)
    table = rows(app)
    assert len(table) == 4 * len(BALLOT_ROUNDS)
    for text in texts:
        card = CardSecret(*parse_card(text))
        assert {card.public_for(r): (r, "printed") for r in BALLOT_ROUNDS}.items() <= table.items()
    # Each round holds one credential per card; no row names a card, only a key and a round.
    assert sorted(r for r, _ in table.values()) == sorted(BALLOT_ROUNDS * 4)


def test_a_rounds_key_votes_only_in_its_own_round(client, app, admin_headers):
    setup_meeting(client, admin_headers, open_rounds=("r1", "d1"))
    kiosk = pair_kiosk(client, admin_headers)
    load_forms(client, kiosk)
    card = issue_cards(client, admin_headers, kiosk.meeting, 1)[0]
    # The card is good for d1, but its r1 key is not a d1 credential: unknown there.
    resp = client.post("/api/v1/envelopes", json=kiosk.envelope(card, D1, key_round="r1"))
    assert error(resp) == (403, "unknown_card")
    resp = client.post("/api/v1/envelopes", json=kiosk.envelope(card, R1, key_round="d1"))
    assert error(resp) == (403, "unknown_card")
    # With the right key each round takes the card once; the refusals used up nothing.
    assert client.post("/api/v1/envelopes", json=kiosk.envelope(card, D1)).status_code == 201
    assert client.post("/api/v1/envelopes", json=kiosk.envelope(card, R1)).status_code == 201
    assert error(client.post("/api/v1/envelopes", json=kiosk.envelope(card, D1))) == (409, "card_used")


def test_console_counts_cards_not_rows(client, app, admin_headers):
    setup_meeting(client, admin_headers, open_rounds=("r1",))
    assert cards_state(client, admin_headers) == {"printed": 0, "issued": 0, "void": 0}
    texts = printed(client, admin_headers, 5)
    assert cards_state(client, admin_headers) == {"printed": 5, "issued": 0, "void": 0}
    resp = client.post("/api/v1/desk/cards/issue", json={"card": texts[0]}, headers=admin_headers)
    assert resp.status_code == 200 and resp.get_json()["cards"] == {"printed": 4, "issued": 1, "void": 0}
    issue_cards(client, admin_headers, "", 2)  # two more, handed out as printed
    assert cards_state(client, admin_headers) == {"printed": 4, "issued": 3, "void": 0}
    assert client.post("/api/v1/admin/rounds/r1/close", json={}, headers=admin_headers).status_code == 200
    assert cards_state(client, admin_headers) == {"printed": 0, "issued": 3, "void": 4}
    assert len(rows(app)) == 7 * len(BALLOT_ROUNDS)


def test_bulk_issue_counts_cards(client, admin_headers):
    printed(client, admin_headers, 3)
    resp = client.post("/api/v1/desk/cards/issue", json={"all_printed": True}, headers=admin_headers)
    assert resp.status_code == 200
    assert resp.get_json() == {"issued": 3, "cards": {"printed": 0, "issued": 3, "void": 0}}


def test_desk_scan_issues_the_card_in_every_round(client, app, admin_headers):
    texts = printed(client, admin_headers, 2)
    card = CardSecret(*parse_card(texts[1]))
    assert client.post("/api/v1/desk/cards/issue", json={"card": texts[1].lower()}, headers=admin_headers).status_code == 200
    table = rows(app)
    assert [table[card.public_for(r)] for r in BALLOT_ROUNDS] == [(r, "issued") for r in BALLOT_ROUNDS]
    other = CardSecret(*parse_card(texts[0]))
    assert {table[other.public_for(r)][1] for r in BALLOT_ROUNDS} == {"printed"}
    before = rows(app)
    for body, expected in [
        ({"card": texts[1]}, (409, "card_issued")),
        ({"card": new_card(card.meeting_id).qr_text}, (404, "unknown_card")),
        ({"card": new_card("fedcba9876543210").qr_text}, (400, "wrong_meeting")),
        ({"card": "SCR1.nonsense"}, (400, "bad_card")),
    ]:
        assert error(client.post("/api/v1/desk/cards/issue", json=body, headers=admin_headers)) == expected
    assert rows(app) == before


def test_card_check_takes_one_key_per_round(client, app, admin_headers):
    setup_meeting(client, admin_headers, open_rounds=("r1", "d1"))
    kiosk = pair_kiosk(client, admin_headers)
    load_forms(client, kiosk)
    card = issue_cards(client, admin_headers, kiosk.meeting, 1)[0]

    def check(keys: dict[str, bytes]) -> Any:
        resp = client.post("/api/v1/cards/check", json=kiosk.signed({"cards": {r: b64e(k) for r, k in keys.items()}}))
        assert resp.status_code == 200, resp.get_json()
        return resp.get_json()

    mine = {r: card.public_for(r) for r in ("r1", "d1")}
    assert check(mine) == {"card": "ok", "rounds": {"r1": "ok", "d1": "ok"}}
    assert client.post("/api/v1/envelopes", json=kiosk.envelope(card, D1)).status_code == 201
    assert check(mine) == {"card": "ok", "rounds": {"r1": "ok", "d1": "used"}}
    # A key counts only in the round it was made for.
    assert check({"d1": card.public_for("r1")}) == {"card": "unknown", "rounds": {}}
    assert check({"r1": mine["r1"]}) == {"card": "ok", "rounds": {"r1": "ok"}}
    assert check({"r1": new_card(kiosk.meeting).public_for("r1")}) == {"card": "unknown", "rounds": {}}
    for payload in ({"card": b64e(mine["r1"])}, {"cards": {}}, {"cards": {"r1": "AA"}},
                    {"cards": {"r 1": b64e(mine["r1"])}}, {"cards": {"r1": b64e(mine["r1"]), "d1": b64e(mine["r1"])}},
                    {"cards": [b64e(mine["r1"])]}):
        assert error(client.post("/api/v1/cards/check", json=kiosk.signed(payload))) == (400, "malformed"), payload


def test_unlock_claim_registers_one_key_per_open_ballot_round(client, app, admin_headers):
    setup_meeting(client, admin_headers, open_rounds=("r1", "d1"))
    kiosk = pair_kiosk(client, admin_headers)
    load_forms(client, kiosk)
    assert client.post("/api/v1/desk/unlock", json={"kiosk": kiosk.kiosk_id}, headers=admin_headers).status_code == 200
    grant = client.post("/api/v1/kiosks/heartbeat", json=kiosk.signed({"outbox": 0, "sent": 0})).get_json()["unlock"]["grant"]
    card = new_card(kiosk.meeting)

    def claim(keys: dict[str, bytes], grant_id: str = grant) -> Any:
        return client.post("/api/v1/kiosks/unlock",
                           json=kiosk.signed({"grant": grant_id, "cards": {r: b64e(k) for r, k in keys.items()}}))

    keys = {r: card.public_for(r) for r in ("r1", "d1")}
    before = rows(app)
    for bad, expected in [
        ({**keys, "s9": card.public_for("s9")}, (400, "malformed")),    # no such ballot round
        ({"e1": card.public_for("e1")}, (409, "round_not_open")),       # e1 is still a draft
        ({}, (400, "malformed")),
    ]:
        assert error(claim(bad)) == expected
    assert error(claim(keys, "0" * 32)) == (409, "no_unlock")
    old = client.post("/api/v1/kiosks/unlock", json=kiosk.signed({"grant": grant, "card": b64e(keys["r1"])}))
    assert error(old) == (400, "malformed")
    assert rows(app) == before
    # A key for e1 (not open) is left out: the rows are those of the open ballot rounds.
    assert claim({**keys, "e1": card.public_for("e1")}).status_code == 200
    added = {k: v for k, v in rows(app).items() if k not in before}
    assert added == {keys["r1"]: ("r1", "issued"), keys["d1"]: ("d1", "issued")}
    assert error(claim(keys)) == (409, "no_unlock")  # one unlock, one card
    assert client.post("/api/v1/envelopes", json=kiosk.envelope(card, D1)).status_code == 201
    assert client.post("/api/v1/envelopes", json=kiosk.envelope(card, R1)).status_code == 201
    assert cards_state(client, admin_headers)["issued"] == 1
