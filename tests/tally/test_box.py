"""The published box and the signed forms, over the real app and SQLite.

Forms: every ballot round's form is signed by the tally (meeting, round, names, rules, key, ballot
size) and a kiosk reads only the signed bytes. Sizes: intake takes only a sealed ballot of its
round's one size. Box: once a round closes its receipt codes are public, sorted, signed; the page
needs no token and finds a code without asking the tally which one; the export carries the list.
"""
from __future__ import annotations

import json

from keys import labels
from keys.canonical import b64d
from keys.document import verify_document
from keys.envelope import parse_envelope, seal_envelope
from keys.errors import BadSignature
from keys.qr import qr_svg
from tally.box.forms import ballot_size
from tally.services import services

from .conftest import count_body, load_forms, pair_kiosk, setup_meeting
from .test_intake import BALLOT, box_state

NAMES = ["张三", "李四", "王五", "张三"]


def test_forms_are_signed_and_carry_the_rounds_size(client, app, admin_headers, voting):
    tally = services(app).identity.public_bytes()
    plan = services(app).meeting.plan
    (entry,) = client.get("/api/v1/ballot").get_json()["rounds"]
    signed = verify_document(entry["signed"], tally, labels.FORM)
    assert signed == {k: v for k, v in entry.items() if k != "signed"}
    assert signed["meeting"] == services(app).meeting.id and signed["id"] == "r1"
    assert signed["ballot_size"] == ballot_size(plan.round("r1"))
    assert signed["posts"][0]["candidates"] == ["张三", "李四", "王五"]
    with services(app).store.reader() as s:
        from tally.store.models import Round

        assert b64d(signed["public_key"]) == s.get(Round, "r1").public_key
    # Not a result sheet, not a box: the label is inside the signature.
    for other in (labels.RESULT, labels.BOX):
        try:
            verify_document(entry["signed"], tally, other)
        except BadSignature:
            continue
        raise AssertionError("a form verified as " + other)


def test_intake_takes_only_its_rounds_size(client, app, voting):
    kiosk, cards = voting
    form = kiosk.forms["r1"]
    for size in (form["ballot_size"] - 1, form["ballot_size"] + 1, 512):
        body = seal_envelope(meeting=kiosk.meeting, round_id="r1", kiosk_id=kiosk.kiosk_id, kiosk_identity=kiosk.identity,
                             card_key=cards[0].identity("r1"), round_public=b64d(form["public_key"]), ballot=BALLOT,
                             ballot_size=size).body
        r = client.post("/api/v1/envelopes", json=body)
        assert r.status_code == 400 and r.get_json()["error"]["code"] == "malformed", size
    assert box_state(app)[:3] == (0, 0, 0)  # nothing taken, the card still unused
    assert client.post("/api/v1/envelopes", json=kiosk.envelope(cards[0], BALLOT)).status_code == 201


def test_the_box_is_published_once_the_round_closes(client, app, admin_headers, voting):
    kiosk, cards = voting
    codes = []
    for card, name in zip(cards, NAMES, strict=False):
        body = kiosk.envelope(card, {"round": "r1", "sections": {"mayor": [name]}})
        assert client.post("/api/v1/envelopes", json=body).status_code == 201
        codes.append(parse_envelope(body).receipt_code)
    # Open: nothing published yet (and no token is needed to ask).
    r = client.get("/api/v1/box/r1")
    assert r.status_code == 409 and r.get_json()["error"]["code"] == "round_not_closed"
    assert client.get("/api/v1/box/nope").status_code == 404
    assert client.get("/api/v1/box/d1").get_json()["error"]["code"] == "round_not_closed"  # never opened
    assert client.post("/api/v1/admin/rounds/r1/close", json={}, headers=admin_headers).status_code == 200

    doc = client.get("/api/v1/box/r1").get_json()
    head = box_state(app)[3]
    card_list = client.get("/api/v1/admin/state", headers=admin_headers).get_json()["card_list"]
    assert {k: doc[k] for k in ("meeting", "round", "count", "chain_head", "credentials_fingerprint", "receipts")} == {
        "meeting": services(app).meeting.id, "round": "r1", "count": 4, "chain_head": head,
        "credentials_fingerprint": card_list["fingerprint"], "receipts": sorted(codes)}
    tally = services(app).identity.public_bytes()
    assert verify_document(doc["signed"], tally, labels.BOX) == {k: v for k, v in doc.items() if k != "signed"}

    # The public page: every code, no token; the lookup happens in the page (nothing is asked).
    page = client.get("/box").get_data(as_text=True)
    for code in codes:
        assert f"<code>{code}</code>" in page
    assert head in page and 'src="/static/tally/box.js"' in page and "?code=" not in page

    # Counted: still published, and the export carries the same list.
    assert client.post("/api/v1/admin/rounds/r1/count", json=count_body(client, "r1"),
                       headers=admin_headers).status_code == 200
    export = client.get("/api/v1/admin/rounds/r1/export", headers=admin_headers).get_json()
    assert json.loads(export["files"]["receipts.json"]) == {k: v for k, v in doc.items() if k != "signed"}


