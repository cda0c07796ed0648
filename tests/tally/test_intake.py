"""Intake over the real Flask app and SQLite: acceptance, receipts, and every refusal changes nothing."""
from __future__ import annotations

import copy
import threading

import pytest
from sqlalchemy import func, select

from keys.canonical import b64d, b64e
from keys.envelope import verify_receipt
from keys.identity import Identity
from tally.services import services
from tally.store.models import CardUse, Envelope, Round

from .conftest import issue_cards, load_forms, pair_kiosk

BALLOT = {"round": "r1", "sections": {"mayor": ["张三"]}}


def box_state(app):  # type: ignore[no-untyped-def]
    with services(app).store.writer() as s:
        r1 = s.get(Round, "r1")
        return (s.scalar(select(func.count()).select_from(Envelope)), s.scalar(select(func.count()).select_from(CardUse)),
                r1.accepted, r1.chain_head)


def test_accepts_and_signs_a_receipt(client, app, voting):
    kiosk, cards = voting
    body = kiosk.envelope(cards[0], BALLOT)
    resp = client.post("/api/v1/envelopes", json=body)
    assert resp.status_code == 201
    tally_pub = services(app).identity.public_bytes()
    import hashlib

    env_hash = hashlib.sha256(b64d(body["envelope"])).hexdigest()
    receipt = verify_receipt(resp.get_json(), tally_pub, env_hash)
    assert receipt["round"] == "r1" and receipt["envelope"] == env_hash
    count, uses, accepted, head = box_state(app)
    assert (count, uses, accepted) == (1, 1, 1)
    assert head == receipt["entry"]


def test_resent_envelope_gets_the_same_receipt_and_no_second_ballot(client, app, voting):
    kiosk, cards = voting
    body = kiosk.envelope(cards[0], BALLOT)
    first = client.post("/api/v1/envelopes", json=body)
    again = client.post("/api/v1/envelopes", json=body)
    assert first.status_code == 201 and again.status_code == 200
    assert first.get_json() == again.get_json()
    assert box_state(app)[:3] == (1, 1, 1)


