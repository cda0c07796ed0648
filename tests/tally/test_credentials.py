"""Ballot credentials: the scrutineers' card list, over the real app and database.

The tally makes no card: it imports the list the scrutineers made (`keys cards make`), one
unlinked row per card and ballot round, frozen once a round opens; a key not in the list is
refused at intake; left-over cards are voided as a batch by void lines made from their codes on
the scrutineers' machine; a desk unlock (only where the chair allows it) registers the
kiosk-made card, counted apart; the kiosk's card check asks with one key per round.
"""
from __future__ import annotations

import copy
import io
from typing import Any

from sqlalchemy import select

from keys.canonical import b64e
from keys.cards import new_card
from keys.credentials import list_fingerprint, make_cards, void_lines
from keys.record import parse_record
from tally.services import services
from tally.store.models import Card, SpareCard

from .conftest import import_cards, issue_cards, load_forms, pair_kiosk, setup_meeting

BALLOT_ROUNDS = ("r1", "e1", "d1")
SPARES = ("spare-1", "spare-2", "spare-3")
R1 = {"round": "r1", "sections": {"mayor": ["张三"]}}
D1 = {"round": "d1", "votes": {"王五": "agree"}}


def rows(app: Any) -> dict[bytes, tuple[str, str]]:
    with services(app).store.writer() as s:
        out = {c.public_key: (c.round_id, c.status) for c in s.scalars(select(Card))}
        out.update({c.public_key: (c.spare_id, c.status) for c in s.scalars(select(SpareCard))})
        return out


def cards_state(client: Any, admin: dict[str, str]) -> dict[str, int]:
    return client.get("/api/v1/admin/state", headers=admin).get_json()["cards"]


def error(resp: Any) -> tuple[int, str]:
    return resp.status_code, resp.get_json()["error"]["code"]


def made(client: Any, admin: dict[str, str], n: int) -> tuple[list[Any], dict[str, Any]]:
    """Cards made as the scrutineers' tool makes them, from the tally's public meeting record."""
    return make_cards(parse_record(client.get("/api/v1/admin/meeting-record", headers=admin).get_json()), n)


def test_a_card_is_one_unlinked_row_per_ballot_round(client, app, admin_headers):
    cards = import_cards(client, admin_headers, 4)
    table = rows(app)
    assert len(table) == 4 * (len(BALLOT_ROUNDS) + len(SPARES))
    for card in cards:
        assert {card.public_for(r): (r, "issued") for r in BALLOT_ROUNDS + SPARES}.items() <= table.items()
    # Each round holds one credential per card; no row names a card, only a key and a round.
    assert sorted(r for r, _ in table.values()) == sorted((BALLOT_ROUNDS + SPARES) * 4)
    info = client.get("/api/v1/admin/state", headers=admin_headers).get_json()
    assert info["cards"] == {"listed": 4, "void": 0, "desk": 0}
    assert info["card_list"]["cards"] == 4 and len(info["card_list"]["fingerprint"]) == 39


def test_a_bad_card_list_is_refused_and_changes_nothing(client, app, admin_headers):
    import_cards(client, admin_headers, 3)
    before = rows(app)
    _, good = made(client, admin_headers, 2)

    def refit(doc: dict[str, Any]) -> dict[str, Any]:
        doc["fingerprint"] = list_fingerprint(doc)
        return doc

    tampered = copy.deepcopy(good)
    tampered["rounds"]["r1"][0] = b64e(new_card(good["meeting"]).public_for("r1"))  # a key slipped in: fingerprint breaks
    unsorted = refit({**copy.deepcopy(good), "rounds": {r: keys[::-1] for r, keys in good["rounds"].items()}})
    missing = refit({**copy.deepcopy(good), "rounds": {r: k for r, k in good["rounds"].items() if r != "d1"}})
    other_meeting = refit({**copy.deepcopy(good), "meeting": "fedcba9876543210"})
    other_record = refit({**copy.deepcopy(good), "meeting_record": "AAAA " * 7 + "AAAA"})
    for doc, expected in [(tampered, (400, "bad_card_list")), (unsorted, (400, "bad_card_list")),
                          (missing, (400, "bad_card_list")), (other_meeting, (400, "wrong_meeting")),
                          (other_record, (400, "wrong_meeting_record")), ({"cards": []}, (400, "bad_card_list"))]:
        assert error(client.post("/api/v1/admin/cards/import", json=doc, headers=admin_headers)) == expected
    assert rows(app) == before


