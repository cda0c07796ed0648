"""The sender: retries through outages with capped, jittered backoff; only a verified receipt
acknowledges; a definite refusal is recorded and kept.

`TallyPeer` is a PROTOCOL PEER, not a mock of the code under test: a real HTTP server on
loopback that answers `POST /api/v1/envelopes` as docs/architecture.md says the tally does
(receipts signed with `keys.envelope.make_receipt`), but in an order a test scripts (outages,
forged receipts, refusals) that a real tally cannot be made to produce on cue. The whole path
against the real tally is covered by the end-to-end tests.
"""
from __future__ import annotations

import json
import random
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from keys.cards import new_card
from keys.envelope import make_receipt, parse_envelope
from keys.identity import Identity
from kiosk.casting import KioskSigner, cast
from kiosk.client import TallyClient
from kiosk.forms import parse_form
from kiosk.outbox import Outbox
from kiosk.sender import Backoff, Sender

from .conftest import MEETING, Hall, closed_port

Reply = tuple[int, Any]
Action = Callable[[dict[str, Any]], Reply]


class TallyPeer:
    """Protocol peer (see module docstring). `script` holds the next answers; then it acknowledges."""

    def __init__(self, tally: Identity) -> None:
        self.tally = tally
        self.script: list[Action] = []
        self.seen: list[dict[str, Any]] = []
        peer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                peer.seen.append(body)
                action = peer.script.pop(0) if peer.script else peer.ack
                status, doc = action(body)
                data = doc if isinstance(doc, bytes) else json.dumps(doc).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json" if not isinstance(doc, bytes) else "text/html")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, args=(0.02,), daemon=True).start()

    def receipt(self, body: dict[str, Any], *, signer: Identity | None = None, round_id: str | None = None,
                envelope_hash: str | None = None) -> dict[str, str]:
        header = parse_envelope(body)
        return make_receipt(signer or self.tally, meeting=header.meeting, round_id=round_id or header.round_id,
                            envelope_hash=envelope_hash or header.envelope_hash, entry="ab" * 32)

    def ack(self, body: dict[str, Any]) -> Reply:
        return 201, self.receipt(body)

    @staticmethod
    def error(status: int, code: str) -> Action:
        return lambda _body: (status, {"error": {"code": code, "message": code}})


@pytest.fixture
def peer(hall: Hall) -> Iterator[TallyPeer]:
    p = TallyPeer(hall.tally)
    yield p
    p.server.shutdown()
    p.server.server_close()


@pytest.fixture
def outbox(tmp_path: Path) -> Iterator[Outbox]:
    box = Outbox(tmp_path / "outbox.sqlite")
    yield box
    box.close()


SIGNER = KioskSigner(kiosk_id="k1", identity=Identity.generate(), meeting=MEETING)


def fill(outbox: Outbox, hall: Hall, n: int) -> list[int]:
    """n real sealed ballots for round r1, each from its own card."""
    r1 = parse_form(hall.form_doc(), hall.tally.public_bytes()).round("r1")
    assert r1 is not None
    ids: list[int] = []
    for _ in range(n):
        ids += cast(outbox, SIGNER, {"r1": new_card(MEETING).identity("r1")}, [(r1, {"round": "r1", "sections": {}})]).outbox_ids
    return ids


def sender_for(outbox: Outbox, url: str, hall: Hall, seed: int = 7) -> Sender:
    return Sender(outbox, TallyClient(url, timeout=2), hall.tally.public_bytes(), MEETING,
                  backoff=Backoff(base=0.25, cap=10.0), rng=random.Random(seed))


def assert_backoff(delay: float | None, failures: int) -> None:
    top = Backoff(base=0.25, cap=10.0).ceiling(failures)
    assert delay is not None and top / 2 <= delay <= top


def test_outage_is_retried_with_growing_delays_then_acknowledged(outbox: Outbox, hall: Hall, peer: TallyPeer) -> None:
    (item_id,) = fill(outbox, hall, 1)
    peer.script = [TallyPeer.error(503, "unavailable"), lambda _b: (502, b"<html>bad gateway</html>"),
                   TallyPeer.error(500, "internal")]
    sender = sender_for(outbox, peer.url, hall)
    for failures in range(3):
        assert_backoff(sender.step(), failures)
        assert outbox.get(item_id).state == "pending"
    assert sender.step() is None
    item = outbox.get(item_id)
    assert item.state == "sent" and item.attempts == 4
    assert item.receipt == peer.receipt(item.body)  # Ed25519 is deterministic: the very receipt sent
    assert all(body == peer.seen[0] for body in peer.seen) and len(peer.seen) == 4  # resent byte for byte
    assert sender.failures == 0


