"""Every kiosk a watchdog: the receipts a kiosk holds, checked against the published box of each closed round.

Against the real tally app on loopback: a kiosk votes, the round closes, the kiosk finds every
receipt in the signed box and says so with its heartbeat; an envelope deleted from the tally's
database afterwards is named on the kiosk's status page and, in red, on the console. A machine in
between that forges the box to hide the deletion is not believed: the box must carry the tally's
signature under the key the kiosk pinned at pairing.
"""
from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import delete, update

from keys.canonical import b64d, b64e, canonical, parse_canonical
from keys.envelope import receipt_code
from keys.pairing import PairingOffer
from kiosk.agent import Agent
from kiosk.app import create_app
from kiosk.config import Paths, load_pairing
from kiosk.pairing import load_identity, pair
from tally.services import services
from tally.store.models import Envelope, Kiosk
from tests.mitm import proxy_to

from .conftest import LiveTally, local_offer

ROUNDS = {"r1": {"sections": {"mayor": ["张三"]}}, "e1": {}, "d1": {}}


PASSPHRASE = "kiosk tablet passphrase"


def paired(root: Path, url: str, offer: PairingOffer) -> Agent:
    paths = Paths(root)
    pair(PairingOffer(url=url, code=offer.code, fingerprint=offer.fingerprint).to_url(), paths, "大厅1号", PASSPHRASE)
    agent = Agent(paths, load_pairing(paths), load_identity(paths, PASSPHRASE), box_check_seconds=0)
    agent.heartbeat()
    agent.refresh_form()
    return agent


@pytest.fixture
def kiosk(tmp_path: Path, tally: LiveTally) -> Iterator[Agent]:
    agent = paired(tmp_path / "kiosk", tally.url, local_offer(tally))
    yield agent
    agent.outbox.close()


def vote(agent: Agent, tally: LiveTally, n: int) -> list[str]:
    """n voters at this kiosk; the envelope hashes of their r1 ballots, every envelope acknowledged."""
    client = create_app(agent, {"TESTING": True}).test_client()
    for card in tally.cards(agent.pairing.meeting, n):
        session = client.post("/api/card", json={"card": card.qr_text}).get_json()
        assert client.post("/api/cast", json={"session": session["session"], "rounds": ROUNDS}).status_code == 201
    assert agent.sender.step() is None
    return agent.outbox.sent_by_round()["r1"]


def console_box(tally: LiveTally, agent: Agent) -> Any:
    state = tally.client.get("/api/v1/admin/state", headers=tally.admin).get_json()
    return next(k for k in state["kiosks"] if k["id"] == agent.pairing.kiosk_id)["box"]


def close(tally: LiveTally, round_id: str) -> None:
    assert tally.client.post(f"/api/v1/admin/rounds/{round_id}/close", json={}, headers=tally.admin).status_code == 200


def test_receipts_found_then_a_deleted_envelope_raises_the_alarm(kiosk: Agent, tally: LiveTally) -> None:
    hashes = vote(kiosk, tally, 2)
    kiosk.watch.check(kiosk.open_round_ids())
    assert kiosk.watch.rounds() == [] and kiosk.watch.report() is None  # nothing is published while open
    close(tally, "r1")
    kiosk.refresh_form()
    kiosk.watch.check(kiosk.open_round_ids())
    (r1,) = kiosk.watch.rounds()
    assert (r1.round_id, r1.held, r1.missing, r1.verified, r1.count) == ("r1", 2, (), True, 2)
    kiosk.heartbeat()
    assert console_box(tally, kiosk) == {"rounds": {"r1": {"held": 2, "missing": [], "missing_total": 0,
                                                           "verified": True}}, "alarm": False}

    # Someone with the tally's database removes one of this kiosk's ballots after the close.
    gone = hashes[1]
    code = receipt_code(gone)
    with services(tally.client.application).store.writer() as s, s.begin():
        s.execute(delete(Envelope).where(Envelope.envelope_hash == gone))
    kiosk.watch.check(kiosk.open_round_ids())
    (r1,) = kiosk.watch.rounds()
    assert r1.missing == (code,) and r1.alarm
    kiosk.heartbeat()
    assert console_box(tally, kiosk) == {"rounds": {"r1": {"held": 2, "missing": [code], "missing_total": 1,
                                                           "verified": True}}, "alarm": True}
    status = create_app(kiosk, {"TESTING": True}).test_client().get("/status?lang=en").get_data(as_text=True)
    assert "ALARM: 1 of 2 receipts missing from the published box" in status and f'class="missing">{code}<' in status