def test_the_projector_links_the_box_by_a_qr_code(client, app, admin_headers):
    links = client.get("/api/v1/admin/links", headers=admin_headers).get_json()
    page = client.get(links["projector"].replace("http://localhost", "")).get_data(as_text=True)
    assert 'src="/box/qr.svg"' in page and "http://localhost/box" in page
    qr = client.get("/box/qr.svg")
    assert qr.status_code == 200 and qr.headers["Content-Type"] == "image/svg+xml"
    assert qr.get_data(as_text=True) == qr_svg("http://localhost/box", box_size=8, border=2)
    app.config["PUBLIC_URL"] = "http://10.0.0.5:8000"
    assert client.get("/box/qr.svg").get_data(as_text=True) == qr_svg("http://10.0.0.5:8000/box", box_size=8, border=2)


def test_the_box_names_the_scrutineers_card_list(client, app, admin_headers):
    """A ballot round's published box carries the fingerprint of the card list the scrutineers made
    (`keys cards make`) and the tally imported: the same in the signed box, the export's
    `receipts.json` and `credentials.json`, and on the public page. Without a list (desk unlocks
    only) it is null."""
    from keys.credentials import make_cards
    from keys.record import parse_record

    record = parse_record(client.get("/api/v1/admin/meeting-record", headers=admin_headers).get_json())
    cards, doc = make_cards(record, 6)
    assert client.post("/api/v1/admin/cards/import", json=doc, headers=admin_headers).status_code == 200
    setup_meeting(client, admin_headers, open_rounds=("r1", "d1"), cards=0)
    kiosk = pair_kiosk(client, admin_headers)
    load_forms(client, kiosk)
    assert client.post("/api/v1/envelopes", json=kiosk.envelope(cards[0], BALLOT)).status_code == 201
    for r in ("r1", "d1"):
        assert client.post(f"/api/v1/admin/rounds/{r}/close", json={}, headers=admin_headers).status_code == 200
    box = client.get("/api/v1/box/r1").get_json()
    tally = services(app).identity.public_bytes()
    assert box["credentials_fingerprint"] == doc["fingerprint"]
    assert verify_document(box["signed"], tally, labels.BOX)["credentials_fingerprint"] == doc["fingerprint"]
    assert client.get("/api/v1/box/d1").get_json()["credentials_fingerprint"] == doc["fingerprint"]
    files = client.get("/api/v1/admin/rounds/r1/export", headers=admin_headers).get_json()["files"]
    assert json.loads(files["receipts.json"])["credentials_fingerprint"] == doc["fingerprint"]
    assert json.loads(files["credentials.json"])["fingerprint"] == doc["fingerprint"]
    assert f"<code>{doc['fingerprint']}</code>" in client.get("/box").get_data(as_text=True)


def test_a_box_without_a_card_list_names_none(client, app, admin_headers):
    assert client.post("/api/v1/admin/settings", json={"desk_unlock": True}, headers=admin_headers).status_code == 200
    setup_meeting(client, admin_headers, cards=0)
    assert client.post("/api/v1/admin/rounds/r1/close", json={}, headers=admin_headers).status_code == 200
    box = client.get("/api/v1/box/r1").get_json()
    assert box["credentials_fingerprint"] is None and box["count"] == 0 and box["receipts"] == []