def _flip(body: dict, key: str) -> dict:
    b = copy.deepcopy(body)
    raw = bytearray(b64d(b[key]))
    raw[len(raw) // 2] ^= 0x01
    b[key] = b64e(bytes(raw))
    return b


@pytest.mark.parametrize("mutate, status, code", [
    (lambda b: _flip(b, "envelope"), 400, None),
    (lambda b: _flip(b, "kiosk_sig"), 400, "bad_signature"),
    (lambda b: _flip(b, "card_sig"), 400, "bad_signature"),
    (lambda b: {k: v for k, v in b.items() if k != "card_sig"}, 400, "malformed"),
    (lambda b: {**b, "envelope": b["envelope"][:40]}, 400, None),
    (lambda b: {**b, "extra": "x"}, 400, "malformed"),
    (lambda b: [b], 400, "malformed"),
    (lambda b: "not an envelope", 400, "malformed"),
])
def test_tampered_or_truncated_envelopes_are_refused(client, app, voting, mutate, status, code):
    kiosk, cards = voting
    before = box_state(app)
    resp = client.post("/api/v1/envelopes", json=mutate(kiosk.envelope(cards[0], BALLOT)))
    assert resp.status_code == status
    err = resp.get_json()["error"]
    assert err["message"]
    if code:
        assert err["code"] == code
    else:
        assert err["code"] in ("malformed", "bad_signature")
    assert box_state(app) == before


def test_malformed_json_wrong_type_and_oversize(client, app, voting):
    before = box_state(app)
    r = client.post("/api/v1/envelopes", data="{not json", content_type="application/json")
    assert r.status_code == 400 and r.get_json()["error"]["code"] == "malformed"
    r = client.post("/api/v1/envelopes", data="{}", content_type="text/plain")
    assert r.status_code == 415 and r.get_json()["error"]["code"] == "unsupported_media_type"
    r = client.post("/api/v1/envelopes", data="x" * (300 * 1024), content_type="application/json")
    assert r.status_code == 413 and r.get_json()["error"]["code"] == "too_large"
    assert box_state(app) == before


def test_unknown_pending_and_revoked_kiosks(client, app, admin_headers, voting):
    kiosk, cards = voting
    stranger = copy.copy(kiosk)
    stranger.identity = Identity.generate()
    stranger.kiosk_id = "0123456789abcdef"
    r = client.post("/api/v1/envelopes", json=stranger.envelope(cards[0], BALLOT))
    assert r.status_code == 403 and r.get_json()["error"]["code"] == "unknown_kiosk"
    pending = pair_kiosk(client, admin_headers, preconfirm=False, name="p")
    pending.forms = kiosk.forms
    r = client.post("/api/v1/envelopes", json=pending.envelope(cards[0], BALLOT))
    assert r.status_code == 403 and r.get_json()["error"]["code"] == "kiosk_pending"
    assert client.post(f"/api/v1/admin/kiosks/{kiosk.kiosk_id}/revoke", headers=admin_headers).status_code == 200
    r = client.post("/api/v1/envelopes", json=kiosk.envelope(cards[0], BALLOT))
    assert r.status_code == 403 and r.get_json()["error"]["code"] == "kiosk_revoked"
    assert box_state(app)[:3] == (0, 0, 0)


def test_a_kiosk_signature_under_another_kiosk_id_is_refused(client, app, admin_headers, voting):
    kiosk, cards = voting
    other = pair_kiosk(client, admin_headers, name="other")
    forged = copy.copy(kiosk)
    forged.kiosk_id = other.kiosk_id  # signed by kiosk's key, claiming to be `other`
    r = client.post("/api/v1/envelopes", json=forged.envelope(cards[0], BALLOT))
    assert r.status_code == 400 and r.get_json()["error"]["code"] == "bad_signature"


def test_card_used_twice_and_unknown_card(client, app, admin_headers, voting):
    kiosk, cards = voting
    assert client.post("/api/v1/envelopes", json=kiosk.envelope(cards[0], BALLOT)).status_code == 201
    r = client.post("/api/v1/envelopes", json=kiosk.envelope(cards[0], {"round": "r1", "sections": {"mayor": ["李四"]}}))
    assert r.status_code == 409 and r.get_json()["error"]["code"] == "card_used"
    from keys.cards import new_card

    r = client.post("/api/v1/envelopes", json=kiosk.envelope(new_card(kiosk.meeting), BALLOT))
    assert r.status_code == 403 and r.get_json()["error"]["code"] == "unknown_card"
    assert box_state(app)[:3] == (1, 1, 1)


def test_replayed_nonce_with_other_content_is_refused(client, app, voting):
    kiosk, cards = voting
    body = kiosk.envelope(cards[0], BALLOT)
    assert client.post("/api/v1/envelopes", json=body).status_code == 201
    # Rebuild a different envelope that reuses the first one's nonce, correctly signed.
    from keys.canonical import canonical, parse_canonical
    from keys.labels import CARD, ENVELOPE, domain

    e = parse_canonical(b64d(body["envelope"]))
    card2 = cards[1]
    e2 = dict(e, card=b64e(card2.public_for("r1")))
    raw = canonical(e2)
    forged = {"envelope": b64e(raw), "kiosk_sig": b64e(kiosk.identity.sign(domain(ENVELOPE, raw))),
              "card_sig": b64e(card2.identity("r1").sign(domain(CARD, raw)))}
    r = client.post("/api/v1/envelopes", json=forged)
    assert r.status_code == 409 and r.get_json()["error"]["code"] == "nonce_reused"
    assert box_state(app)[:3] == (1, 1, 1)


def test_closed_unknown_and_unopened_rounds(client, app, admin_headers, voting):
    kiosk, cards = voting
    kiosk.forms["zz"] = dict(kiosk.forms["r1"], id="zz")
    r = client.post("/api/v1/envelopes", json=kiosk.envelope(cards[0], {"round": "zz", "sections": {}}))
    assert r.status_code == 404 and r.get_json()["error"]["code"] == "unknown_round"
    # d1 is not open: its key is not in the forms, so seal to r1's key under d1's name.
    kiosk.forms["d1"] = dict(kiosk.forms["r1"], id="d1")
    r = client.post("/api/v1/envelopes", json=kiosk.envelope(cards[0], {"round": "d1", "votes": {"王五": "agree"}}))
    assert r.status_code == 409 and r.get_json()["error"]["code"] == "round_not_open"
    assert client.post("/api/v1/admin/rounds/r1/close", headers=admin_headers, json={}).status_code == 200
    r = client.post("/api/v1/envelopes", json=kiosk.envelope(cards[1], BALLOT))
    assert r.status_code == 409 and r.get_json()["error"]["code"] == "round_not_open"
    assert box_state(app)[:3] == (0, 0, 0)


def test_round_accepts_at_most_its_present(client, app, admin_headers):
    from .conftest import setup_meeting

    setup_meeting(client, admin_headers, sign_in=3)
    kiosk = pair_kiosk(client, admin_headers)
    load_forms(client, kiosk)
    cards = issue_cards(client, admin_headers, kiosk.meeting, 5)
    codes = [client.post("/api/v1/envelopes", json=kiosk.envelope(c, BALLOT)).status_code for c in cards]
    assert codes == [201, 201, 201, 409, 409]
    r = client.post("/api/v1/envelopes", json=kiosk.envelope(cards[4], BALLOT))
    assert r.get_json()["error"]["code"] == "round_full"
    assert box_state(app)[2] == 3


def test_two_kiosks_racing_with_one_card_get_exactly_one_acceptance(client, app, admin_headers, voting):
    kiosk, cards = voting
    other = pair_kiosk(client, admin_headers, name="other")
    other.forms = kiosk.forms
    bodies = [kiosk.envelope(cards[0], BALLOT), other.envelope(cards[0], {"round": "r1", "sections": {"mayor": ["李四"]}})] * 4
    results: list[int] = []
    lock = threading.Lock()

    def send(b):  # type: ignore[no-untyped-def]
        c = app.test_client()
        code = c.post("/api/v1/envelopes", json=b).status_code
        with lock:
            results.append(code)

    threads = [threading.Thread(target=send, args=(b,)) for b in bodies]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results.count(201) == 1
    assert set(results) <= {201, 200, 409}
    assert box_state(app)[:3] == (1, 1, 1)
