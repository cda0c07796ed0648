"""The kiosk against the real tally app, served on loopback in this process.

Pairing (and refusing an impostor), heartbeat standing, the ballot form, the advisory card
check, the desk's unlock and a cast that comes back with a verified receipt: every call goes
over real HTTP to `tally.create_app` on a real meeting directory.
"""
from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from keys.envelope import parse_envelope
from keys.fingerprint import compact, fingerprint
from keys.identity import Identity
from keys.pairing import PairingOffer
from kiosk.agent import Agent
from kiosk.app import create_app
from kiosk.config import Paths, load_pairing
from kiosk.pairing import PairingFailed, load_identity, pair
from tally.services import services
from tally.store.models import Card

from .conftest import LiveTally, local_offer


@pytest.fixture
def kiosk(tmp_path: Path, tally: LiveTally) -> Iterator[Agent]:
    paths = Paths(tmp_path / "kiosk")
    pair(local_offer(tally).to_url(), paths, "大厅1号", "kiosk tablet passphrase")
    agent = Agent(paths, load_pairing(paths), load_identity(paths, "kiosk tablet passphrase"))
    yield agent
    agent.outbox.close()


def test_pair_saves_identity_and_pairing(tmp_path: Path, tally: LiveTally) -> None:
    paths = Paths(tmp_path / "k")
    offer = local_offer(tally, preconfirm=False)
    paired = pair(offer.to_url(), paths, "大厅2号", "kiosk tablet passphrase")
    assert paired.status == "pending"
    p = load_pairing(paths)
    assert compact(fingerprint(p.tally_public_key)) == compact(offer.fingerprint)
    assert p.tally_url == tally.url and p.name == "大厅2号"
    identity = load_identity(paths, "kiosk tablet passphrase")
    assert paired.kiosk_fingerprint == fingerprint(identity.public_bytes())
    assert paths.key.stat().st_mode & 0o777 == 0o600
    with pytest.raises(PairingFailed):  # one kiosk per data directory
        pair(local_offer(tally).to_url(), paths, "again", "kiosk tablet passphrase")


def test_pairing_refuses_a_tally_whose_key_is_not_the_one_offered(tmp_path: Path, tally: LiveTally) -> None:
    real = local_offer(tally)
    forged = PairingOffer(url=real.url, code=real.code, fingerprint=fingerprint(Identity.generate().public_bytes()))
    paths = Paths(tmp_path / "k")
    with pytest.raises(PairingFailed, match="impostor"):
        pair(forged.to_url(), paths, "x", "kiosk tablet passphrase")
    assert not paths.pairing.exists() and not paths.key.exists()


def test_heartbeat_form_and_standing(tmp_path: Path, tally: LiveTally) -> None:
    paths = Paths(tmp_path / "k")
    pair(local_offer(tally, preconfirm=False).to_url(), paths, "x", "kiosk tablet passphrase")
    agent = Agent(paths, load_pairing(paths), load_identity(paths, "kiosk tablet passphrase"))
    agent.heartbeat()
    assert agent.status == "pending"
    agent.refresh_form()
    assert agent.form is not None and [r.id for r in agent.voter_rounds()] == ["r1", "e1", "d1"]
    assert paths.form_cache.exists()
    resp = create_app(agent, {"TESTING": True}).test_client().post("/api/card", json={"card": "x"})
    assert resp.get_json()["error"]["code"] == "kiosk_pending"
    tally.client.post(f"/api/v1/admin/kiosks/{agent.pairing.kiosk_id}/confirm", headers=tally.admin)
    agent.heartbeat()
    assert agent.status == "active"
    agent.outbox.close()


def test_cast_is_acknowledged_with_a_verified_receipt(kiosk: Agent, tally: LiveTally) -> None:
    kiosk.heartbeat()
    kiosk.refresh_form()
    client = create_app(kiosk, {"TESTING": True}).test_client()
    (card,) = tally.cards(kiosk.pairing.meeting, 1)
    session = client.post("/api/card", json={"card": card.qr_text}).get_json()
    assert session["rounds"] == ["r1", "e1", "d1"]
    rounds = {"r1": {"sections": {"mayor": ["张三"]}}, "e1": {"grades": {"张三": "优秀"}}, "d1": {"votes": {"王五": "agree"}}}
    resp = client.post("/api/cast", json={"session": session["session"], "rounds": rounds})
    assert resp.status_code == 201
    assert kiosk.sender.step() is None
    assert kiosk.outbox.counts() == {"pending": 0, "sent": 3, "rejected": 0}
    # The tally now knows the card is spent: a second kiosk (empty outbox) is told at once.
    again = client.post("/api/card", json={"card": card.qr_text})
    assert again.status_code == 409 and again.get_json()["error"]["code"] == "card_used"


def test_desk_unlock_makes_a_card_on_the_kiosk(kiosk: Agent, tally: LiveTally) -> None:
    kiosk.heartbeat()
    kiosk.refresh_form()
    client = create_app(kiosk, {"TESTING": True}).test_client()
    assert client.post("/api/card", json={"unlock": True}).get_json()["error"]["code"] == "not_unlocked"
    resp = tally.client.post("/api/v1/desk/unlock", json={"kiosk": kiosk.pairing.kiosk_id}, headers=tally.admin)
    assert resp.status_code == 200, resp.get_json()
    kiosk.heartbeat()
    assert client.get("/api/state").get_json()["unlocked"] is True
    session = client.post("/api/card", json={"unlock": True}).get_json()
    assert client.get("/api/state").get_json()["unlocked"] is False
    blank = {"r1": {}, "e1": {}, "d1": {}}
    assert client.post("/api/cast", json={"session": session["session"], "rounds": blank}).status_code == 201
    assert kiosk.sender.step() is None
    assert kiosk.outbox.counts()["sent"] == 3
    # The claim registered the kiosk-made card once per open ballot round, each with its own key,
    # and the envelopes were signed with those keys.
    sent = {item.round_id: parse_envelope(item.body).card_public for item in map(kiosk.outbox.get, (1, 2, 3))}
    assert set(sent) == {"r1", "e1", "d1"} and len(set(sent.values())) == 3
    with services(tally.client.application).store.writer() as s:
        registered = {c.public_key: (c.round_id, c.status) for c in s.scalars(select(Card).where(Card.origin == "desk"))}
    assert registered == {key: (rid, "issued") for rid, key in sent.items()}
    kiosk.heartbeat()  # the grant was used up: no second ballot from one unlock
    assert client.post("/api/card", json={"unlock": True}).get_json()["error"]["code"] == "not_unlocked"


def test_a_kiosk_that_cannot_reach_the_tally_keeps_the_desk_unlock(kiosk: Agent, tally: LiveTally) -> None:
    kiosk.refresh_form()
    tally.client.post("/api/v1/desk/unlock", json={"kiosk": kiosk.pairing.kiosk_id}, headers=tally.admin)
    kiosk.heartbeat()
    kiosk.page_client.base_url = "http://127.0.0.1:9"  # the LAN drops between heartbeat and tap
    client = create_app(kiosk, {"TESTING": True}).test_client()
    resp = client.post("/api/card", json={"unlock": True})
    assert resp.status_code == 503 and resp.get_json()["error"]["code"] == "tally_unreachable"
    assert kiosk.unlocked
    kiosk.page_client.base_url = tally.url
    assert client.post("/api/card", json={"unlock": True}).status_code == 200
