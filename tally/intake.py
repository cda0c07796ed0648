"""Intake: take one envelope from a kiosk, or refuse it and change nothing.

Order of checks: shape → meeting → kiosk known, confirmed, not revoked → both signatures → then
one transaction: a resent identical envelope gets its stored receipt; the round is open; the
card was handed out and not voided; the card has not been used in this round (primary key);
the round is not full (收回 ≤ 实到, a conditional update); the chain head moves by exactly one
entry (unique `(round, prev_hash)`); the envelope and the tally-signed receipt are stored. All
of it commits together or not at all; nothing is acknowledged before the commit is durable.
It never opens a ballot: secret rounds are opened only after they close (tally.counting).
"""
from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from typing import Any, Callable

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session

from keys.canonical import b64e
from keys.chain import next_entry
from keys.envelope import EnvelopeHeader, make_receipt, open_envelope, parse_envelope, verify_envelope
from keys.errors import BadEnvelope, Malformed
from keys.identity import Identity
from keys.sealing import RoundKey
from tally import judging
from tally.errors import ApiError
from tally.meeting import MeetingInfo
from tally.models import Card, CardUse, Envelope, Kiosk, Round

MAX_RETRIES = 20


@dataclass(frozen=True)
class Accepted:
    receipt: dict[str, Any]
    new: bool
    round_id: str
    revealed: bool = False


def check_kiosk(kiosk: Kiosk | None) -> Kiosk:
    if kiosk is None:
        raise ApiError(403, "unknown_kiosk", "This kiosk is not paired with the tally.")
    if kiosk.status == "revoked":
        raise ApiError(403, "kiosk_revoked", "This kiosk has been revoked by the chair.")
    if kiosk.status != "active":
        raise ApiError(403, "kiosk_pending", "This kiosk is waiting for the chair to confirm it.")
    return kiosk


def parse_and_verify(s: Session, body: Any, meeting_id: str) -> EnvelopeHeader:
    """Everything that needs no lock: shape, meeting, kiosk, signatures."""
    if not isinstance(body, dict):
        raise ApiError(400, "malformed", "The envelope could not be read.")
    try:
        header = parse_envelope(body)
    except (Malformed, BadEnvelope) as exc:
        raise ApiError(400, "malformed", "The envelope could not be read.") from exc
    if header.meeting != meeting_id:
        raise ApiError(400, "wrong_meeting", "This envelope belongs to another meeting.")
    kiosk = check_kiosk(s.get(Kiosk, header.kiosk_id))
    try:
        verify_envelope(header, kiosk.public_key)
    except BadEnvelope as exc:
        raise ApiError(400, "bad_signature", "The envelope's signatures do not verify.") from exc
    return header


def _stored_receipt(s: Session, header: EnvelopeHeader) -> Accepted | None:
    existing = s.scalars(select(Envelope).where(Envelope.envelope_hash == header.envelope_hash)).first()
    if existing is not None:
        return Accepted(json.loads(existing.receipt), False, existing.round_id)
    clash = s.scalars(select(Envelope.id).where(Envelope.round_id == header.round_id,
                                                Envelope.kiosk_id == header.kiosk_id,
                                                Envelope.nonce == b64e(header.nonce))).first()
    if clash is not None:
        raise ApiError(409, "nonce_reused", "This kiosk already sent a different envelope with this nonce.")
    return None


def _take_ballot_card(s: Session, header: EnvelopeHeader, rnd: Round) -> None:
    card = s.get(Card, header.card_public)
    if card is None:
        raise ApiError(403, "unknown_card", "This ballot card is not one of this meeting's cards.")
    if card.status == "void":
        raise ApiError(409, "card_void", "This ballot card has been voided.")
    if card.status != "issued":
        raise ApiError(403, "card_not_issued", "This ballot card was not handed out at the desk.")
    if s.get(CardUse, (header.card_public, rnd.id)) is not None:
        raise ApiError(409, "card_used", "This ballot card has already been used in this round.")
    s.add(CardUse(card=header.card_public, round_id=rnd.id))


