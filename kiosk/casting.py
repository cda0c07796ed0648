"""Casting (投出): seal one voter's ballot lines and commit them to the outbox, all or nothing.

Used by the kiosk's `/api/cast` and by the simulator alike, so both take the same path:
`keys.envelope.seal_envelope` (HPKE to the round key, signed by kiosk and card), then one
durable outbox transaction; only after it returns may anyone tell the voter "cast".
A card signs with a different key in every round (`keys.cards.card_key(S, meeting, round)`), so
a voter's envelopes of two rounds carry unrelated card keys. The card's identities live in
memory only; the outbox gets their public keys, never the secret.
A judge's score line (a `score` round) is stored under its contestant, so one judge card can
score every contestant, and score again after the chair returns a score.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from keys.canonical import b64e
from keys.envelope import seal_envelope
from keys.identity import Identity
from kiosk.forms import RoundForm
from kiosk.outbox import Outbox, Outgoing


@dataclass(frozen=True)
class KioskSigner:
    """Who seals: the kiosk's id and identity, and the meeting it is paired for."""

    kiosk_id: str
    identity: Identity
    meeting: str


@dataclass(frozen=True)
class Cast:
    """What the voter may see: the short receipt code of each round, in form order."""

    receipt_codes: tuple[str, ...]
    outbox_ids: tuple[int, ...]


def _subject(form: RoundForm, line: dict[str, Any]) -> str | None:
    if form.kind != "score":
        return None
    contestant = line.get("contestant")
    if not isinstance(contestant, str) or not contestant:
        raise ValueError("a score line names its contestant")
    return contestant


def cast(
    outbox: Outbox,
    signer: KioskSigner,
    cards: Mapping[str, Identity],
    lines: Sequence[tuple[RoundForm, dict[str, Any]]],
) -> Cast:
    """Seal each `(round form, ballot line)` with the card's key for that round (`cards[round id]`)
    and store all of them in one transaction.

    Every envelope is padded to its round's ballot size from the signed form: `keys.errors.Malformed`
    (nothing stored) if a line does not fit. Raises `KeyError` (nothing sealed) if `cards` has no
    key for one of the rounds, and
    `kiosk.outbox.CardAlreadyUsed` (nothing stored) if this card already cast in one of the
    rounds at this kiosk, or (a judge card) if its score for that contestant is still waiting."""
    keys = [cards[form.id] for form, _line in lines]
    sealed = [
        seal_envelope(
            meeting=signer.meeting, round_id=form.id, kiosk_id=signer.kiosk_id,
            kiosk_identity=signer.identity, card_key=key, round_public=form.public_key, ballot=line,
            ballot_size=form.ballot_size,
        )
        for key, (form, line) in zip(keys, lines, strict=True)
    ]
    ids = outbox.add_all(
        Outgoing(envelope_hash=s.envelope_hash, round_id=form.id, card=b64e(key.public_bytes()), body=s.body,
                 subject=_subject(form, line))
        for s, key, (form, line) in zip(sealed, keys, lines, strict=True)
    )
    return Cast(receipt_codes=tuple(s.receipt_code for s in sealed), outbox_ids=tuple(ids))
