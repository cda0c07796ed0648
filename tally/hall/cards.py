"""Ballot credentials (选票凭证): printed one-time cards and desk unlocks of a kiosk.

A card's secret is made here, printed into its QR code and forgotten. The secret derives one
Ed25519 key per ballot round (`keys.cards.card_key(S, meeting, round)`); the `cards` table
keeps one row per card and ballot round (recommend, evaluate, decide: score and composite
rounds take no ballot cards) holding only that round's public key, and no column ties the rows
of one card together. So the ballot box of one round cannot be joined to another's through the
card, and a card's rows are written in key order (random), never card by card.

A card moves printed → issued (handed out at the desk, counted, never registered to a person)
→ void (not handed out by the close); all its rows move together because the desk derives all
of them from the scanned secret. A desk unlock gives one kiosk a grant; the kiosk makes a
fresh card itself and registers only its public keys, one per open ballot round.

Never touches a card secret beyond the request that prints or scans it.
"""
from __future__ import annotations

import secrets
from typing import Any

from sqlalchemy import func, insert, select, update
from sqlalchemy.orm import Session

from keys.canonical import b64d
from keys.cards import Card as CardSecret
from keys.cards import card_key, new_card, parse_card
from keys.errors import Malformed
from keys.ids import check_name
from tally.errors import ApiError
from tally.rules.kinds import KINDS
from tally.store import audit
from tally.store.models import Card, CardUse, Kiosk, Round, UnlockGrant

CARD_ROUND_KINDS = sorted(k.value for k in KINDS if k.takes_cards)  # the rounds a ballot card votes in
MAX_ROUND_KEYS = 64


def card_number(qr_text: str) -> str:
    """What a voter types when the QR code cannot be scanned, as the card prints it under the code:
    the QR's text with its secret in groups of four (the kiosk ignores the spaces)."""
    head, _, secret = qr_text.rpartition(".")
    return f"{head}. " + " ".join(secret[i:i + 4] for i in range(0, len(secret), 4))


def ballot_rounds(s: Session) -> list[str]:
    """The ids of the rounds a ballot card holds a credential for, in plan order."""
    return list(s.scalars(select(Round.id).where(Round.kind.in_(CARD_ROUND_KINDS)).order_by(Round.position)))


def print_cards(s: Session, meeting_id: str, count: int, *, issued: bool = False) -> list[CardSecret]:
    """Make `count` new cards; the caller renders them and must not keep them."""
    if not 1 <= count <= 5000:
        raise ApiError(400, "bad_count", "Print between 1 and 5000 cards at a time.")
    rounds = ballot_rounds(s)
    if not rounds:
        raise ApiError(409, "no_ballot_rounds", "This meeting has no voting rounds, so it needs no ballot cards.")
    cards = [new_card(meeting_id) for _ in range(count)]
    status = "issued" if issued else "printed"
    # Sorted by public key (random): even a heap that keeps insertion order (PostgreSQL) does not
    # keep one card's rows next to each other.
    rows: list[dict[str, Any]] = [{"public_key": c.public_for(r), "round_id": r, "status": status}
                                  for c in cards for r in rounds]
    rows.sort(key=lambda row: row["public_key"])
    s.execute(insert(Card), rows)
    audit.record(s, "chair", "cards_printed", count=count, issued=issued)
    return cards


def _secret_from_text(text: str, meeting_id: str) -> bytes:
    try:
        meeting, secret = parse_card(text)
    except Malformed as exc:
        raise ApiError(400, "bad_card", "This is not a ballot card code.") from exc
    if meeting != meeting_id:
        raise ApiError(400, "wrong_meeting", "This ballot card belongs to another meeting.")
    return secret


def issue_card(s: Session, text: str, meeting_id: str) -> None:
    """The desk scanned a card while handing it out: every round's credential becomes issued."""
    secret = _secret_from_text(text, meeting_id)
    wanted = {card_key(secret, meeting_id, r).public_bytes(): r for r in ballot_rounds(s)}
    del secret
    rows = [row for row in s.scalars(select(Card).where(Card.public_key.in_(list(wanted))))
            if wanted[row.public_key] == row.round_id]
    if not rows:
        raise ApiError(404, "unknown_card", "This ballot card is not one of this meeting's cards.")
    if any(row.status == "void" for row in rows):
        raise ApiError(409, "card_void", "This ballot card has been voided.")
    if all(row.status == "issued" for row in rows):
        raise ApiError(409, "card_issued", "This ballot card was already handed out.")
    for row in rows:
        row.status = "issued"