def test_connection_refused_is_retried(outbox: Outbox, hall: Hall) -> None:
    (item_id,) = fill(outbox, hall, 1)
    sender = sender_for(outbox, f"http://127.0.0.1:{closed_port()}", hall)
    assert_backoff(sender.step(), 0)
    assert_backoff(sender.step(), 1)
    assert outbox.get(item_id).state == "pending" and outbox.get(item_id).attempts == 2


def test_a_receipt_that_does_not_verify_is_not_an_acknowledgement(
    outbox: Outbox, hall: Hall, peer: TallyPeer, caplog: pytest.LogCaptureFixture
) -> None:
    (item_id,) = fill(outbox, hall, 1)
    impostor = Identity.generate()
    peer.script = [
        lambda b: (201, peer.receipt(b, signer=impostor)),           # wrong key
        lambda b: (201, peer.receipt(b, envelope_hash="cd" * 32)),   # another envelope
        lambda b: (201, peer.receipt(b, round_id="e1")),             # another round
        lambda b: (201, {"receipt": "x", "sig": "y"}),               # garbage
    ]
    sender = sender_for(outbox, peer.url, hall)
    for failures in range(4):
        assert_backoff(sender.step(), failures)
        assert outbox.get(item_id).state == "pending"
    assert sum("did not verify" in r.getMessage() for r in caplog.records) == 4
    assert sender.step() is None
    assert outbox.get(item_id).state == "sent"


@pytest.mark.parametrize("code", ["card_used", "round_not_open", "unknown_card", "kiosk_revoked", "nonce_reused",
                                  "seat_already_scored"])  # a code this kiosk has never heard of is final too
def test_a_definite_refusal_is_kept_with_its_code(outbox: Outbox, hall: Hall, peer: TallyPeer, code: str) -> None:
    first, second = fill(outbox, hall, 2)
    peer.script = [TallyPeer.error(409, code)]
    sender = sender_for(outbox, peer.url, hall)
    assert sender.step() is None
    assert outbox.get(first).state == "rejected" and outbox.get(first).error == code
    assert outbox.get(second).state == "sent"
    assert outbox.rejections() == {code: 1}


@pytest.mark.parametrize(
    "action",
    [TallyPeer.error(403, "kiosk_pending"), TallyPeer.error(429, "slow_down"), lambda _b: (404, b"not here")],
)
def test_a_4xx_without_a_definite_code_is_retried(outbox: Outbox, hall: Hall, peer: TallyPeer, action: Action) -> None:
    (item_id,) = fill(outbox, hall, 1)
    peer.script = [action]
    sender = sender_for(outbox, peer.url, hall)
    assert_backoff(sender.step(), 0)
    assert outbox.get(item_id).state == "pending"
    assert sender.step() is None
    assert outbox.get(item_id).state == "sent"


def test_oldest_first_and_across_a_restart(tmp_path: Path, hall: Hall, peer: TallyPeer) -> None:
    box = Outbox(tmp_path / "o.sqlite")
    ids = fill(box, hall, 3)
    order = [box.get(i).body for i in ids]
    peer.script = [peer.ack, TallyPeer.error(503, "unavailable")]
    sender_for(box, peer.url, hall).step()
    box.close()  # the kiosk restarts with two envelopes still pending

    again = Outbox(tmp_path / "o.sqlite")
    assert [i.id for i in again.pending()] == ids[1:]
    assert sender_for(again, peer.url, hall).step() is None
    assert again.counts() == {"pending": 0, "sent": 3, "rejected": 0}
    assert peer.seen == [order[0], order[1], order[1], order[2]]
    again.close()


def test_run_sends_soon_after_a_cast_and_stops(outbox: Outbox, hall: Hall, peer: TallyPeer) -> None:
    sender = sender_for(outbox, peer.url, hall)
    stop = threading.Event()
    thread = threading.Thread(target=sender.run, args=(stop, 30.0), daemon=True)
    thread.start()
    (item_id,) = fill(outbox, hall, 1)
    sender.wake.set()  # without it the sender would sleep through its 30 s idle wait
    deadline = time.monotonic() + 20
    while outbox.get(item_id).state == "pending" and time.monotonic() < deadline:
        time.sleep(0.02)
    stop.set()
    sender.wake.set()
    thread.join(10)
    assert outbox.get(item_id).state == "sent"
    assert not thread.is_alive()


@given(failures=st.integers(min_value=0, max_value=10_000), seed=st.integers(min_value=0, max_value=2**32))
def test_backoff_stays_between_half_and_the_capped_ceiling(failures: int, seed: int) -> None:
    backoff = Backoff(base=0.25, cap=10.0)
    delay = backoff.delay(failures, random.Random(seed))
    top = min(10.0, 0.25 * 2 ** min(failures, 32))
    assert top / 2 <= delay <= top <= 10.0


def test_backoff_ceiling_doubles_until_the_cap() -> None:
    b = Backoff(base=0.25, cap=10.0)
    assert [b.ceiling(n) for n in range(8)] == [0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 10.0, 10.0]