def test_a_silent_kiosk_folds_on_the_console_unless_it_raised_the_alarm(kiosk: Agent, tally: LiveTally) -> None:
    """Kiosks not heard from for a while fold into a count on the console (issue 11), but a kiosk
    whose last report named a receipt missing from the box (issue 10) stays in sight."""
    hashes = vote(kiosk, tally, 2)
    close(tally, "r1")
    kiosk.refresh_form()
    kiosk.watch.check(kiosk.open_round_ids())
    kiosk.heartbeat()
    app = tally.client.application

    def fall_silent() -> dict[str, Any]:
        with services(app).store.writer() as s, s.begin():
            s.execute(update(Kiosk).values(last_seen=datetime.now(UTC).replace(tzinfo=None) - timedelta(hours=1)))
        state = tally.client.get("/api/v1/admin/state", headers=tally.admin).get_json()
        return next(k for k in state["kiosks"] if k["id"] == kiosk.pairing.kiosk_id)

    row = fall_silent()
    assert row["stale"] is True and row["box"]["alarm"] is False  # all found: it folds
    with services(app).store.writer() as s, s.begin():
        s.execute(delete(Envelope).where(Envelope.envelope_hash == hashes[0]))
    kiosk.watch.check(kiosk.open_round_ids())
    kiosk.heartbeat()
    row = fall_silent()
    assert row["box"]["alarm"] is True and row["stale"] is False  # the alarm is never folded away


def test_a_box_forged_in_between_is_not_believed(tmp_path: Path, tally: LiveTally) -> None:
    with proxy_to(tally.url) as mitm:
        agent = paired(tmp_path / "kiosk", mitm.url, local_offer(tally))
        try:
            hashes = vote(agent, tally, 2)
            close(tally, "r1")
            with services(tally.client.application).store.writer() as s, s.begin():
                s.execute(delete(Envelope).where(Envelope.envelope_hash == hashes[0]))

            def hide_the_deletion(path: str, doc: Any) -> Any:
                """Put every code of this kiosk back into the box, plain and signed copy alike."""
                if not path.startswith("/api/v1/box/"):
                    return None
                codes = [receipt_code(h) for h in hashes]
                signed = parse_canonical(b64d(doc["signed"]["document"]))
                signed["receipts"] = sorted(set(signed["receipts"]) | set(codes))
                doc["signed"]["document"] = b64e(canonical(signed))
                return {**doc, "receipts": signed["receipts"]}

            mitm.rewrite = hide_the_deletion
            agent.refresh_form()
            agent.watch.check(agent.open_round_ids())
            assert mitm.count("/api/v1/box/r1") >= 1
            (r1,) = agent.watch.rounds()
            assert not r1.verified and r1.alarm
            agent.heartbeat()
            assert console_box(tally, agent)["alarm"] is True
            status = create_app(agent, {"TESTING": True}).test_client().get("/status?lang=en").get_data(as_text=True)
            assert "ALARM: the published box does not carry the tally" in status
        finally:
            agent.outbox.close()


def test_the_heartbeats_report_is_checked(kiosk: Agent, tally: LiveTally) -> None:
    """A malformed report is refused and changes nothing (the kiosk's standing is untouched)."""
    from tests.tally.conftest import Kiosk as SignedKiosk

    signer = SignedKiosk(kiosk.signer.identity, kiosk.pairing.kiosk_id, kiosk.pairing.meeting)
    for bad in ({"rounds": {"r1": {"held": 1, "missing": ["nope"], "missing_total": 1, "verified": True}}},
                {"rounds": {"r1": {"held": 1, "missing": [], "missing_total": 0}}},
                {"rounds": {"r 1": {"held": 1, "missing": [], "missing_total": 0, "verified": True}}},
                {"rounds": {"r1": {"held": True, "missing": [], "missing_total": 0, "verified": True}}},
                []):
        resp = tally.client.post("/api/v1/kiosks/heartbeat", json=signer.signed({"outbox": 7, "sent": 0, "box": bad}))
        assert resp.status_code == 400 and resp.get_json()["error"]["code"] == "malformed", bad
    state = tally.client.get("/api/v1/admin/state", headers=tally.admin).get_json()
    mine = next(k for k in state["kiosks"] if k["id"] == kiosk.pairing.kiosk_id)
    assert mine["outbox"] == 0 and mine["box"] is None