def counts(s: Session) -> dict[str, int]:
    """Cards (not rows) printed, issued and void, as the console and the desk show them.

    A card has one row per ballot round, so a status's card count is its largest count among the
    rounds (a desk unlock holds rows only in the rounds that were open when it was claimed)."""
    out = {"printed": 0, "issued": 0, "void": 0}
    per_round = select(Card.round_id, Card.status, func.count()).group_by(Card.round_id, Card.status)
    for _round_id, status, n in s.execute(per_round):
        out[status] = max(out[status], n)
    return out


def issue_all_printed(s: Session) -> int:
    n = counts(s)["printed"]
    s.execute(update(Card).where(Card.status == "printed").values(status="issued"))
    audit.record(s, "desk", "cards_issued_in_bulk", count=n)
    return n


def void_unissued(s: Session) -> int:
    n = counts(s)["printed"]
    s.execute(update(Card).where(Card.status == "printed").values(status="void"))
    audit.record(s, "chair", "cards_voided", count=n)
    return n


def parse_round_keys(value: Any) -> dict[str, bytes]:
    """A kiosk's `{round_id: b64 public key}`: one card's key in each round it asks about."""
    if not isinstance(value, dict) or not 1 <= len(value) <= MAX_ROUND_KEYS:
        raise ApiError(400, "malformed", "The card's public key could not be read.")
    out: dict[str, bytes] = {}
    try:
        for round_id, text in value.items():
            key = b64d(text) if isinstance(text, str) else b""
            if len(key) != 32:
                raise Malformed("a card public key is 32 bytes")
            out[check_name(round_id, "round")] = key
    except Malformed as exc:
        raise ApiError(400, "malformed", "The card's public key could not be read.") from exc
    if len(set(out.values())) != len(out):
        raise ApiError(400, "malformed", "The card's public key could not be read.")
    return out


def check(s: Session, keys: dict[str, bytes], open_rounds: list[str]) -> dict[str, Any]:
    """What a kiosk may tell a voter at once (advisory: intake decides).

    `keys` holds the scanned card's public key for each round the kiosk asks about; a key counts
    only in the round it was made for. `rounds` lists the open ballot rounds the card holds a
    credential in, each "ok" or "used"."""
    found = {row.round_id: row for row in s.scalars(select(Card).where(Card.public_key.in_(list(keys.values()))))
             if keys.get(row.round_id) == row.public_key}
    if not found:
        return {"card": "unknown", "rounds": {}}
    if any(row.status == "void" for row in found.values()):
        return {"card": "void", "rounds": {}}
    state = "ok" if all(row.status == "issued" for row in found.values()) else "not_issued"
    rounds = {r: ("used" if s.get(CardUse, (keys[r], r)) is not None else "ok") for r in open_rounds if r in found}
    return {"card": state, "rounds": rounds}


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
    """Register the kiosk-made card of a desk unlock: one public key per open ballot round.

    A key for a ballot round that is not open (the chair closed it a moment ago) is left out;
    a key for a round that takes no ballot cards, or for no open round at all, is refused."""
    if not isinstance(payload, dict) or not isinstance(payload.get("grant"), str):
        raise ApiError(400, "malformed", "Send the grant and the card's public key.")
    grant = s.get(UnlockGrant, payload["grant"])
    if grant is None or grant.kiosk_id != kiosk_id:
        raise ApiError(409, "no_unlock", "There is no desk unlock waiting for this kiosk.")
    keys = parse_round_keys(payload.get("cards"))
    status = {r.id: r.status for r in s.execute(select(Round.id, Round.status).where(Round.kind.in_(CARD_ROUND_KINDS)))}
    if any(r not in status for r in keys):
        raise ApiError(400, "malformed", "The card's public key could not be read.")
    keys = {r: key for r, key in keys.items() if status[r] == "open"}
    if not keys:
        raise ApiError(409, "round_not_open", "This round is not open for ballots.")
    if s.scalars(select(Card.public_key).where(Card.public_key.in_(list(keys.values())))).first() is not None:
        raise ApiError(400, "malformed", "The card's public key could not be read.")
    s.delete(grant)
    rows: list[dict[str, Any]] = [{"public_key": key, "round_id": r, "status": "issued"} for r, key in keys.items()]
    rows.sort(key=lambda row: row["public_key"])  # random order, not round order
    s.execute(insert(Card), rows)
