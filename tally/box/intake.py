"""Intake: take one envelope from a kiosk, or refuse it and change nothing.

Order of checks: shape → meeting → kiosk known, confirmed, not revoked → both signatures → then
one transaction: a resent identical envelope gets its stored receipt; the round is open; the
sealed ballot has the round's one size (`tally.box.forms.ballot_size`, signed in its form); the
card's credential for this round (a card signs with another key in every round) was handed out
and not voided; the card has not been used in this round (primary key);
the round is not full (收回 ≤ 实到, a conditional update); the chain head moves by exactly one
entry (unique `(round, prev_hash)`); the envelope and the tally-signed receipt are stored. All
of it commits together or not at all; nothing is acknowledged before the commit is durable.
It never opens a ballot: secret rounds are opened only after they close (tally.box.counting).
"""
from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session

from keys.canonical import b64e
from keys.chain import next_entry
from keys.envelope import EnvelopeHeader, make_receipt, open_envelope, parse_envelope, verify_envelope
from keys.errors import BadEnvelope, Malformed
from keys.identity import Identity
from tally.box.forms import ballot_size
from tally.errors import ApiError
from tally.hall.kiosks import KioskKeys
from tally.judging import panel, scoring
from tally.rules.kinds import RoundKind
from tally.setup.meeting import MeetingInfo
from tally.store.models import Card, CardUse, Envelope, Kiosk, Round

if TYPE_CHECKING:
    from tally.services import Services

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
    _check_status(kiosk.status)
    return kiosk


def _check_status(status: str | None) -> None:
    if status is None:
        raise ApiError(403, "unknown_kiosk", "This kiosk is not paired with the tally.")
    if status == "revoked":
        raise ApiError(403, "kiosk_revoked", "This kiosk has been revoked by the chair.")
    if status != "active":
        raise ApiError(403, "kiosk_pending", "This kiosk is waiting for the chair to confirm it.")


def parse_and_verify(s: Session, body: Any, meeting_id: str, keys: KioskKeys | None = None) -> EnvelopeHeader:
    """Everything that needs no lock: shape, meeting, kiosk key, signatures."""
    if not isinstance(body, dict):
        raise ApiError(400, "malformed", "The envelope could not be read.")
    try:
        header = parse_envelope(body)
    except (Malformed, BadEnvelope) as exc:
        raise ApiError(400, "malformed", "The envelope could not be read.") from exc
    if header.meeting != meeting_id:
        raise ApiError(400, "wrong_meeting", "This envelope belongs to another meeting.")
    public = (keys or KioskKeys()).get(s, header.kiosk_id)
    try:
        verify_envelope(header, public)
    except BadEnvelope as exc:
        raise ApiError(400, "bad_signature", "The envelope's signatures do not verify.") from exc
    return header


# The hot path below runs prepared Core statements on the session's connection: a handful of
# indexed statements per envelope, with the integrity in the database's constraints.
_P = bindparam
Q_STORED = select(Envelope.receipt, Envelope.round_id).where(Envelope.envelope_hash == _P("h"))
Q_KIOSK = select(Kiosk.status).where(Kiosk.id == _P("k"))
Q_NONCE = select(Envelope.id).where(Envelope.round_id == _P("r"), Envelope.kiosk_id == _P("k"), Envelope.nonce == _P("n"))
Q_ROUND = select(Round.id, Round.kind, Round.status, Round.chain_head, Round.present, Round.accepted).where(Round.id == _P("r"))
# A card's credential is for one round: its key from another round is an unknown card here.
Q_CARD = select(Card.status).where(Card.public_key == _P("c"), Card.round_id == _P("r"))
Q_USED = select(CardUse.card).where(CardUse.card == _P("c"), CardUse.round_id == _P("r"))
I_USE = insert(CardUse).values(card=_P("c"), round_id=_P("r"))
U_BALLOT = (update(Round).where(Round.id == _P("r"), Round.status == "open", Round.chain_head == _P("prev"),
                                Round.accepted < Round.present)
            .values(accepted=Round.accepted + 1, chain_head=_P("entry")))
U_SCORE = (update(Round).where(Round.id == _P("r"), Round.status == "open", Round.chain_head == _P("prev"))
           .values(accepted=Round.accepted + 1, chain_head=_P("entry")))
I_ENVELOPE = insert(Envelope)


