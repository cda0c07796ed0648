"""The live feed through Flask-SocketIO's test client: who may listen, and what the hall sees when."""
from __future__ import annotations

import time

from tally.show.feed import socketio

from .conftest import count_body, issue_cards, load_forms, pair_kiosk, setup_meeting


def wait_state(sock, pred, timeout=5.0):  # type: ignore[no-untyped-def]
    """Collect pushed states until one satisfies `pred` (pushes are coalesced, a few per second)."""
    deadline = time.monotonic() + timeout
    seen = []
    while time.monotonic() < deadline:
        for msg in sock.get_received("/live"):
            if msg["name"] == "state":
                seen.append(msg["args"][0])
                if pred(msg["args"][0]):
                    return msg["args"][0]
        time.sleep(0.05)
    raise AssertionError(f"no matching state in {len(seen)} pushes; last: {seen[-1:] }")


def r1_of(state):  # type: ignore[no-untyped-def]
    return next(r for r in state["rounds"] if r["id"] == "r1")


def test_projector_sees_turnout_only_until_reveal(app, client, admin_headers):
    links = client.get("/api/v1/admin/links", headers=admin_headers).get_json()
    token = links["projector"].split("t=")[1]
    refused = socketio.test_client(app, namespace="/live", auth={"t": "wrong"})
    assert not refused.is_connected("/live")
    proj = socketio.test_client(app, namespace="/live", auth={"t": token})
    assert proj.is_connected("/live")

    setup_meeting(client, admin_headers)
    kiosk = pair_kiosk(client, admin_headers)
    load_forms(client, kiosk)
    cards = issue_cards(client, admin_headers, kiosk.meeting, 3)
    for card, name in zip(cards, ["张三", "张三", "李四"], strict=False):
        client.post("/api/v1/envelopes", json=kiosk.envelope(card, {"round": "r1", "sections": {"mayor": [name]}}))
    st = wait_state(proj, lambda s: r1_of(s)["cast"] == 3)
    r1 = r1_of(st)
    assert r1["status"] == "open" and r1["present"] == 6
    assert "result" not in r1 and "张三" not in str(st)  # turnout only, never partial counts

    client.post("/api/v1/admin/rounds/r1/close", json={}, headers=admin_headers)
    client.post("/api/v1/admin/rounds/r1/count", json=count_body(client, "r1"), headers=admin_headers)
    st = wait_state(proj, lambda s: r1_of(s)["status"] == "counted")
    assert "result" not in r1_of(st)
    assert r1_of(st)["chain_head"]
    client.post("/api/v1/admin/rounds/r1/reveal", json={}, headers=admin_headers)
    st = wait_state(proj, lambda s: r1_of(s).get("revealed"))
    votes = {c["name"]: c["votes"] for c in r1_of(st)["result"]["posts"][0]["candidates"]}
    assert votes["张三"] == 2 and votes["李四"] == 1
    proj.disconnect(namespace="/live")


def test_console_feed_needs_the_chair(app, client, admin_headers):
    anon = socketio.test_client(app, namespace="/live")
    assert not anon.is_connected("/live")
    client.post("/console/login", data={"token": admin_headers["Authorization"][7:]})
    chair = socketio.test_client(app, namespace="/live", flask_test_client=client)
    assert chair.is_connected("/live")
    st = wait_state(chair, lambda s: "kiosks" in s)
    assert st["cards"] == {"listed": 0, "void": 0, "desk": 0} and st["card_list"] is None
    chair.disconnect(namespace="/live")


def test_console_shows_kiosks_online_with_outbox_depth(client, admin_headers):
    import time as _time

    from keys.request import sign_request

    kiosk = pair_kiosk(client, admin_headers)
    state = client.get("/api/v1/admin/state", headers=admin_headers).get_json()
    assert state["kiosks"][0]["online"] is False
    body = sign_request(kiosk.identity, kiosk.kiosk_id, {"outbox": 7, "sent": 3}, at=int(_time.time()))
    r = client.post("/api/v1/kiosks/heartbeat", json=body)
    assert r.status_code == 200 and r.get_json() == {"status": "active", "unlock": None}
    k = client.get("/api/v1/admin/state", headers=admin_headers).get_json()["kiosks"][0]
    assert k["online"] is True and k["outbox"] == 7
    stale = sign_request(kiosk.identity, kiosk.kiosk_id, {"outbox": 1}, at=int(_time.time()) - 3600)
    r = client.post("/api/v1/kiosks/heartbeat", json=stale)
    assert r.status_code == 403 and r.get_json()["error"]["code"] == "bad_signature"
