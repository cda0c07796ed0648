"""Several tally workers (gunicorn -w 2) on one PostgreSQL, with Redis as Flask-SocketIO's message
queue: ballots taken by any worker reach a projector connected to any worker, and the chain and
card consumption stay correct across workers. Real processes, real services on 127.0.0.1."""
from __future__ import annotations

import random
import threading
import time
from pathlib import Path

import pytest

from tests.services import fresh_postgres_database, redis_url

pytestmark = [pytest.mark.slow, pytest.mark.postgres, pytest.mark.redis]

MEETING = """
meeting: {title: 多进程测试}
rounds:
  - id: r1
    kind: recommend
    title: 推荐
    expected: 40
    posts:
      - {id: p, title: 职位, seats: 1, candidates: [张三, 李四, 王五]}
"""


@pytest.fixture
def two_workers(tmp_path: Path):  # type: ignore[no-untyped-def]
    from tests.harness import TallyProcess

    queue = redis_url()
    for url in fresh_postgres_database():
        tally = TallyProcess(tmp_path / "data", MEETING, workers=2,
                             env={"TALLY_DATABASE_URL": url, "TALLY_MESSAGE_QUEUE": queue})
        tally.start()
        try:
            yield tally
        finally:
            tally.stop()


def test_two_workers_share_ballots_chain_and_live_feed(two_workers):
    import requests
    import socketio

    from keys.canonical import b64d, b64e
    from keys.cards import Card, parse_card
    from keys.envelope import seal_envelope
    from keys.identity import Identity
    from keys.pairing import PairingOffer

    tally = two_workers
    tally.roster(40)
    tally.round("r1", "open")
    cards = [Card(*parse_card(t)) for t in tally.cards(40)]
    offer = PairingOffer.parse(tally.offers(1)[0])
    kiosk = Identity.generate()
    paired = requests.post(tally.url + "/api/v1/kiosks/pair",
                           json={"code": offer.code, "public_key": b64e(kiosk.public_bytes()), "name": "k"}).json()
    form = requests.get(tally.url + "/api/v1/ballot").json()["rounds"][0]
    token = tally.call("GET", "/api/v1/admin/links")["projector"].split("t=")[1]

    # Several projectors: with two workers, they land on either.
    seen: list[int] = []
    lock = threading.Lock()
    clients = []
    for _ in range(4):
        sio = socketio.Client(reconnection=False)

        def on_state(state, _i=len(clients)):  # type: ignore[no-untyped-def]
            with lock:
                seen.append(state["rounds"][0]["cast"])

        sio.on("state", on_state, namespace="/live")
        sio.connect(tally.url, namespaces=["/live"], transports=["websocket"], auth={"t": token})
        clients.append(sio)

    bodies = [seal_envelope(meeting=paired["meeting"], round_id="r1", kiosk_id=paired["kiosk_id"], kiosk_identity=kiosk,
                            card_key=c.identity("r1"), round_public=b64d(form["public_key"]),
                            ballot={"round": "r1", "sections": {"p": [random.choice(["张三", "李四", "王五"])]}}).body
              for c in cards]
    # Every card is sent twice, concurrently, over fresh connections (so both workers take some).
    codes: list[int] = []

    def send(b):  # type: ignore[no-untyped-def]
        r = requests.post(tally.url + "/api/v1/envelopes", json=b, headers={"Connection": "close"})
        with lock:
            codes.append(r.status_code)

    threads = [threading.Thread(target=send, args=(b,)) for b in bodies + bodies]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert codes.count(201) == 40 and set(codes) <= {200, 201}
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        with lock:
            if seen.count(40) >= 4:
                break
        time.sleep(0.1)
    with lock:
        assert seen.count(40) >= 4, f"projectors saw {sorted(set(seen))}"
    for c in clients:
        c.disconnect()

    state = tally.call("GET", "/api/v1/admin/state")
    assert state["rounds"][0]["cast"] == 40
    tally.round("r1", "close")

    result = tally.count("r1")["result"]
    assert result["returned"] == 40 and result["posts"][0]["valid"] == 40
    export = tally.call("GET", "/api/v1/admin/rounds/r1/export")
    assert len(export["files"]["envelopes.jsonl"].splitlines()) == 40  # one unbroken chain across both workers