def _accept_in(s: Session, header: EnvelopeHeader, body: dict[str, Any], info: MeetingInfo,
               identity: Identity, score: dict[str, Any] | None) -> Accepted:
    conn = s.connection()
    stored = conn.execute(Q_STORED, {"h": header.envelope_hash}).first()
    if stored is not None:
        return Accepted(json.loads(stored.receipt), False, stored.round_id)
    _check_status(conn.execute(Q_KIOSK, {"k": header.kiosk_id}).scalar())
    nonce = b64e(header.nonce)
    if conn.execute(Q_NONCE, {"r": header.round_id, "k": header.kiosk_id, "n": nonce}).first() is not None:
        raise ApiError(409, "nonce_reused", "This kiosk already sent a different envelope with this nonce.")
    rnd = conn.execute(Q_ROUND, {"r": header.round_id}).first()
    if rnd is None:
        raise ApiError(404, "unknown_round", "There is no such round in this meeting.")
    if rnd.status != "open":
        raise ApiError(409, "round_not_open", "This round is not open for ballots.")
    if header.ballot_size != ballot_size(info.plan.round(rnd.id)):
        # Every sealed ballot of a round has the round's one size (signed in its form): another
        # length would let anyone on the hall network tell one ballot from another.
        raise ApiError(400, "malformed", "The sealed ballot does not have its round's size.")
    prev = rnd.chain_head
    entry = next_entry(prev, header.envelope_hash)
    if RoundKind(rnd.kind).opened_at_intake:
        seat = panel.seat_of_card(s, rnd.id, header.card_public)
        if seat is None or score is None:
            raise ApiError(403, "unknown_judge_card", "This judge card is not a seat of this round.")
        scoring.take_score(s, info, rnd.id, seat, score, header.envelope_hash)
        move = U_SCORE
    else:
        card = conn.execute(Q_CARD, {"c": header.card_public, "r": rnd.id}).scalar()
        if card is None:
            raise ApiError(403, "unknown_card", "This ballot card is not one of this meeting's cards.")
        if card == "void":
            raise ApiError(409, "card_void", "This ballot card has been voided.")
        if card != "issued":
            raise ApiError(403, "card_not_issued", "This ballot card was not handed out at the desk.")
        if conn.execute(Q_USED, {"c": header.card_public, "r": rnd.id}).first() is not None:
            raise ApiError(409, "card_used", "This ballot card has already been used in this round.")
        if rnd.present is not None and rnd.accepted >= rnd.present:
            raise ApiError(409, "round_full", "This round has received as many ballots as attendees present.")
        conn.execute(I_USE, {"c": header.card_public, "r": rnd.id})
        move = U_BALLOT
    if conn.execute(move, {"r": rnd.id, "prev": prev, "entry": entry}).rowcount != 1:
        raise _Retry()
    receipt = make_receipt(identity, meeting=info.id, round_id=rnd.id, envelope_hash=header.envelope_hash, entry=entry)
    conn.execute(I_ENVELOPE, {
        "id": secrets.token_hex(16), "round_id": rnd.id, "kiosk_id": header.kiosk_id, "nonce": nonce,
        "envelope_hash": header.envelope_hash, "prev_hash": prev, "entry_hash": entry,
        "body": json.dumps(body, sort_keys=True, separators=(",", ":")),
        "receipt": json.dumps(receipt, sort_keys=True, separators=(",", ":"))})
    revealed = scoring.maybe_auto_reveal(s, info, rnd.id) if RoundKind(rnd.kind).opened_at_intake else False
    return Accepted(receipt, True, rnd.id, revealed)


class _Retry(Exception):
    """Another transaction moved the chain first; try again from the top."""


def open_score(svc: Services, header: EnvelopeHeader) -> dict[str, Any] | None:
    """Judge scores are open data: a score round's envelope is opened at intake to check it."""
    plan = svc.meeting.plan
    if header.round_id not in plan or not plan.round(header.round_id).kind.opened_at_intake:
        return None  # a sealed ballot, or an unknown round (refused inside the transaction)
    try:
        with svc.store.reader() as s:
            key = svc.score_keys.get(s, header.round_id)
        ballot = open_envelope(header, key)
    except BadEnvelope as exc:
        raise ApiError(400, "bad_signature", "The envelope could not be opened.") from exc
    if not isinstance(ballot, dict) or ballot.get("round") != header.round_id:
        raise ApiError(400, "malformed", "The envelope could not be read.")
    return ballot


def accept(svc: Services, body: Any) -> Accepted:
    """Take one envelope; raises ApiError (4xx) on refusal. Safe to call from many workers."""
    with svc.store.reader() as s:
        # A cached kiosk key means this session never touches the database.
        header = parse_and_verify(s, body, svc.meeting.id, svc.kiosk_keys)
    score = open_score(svc, header)
    for _ in range(MAX_RETRIES):
        try:
            with svc.store.writer() as s, s.begin():
                return _accept_in(s, header, body, svc.meeting, svc.identity, score)
        except (_Retry, OperationalError):
            continue
        except IntegrityError:
            # A racing transaction took the card or the envelope between our reads and our
            # insert: re-run the checks, which now say which.
            continue
    raise ApiError(503, "busy", "The tally is busy; the kiosk will send this envelope again.")