def _accept_in(s: Session, header: EnvelopeHeader, body: dict[str, Any], info: MeetingInfo,
               identity: Identity, score: dict[str, Any] | None) -> Accepted:
    done = _stored_receipt(s, header)
    if done is not None:
        return done
    rnd = s.get(Round, header.round_id)
    if rnd is None:
        raise ApiError(404, "unknown_round", "There is no such round in this meeting.")
    if rnd.status != "open":
        raise ApiError(409, "round_not_open", "This round is not open for ballots.")
    prev = rnd.chain_head
    entry = next_entry(prev, header.envelope_hash)
    moved_where = [Round.id == rnd.id, Round.status == "open", Round.chain_head == prev]
    if rnd.kind == "score":
        seat = judging.seat_of_card(s, rnd.id, header.card_public)
        if seat is None or score is None:
            raise ApiError(403, "unknown_judge_card", "This judge card is not a seat of this round.")
        judging.take_score(s, info, rnd.id, seat, score, header.envelope_hash)
    else:
        _take_ballot_card(s, header, rnd)
        moved_where.append(Round.accepted < Round.present)
    moved = s.execute(
        update(Round).where(*moved_where).values(accepted=Round.accepted + 1, chain_head=entry)
        .execution_options(synchronize_session=False)
    ).rowcount
    if moved != 1:
        s.refresh(rnd)
        if rnd.status == "open" and rnd.present is not None and rnd.accepted >= rnd.present:
            raise ApiError(409, "round_full", "This round has received as many ballots as attendees present.")
        raise _Retry()
    receipt = make_receipt(identity, meeting=info.id, round_id=rnd.id,
                           envelope_hash=header.envelope_hash, entry=entry)
    s.add(Envelope(id=secrets.token_hex(16), round_id=rnd.id, kiosk_id=header.kiosk_id, nonce=b64e(header.nonce),
                   envelope_hash=header.envelope_hash, prev_hash=prev, entry_hash=entry,
                   body=json.dumps(body, sort_keys=True, separators=(",", ":")),
                   receipt=json.dumps(receipt, sort_keys=True, separators=(",", ":"))))
    revealed = judging.maybe_auto_reveal(s, info, rnd.id) if rnd.kind == "score" else False
    return Accepted(receipt, True, rnd.id, revealed)


class _Retry(Exception):
    """Another transaction moved the chain first; try again from the top."""


def open_score(s: Session, header: EnvelopeHeader, score_key: Callable[[str], RoundKey]) -> dict[str, Any] | None:
    """Judge scores are open data: a score round's envelope is opened at intake to check it."""
    rnd = s.get(Round, header.round_id)
    if rnd is None or rnd.kind != "score":
        return None
    try:
        ballot = open_envelope(header, score_key(rnd.id))
    except BadEnvelope as exc:
        raise ApiError(400, "bad_signature", "The envelope could not be opened.") from exc
    if not isinstance(ballot, dict) or ballot.get("round") != rnd.id:
        raise ApiError(400, "malformed", "The envelope could not be read.")
    return ballot


def accept(sessionmaker: Any, body: Any, info: MeetingInfo, identity: Identity,
           score_key: Callable[[str], RoundKey], read_sessionmaker: Any = None) -> Accepted:
    """Take one envelope; raises ApiError (4xx) on refusal. Safe to call from many workers."""
    with (read_sessionmaker or sessionmaker)() as s:
        header = parse_and_verify(s, body, info.id)
        score = open_score(s, header, score_key)
    for _ in range(MAX_RETRIES):
        try:
            with sessionmaker() as s, s.begin():
                return _accept_in(s, header, body, info, identity, score)
        except (_Retry, OperationalError):
            continue
        except IntegrityError:
            # A racing transaction took the card or the envelope between our reads and our
            # insert: re-run the checks, which now say which.
            continue
    raise ApiError(503, "busy", "The tally is busy; the kiosk will send this envelope again.")