def test_the_list_is_frozen_once_a_round_opens(client, app, admin_headers):
    setup_meeting(client, admin_headers, open_rounds=("r1",))
    before = rows(app)
    _, doc = made(client, admin_headers, 2)
    assert error(client.post("/api/v1/admin/cards/import", json=doc, headers=admin_headers)) == (409, "card_list_frozen")
    assert rows(app) == before


def test_a_voting_round_needs_the_card_list(client, admin_headers):
    roster = io.BytesIO("编号,姓名\n001,甲\n".encode())
    resp = client.post("/api/v1/admin/roster", data={"file": (roster, "r.csv")}, headers=admin_headers)
    assert resp.status_code == 200
    client.post("/api/v1/desk/signin", json={"all": True}, headers=admin_headers)
    assert error(client.post("/api/v1/admin/rounds/r1/open", json={}, headers=admin_headers)) == (409, "no_card_list")
    # Where the chair allows desk unlocks, the kiosks make the cards: the round may open.
    assert client.post("/api/v1/admin/settings", json={"desk_unlock": True}, headers=admin_headers).status_code == 200
    assert client.post("/api/v1/admin/rounds/r1/open", json={}, headers=admin_headers).status_code == 200


def test_a_card_not_in_the_list_is_refused_at_intake(client, app, admin_headers):
    setup_meeting(client, admin_headers, open_rounds=("r1",))
    kiosk = pair_kiosk(client, admin_headers)
    load_forms(client, kiosk)
    stranger = new_card(kiosk.meeting)  # a card the tally (or anyone) made: not on the scrutineers' list
    assert error(client.post("/api/v1/envelopes", json=kiosk.envelope(stranger, R1))) == (403, "unknown_card")
    (card,) = issue_cards(client, admin_headers, kiosk.meeting, 1)
    assert client.post("/api/v1/envelopes", json=kiosk.envelope(card, R1)).status_code == 201


def test_left_over_cards_are_voided_as_a_batch(client, app, admin_headers):
    """By the void lines the scrutineers' tool makes (`keys cards void`): each card's key in each
    round, signed by it. The tally never sees a card's code."""
    setup_meeting(client, admin_headers, open_rounds=("r1",), cards=6)
    kiosk = pair_kiosk(client, admin_headers)
    load_forms(client, kiosk)
    used, *left = issue_cards(client, admin_headers, kiosk.meeting, 4)
    assert client.post("/api/v1/envelopes", json=kiosk.envelope(used, R1)).status_code == 201
    rounds = parse_record(client.get("/api/v1/admin/meeting-record", headers=admin_headers).get_json()).card_rounds
    before = rows(app)
    bad = [*void_lines([left[0]], rounds), "SCRV1.nonsense"]
    assert error(client.post("/api/v1/admin/cards/void", json={"lines": bad}, headers=admin_headers))[1] == "bad_void_line"
    assert rows(app) == before  # one unreadable line: nothing voided
    lines = void_lines([*left, used, new_card(kiosk.meeting), left[0]], rounds)
    resp = client.post("/api/v1/admin/cards/void", json={"lines": lines}, headers=admin_headers)
    assert resp.status_code == 200, resp.get_json()
    out = resp.get_json()
    assert (out["voided"], out["already_void"], out["unknown"], out["used"]) == (4, 1, 1, 1)
    assert out["totals"] == {"listed": 6, "void": 4, "desk": 0}
    table = rows(app)
    for card in left:  # every round, spare keys too
        assert {table[card.public_for(r)][1] for r in BALLOT_ROUNDS + SPARES} == {"void"}
    assert error(client.post("/api/v1/envelopes", json=kiosk.envelope(left[1], R1))) == (409, "card_void")


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
    # The meeting has not allowed desk unlocks: the desk must hand out a card.
    assert error(client.post("/api/v1/desk/unlock", json={"kiosk": kiosk.kiosk_id}, headers=admin_headers)) == (
        409, "desk_unlock_off")
    assert client.post("/api/v1/admin/settings", json={"desk_unlock": True}, headers=admin_headers).status_code == 200
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
    assert cards_state(client, admin_headers)["desk"] == 1
    # Forbidding desk unlocks again drops a grant not yet claimed.
    assert client.post("/api/v1/desk/unlock", json={"kiosk": kiosk.kiosk_id}, headers=admin_headers).status_code == 200
    grant = client.post("/api/v1/kiosks/heartbeat", json=kiosk.signed({"outbox": 0, "sent": 0})).get_json()["unlock"]["grant"]
    assert client.post("/api/v1/admin/settings", json={"desk_unlock": False}, headers=admin_headers).status_code == 200
    assert error(claim({r: new_card(kiosk.meeting).public_for(r) for r in ("r1", "d1")}, grant)) == (409, "no_unlock")
