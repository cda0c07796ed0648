"""Shared fixtures for the `keys` tests: fixed identities and a freshly sealed envelope."""
from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from keys.cards import Card, new_card
from keys.envelope import SealedEnvelope, seal_envelope
from keys.identity import Identity
from keys.sealing import RoundKey

MEETING = "0123456789abcdef"
BALLOT = {"round": "r1", "sections": {"mayor": ["张三"], "deputy": ["李四", "王五"]}}
BALLOT_SIZE = 600  # every ballot of these tests' rounds is padded to this many bytes


@dataclass
class Hall:
    """Everything one cast needs: tally, two kiosks, a round key per round, one card."""

    tally: Identity
    kiosk_a: Identity
    kiosk_b: Identity
    round_keys: dict[str, RoundKey]
    card: Card
    meeting: str = MEETING
    ballot: dict = field(default_factory=lambda: dict(BALLOT))

    def seal(self, round_id: str = "r1", kiosk_id: str = "kiosk-a", ballot: dict | None = None,
             card: Card | None = None) -> SealedEnvelope:
        kiosk = self.kiosk_a if kiosk_id == "kiosk-a" else self.kiosk_b
        card = card or self.card
        return seal_envelope(
            meeting=MEETING, round_id=round_id, kiosk_id=kiosk_id, kiosk_identity=kiosk,
            card_key=card.identity(round_id), round_public=self.round_keys[round_id].public_bytes(),
            ballot=ballot if ballot is not None else {**BALLOT, "round": round_id}, ballot_size=BALLOT_SIZE,
        )


@pytest.fixture(scope="session")
def hall() -> Hall:
    return Hall(
        tally=Identity.generate(),
        kiosk_a=Identity.generate(),
        kiosk_b=Identity.generate(),
        round_keys={"r1": RoundKey.generate(), "r2": RoundKey.generate()},
        card=new_card(MEETING),
    )


@pytest.fixture(scope="session")
def sealed(hall: Hall) -> SealedEnvelope:
    return hall.seal()
