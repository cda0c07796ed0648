"""Ballot credentials (选票凭证): printed one-time cards and desk unlocks of a kiosk.

A card's secret is made here, printed into its QR code and forgotten: the table keeps only the
public key derived from it. Cards move printed → issued (handed out at the desk, counted, never
registered to a person) → void (not handed out by the close). A desk unlock gives one kiosk a
grant; the kiosk makes a fresh card key itself and registers only its public key.
"""
from __future__ import annotations

import secrets
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from keys.canonical import b64d
from keys.cards import Card as CardSecret, card_key, new_card, parse_card
from keys.errors import Malformed
from tally import audit
from tally.errors import ApiError
from tally.models import Card, CardUse, Kiosk, UnlockGrant


def print_cards(s: Session, meeting_id: str, count: int, *, issued: bool = False) -> list[CardSecret]:
    """Make `count` new cards; the caller renders them and must not keep them."""
    if not 1 <= count <= 5000:
        raise ApiError(400, "bad_count", "Print between 1 and 5000 cards at a time.")
    cards = [new_card(meeting_id) for _ in range(count)]
    for c in cards:
        s.add(Card(public_key=c.public_bytes, status="issued" if issued else "printed"))
    audit.record(s, "chair", "cards_printed", count=count, issued=issued)
    return cards


def card_public_from_text(text: str, meeting_id: str) -> bytes:
    try:
        meeting, secret = parse_card(text)
    except Malformed as exc:
        raise ApiError(400, "bad_card", "This is not a ballot card code.") from exc
    if meeting != meeting_id:
        raise ApiError(400, "wrong_meeting", "This ballot card belongs to another meeting.")
    return card_key(secret, meeting_id).public_bytes()


def issue_card(s: Session, text: str, meeting_id: str) -> None:
    """The desk scanned a card while handing it out."""
    card = s.get(Card, card_public_from_text(text, meeting_id))
    if card is None:
        raise ApiError(404, "unknown_card", "This ballot card is not one of this meeting's cards.")
    if card.status == "void":
        raise ApiError(409, "card_void", "This ballot card has been voided.")
    if card.status == "issued":
        raise ApiError(409, "card_issued", "This ballot card was already handed out.")
    card.status = "issued"


def issue_all_printed(s: Session) -> int:
    n = s.execute(update(Card).where(Card.status == "printed").values(status="issued")).rowcount
    audit.record(s, "desk", "cards_issued_in_bulk", count=n)
    return n


def void_unissued(s: Session) -> int:
    n = s.execute(update(Card).where(Card.status == "printed").values(status="void")).rowcount
    audit.record(s, "chair", "cards_voided", count=n)
    return n


def counts(s: Session) -> dict[str, int]:
    rows = s.execute(select(Card.status, func.count()).group_by(Card.status)).all()
    out = {"printed": 0, "issued": 0, "void": 0}
    out.update({status: n for status, n in rows})
    return out


def check(s: Session, card_public: bytes, open_rounds: list[str]) -> dict[str, Any]:
    card = s.get(Card, card_public)
    if card is None:
        return {"card": "unknown", "rounds": {}}
    if card.status == "void":
        return {"card": "void", "rounds": {}}
    used = set(s.scalars(select(CardUse.round_id).where(CardUse.card == card_public)))
    state = "ok" if card.status == "issued" else "not_issued"
    return {"card": state, "rounds": {r: ("used" if r in used else "ok") for r in open_rounds}}


def grant_unlock(s: Session, kiosk_id: str) -> str:
    kiosk = s.get(Kiosk, kiosk_id)
    if kiosk is None or kiosk.status != "active":
        raise ApiError(409, "kiosk_not_active", "Only a confirmed kiosk can be unlocked.")
    if s.scalars(select(UnlockGrant).where(UnlockGrant.kiosk_id == kiosk_id)).first() is not None:
        raise ApiError(409, "already_unlocked", "This kiosk is already unlocked and waiting for a voter.")
    grant = secrets.token_hex(16)
    s.add(UnlockGrant(id=grant, kiosk_id=kiosk_id))
    audit.record(s, "desk", "kiosk_unlocked")
    return grant


def pending_grant(s: Session, kiosk_id: str) -> str | None:
    return s.scalars(select(UnlockGrant.id).where(UnlockGrant.kiosk_id == kiosk_id)).first()


def claim_unlock(s: Session, kiosk_id: str, payload: Any) -> None:
    if not isinstance(payload, dict) or not isinstance(payload.get("grant"), str) or not isinstance(payload.get("card"), str):
        raise ApiError(400, "malformed", "Send the grant and the card's public key.")
    grant = s.get(UnlockGrant, payload["grant"])
    if grant is None or grant.kiosk_id != kiosk_id:
        raise ApiError(409, "no_unlock", "There is no desk unlock waiting for this kiosk.")
    try:
        public = b64d(payload["card"])
    except Malformed as exc:
        raise ApiError(400, "malformed", "The card's public key could not be read.") from exc
    if len(public) != 32 or s.get(Card, public) is not None:
        raise ApiError(400, "malformed", "The card's public key could not be read.")
    s.delete(grant)
    s.add(Card(public_key=public, status="issued"))
