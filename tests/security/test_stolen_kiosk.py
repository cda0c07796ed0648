"""A stolen (or rebuilt) kiosk: it has a paired key and signs what it likes, past every check of the agent.

It can seal a ballot the kiosk screen would never let through: a write-in with a NUL or a bidi
override, a write-in longer than the field, markup. The tally cannot see inside a sealed ballot
at intake, so it takes the envelope; at the count the rules engine classifies it: what cannot be
a name makes the ballot unreadable (counted invalid, never a 500 and never a name on a screen),
an over-long write-in makes its section invalid, markup is a name printed as text. Once the
chair revokes the kiosk, everything it sends is refused.
"""
from __future__ import annotations

import json
from typing import Any

from tests.tally.conftest import count_body, issue_cards, load_forms, pair_kiosk, setup_meeting


def test_hostile_ballots_sealed_past_the_agent_are_counted_as_the_rules_say(client: Any, admin_headers: Any) -> None:
    setup_meeting(client, admin_headers)
    kiosk = pair_kiosk(client, admin_headers)
    load_forms(client, kiosk)
    cards = issue_cards(client, admin_headers, kiosk.meeting, 5)
    names = ["钱\x00七", "\u202e七钱", "钱" * 40, "<img src=x onerror=alert(1)>", "李四"]
    for card, name in zip(cards, names, strict=True):
        r = client.post("/api/v1/envelopes", json=kiosk.envelope(card, {"round": "r1", "sections": {"mayor": [name]}}))
        assert r.status_code == 201, r.get_json()  # sealed: the tally cannot look inside before the count
    client.post("/api/v1/admin/rounds/r1/close", json={}, headers=admin_headers)
    r = client.post("/api/v1/admin/rounds/r1/count", json=count_body(client, "r1"), headers=admin_headers)
    assert r.status_code == 200, r.get_json()
    post = r.get_json()["result"]["posts"][0]
    assert post["invalid"] == 3 and post["valid"] == 2  # NUL and bidi: unreadable; 40 characters: invalid section
    votes = {c["name"]: c["votes"] for c in post["candidates"]}
    assert votes["<img src=x onerror=alert(1)>"] == 1 and votes["李四"] == 1
    text = json.dumps(r.get_json(), ensure_ascii=False)
    assert "\x00" not in text and "\u202e" not in text and "钱" * 40 not in text
    for fmt in ("pdf", "xlsx"):
        assert client.get(f"/api/v1/admin/rounds/r1/sheet.{fmt}", headers=admin_headers).status_code == 200

    # Revoked, it is refused at once, whatever it signs.
    assert client.post(f"/api/v1/admin/kiosks/{kiosk.kiosk_id}/revoke", json={}, headers=admin_headers).status_code == 200
    client.post("/api/v1/admin/rounds/d1/open", json={}, headers=admin_headers)
    load_forms(client, kiosk)
    more = issue_cards(client, admin_headers, kiosk.meeting, 1)
    r = client.post("/api/v1/envelopes", json=kiosk.envelope(more[0], {"round": "d1", "votes": {"王五": "agree"}}))
    assert r.status_code == 403 and r.get_json()["error"]["code"] == "kiosk_revoked"
