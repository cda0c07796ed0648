"""Ballot credentials (选票凭证): the scrutineers' card list, batch voids, and desk unlocks of a kiosk.

The tally never makes a ballot card. The scrutineers make the cards on their own machine
(`keys cards make`) and give the tally only the list of their public keys
(`credentials.json`), which `import_list` loads before the first round opens; after that the
list is frozen. A card's secret derives one Ed25519 key per ballot round
(`keys.cards.card_key(S, meeting, round)`); the `cards` table keeps one row per card and ballot
round holding only that round's public key, and no column ties the rows of one card together
(each round's keys are written in key order, which is random). Keys for the spare round keys
wait in `spare_cards` until a round added live takes the spare.

Cards are counted out at the desk like paper ballots: nothing records which card went to
whom, or even that a card was handed out. Left-over cards are voided as a batch by the void
lines the scrutineers' tool makes from their codes (`void_cards`): a card's key in one round,
signed by that key. A card's code never reaches the tally, which could otherwise vote with it.
Where the chair allows it (`set_desk_unlock`), the desk may unlock one kiosk for one voter; the
kiosk makes a fresh card itself and registers only its public keys (`origin = desk`), which the
export, `keys verify-box` and the result sheet count apart.
"""
from __future__ import annotations

import secrets
from typing import Any

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.orm import Session

from keys.canonical import b64d, b64e
from keys.cards import parse_card
from keys.credentials import CardVoid, parse_credentials, parse_void_line, verify_void
from keys.credentials import list_document as rebuild_list
from keys.errors import BadSignature, Malformed
from keys.ids import check_name
from tally.errors import ApiError
from tally.rules.kinds import KINDS
from tally.store import audit
from tally.store.models import Card, CardUse, CredentialList, Kiosk, Meeting, Round, SpareCard, SpareKey, UnlockGrant

CARD_ROUND_KINDS = sorted(k.value for k in KINDS if k.takes_cards)  # the rounds a ballot card votes in
MAX_ROUND_KEYS = 64
MAX_VOID = 20000  # void lines: one per card and card round


def ballot_rounds(s: Session) -> list[str]:
    """The ids of the rounds a ballot card holds a credential for, in plan order."""
    return list(s.scalars(select(Round.id).where(Round.kind.in_(CARD_ROUND_KINDS)).order_by(Round.position)))


def frozen(s: Session) -> bool:
    """The card list cannot change once a round has opened (or a card has voted)."""
    return (s.scalar(select(func.count()).select_from(Round).where(Round.status != "draft")) or 0) > 0 \
        or s.scalar(select(CardUse.card).limit(1)) is not None


def import_list(s: Session, meeting_id: str, record_fp: str, doc: Any) -> dict[str, Any]:
    """Load the scrutineers' card list (replacing an earlier import, until the first round opens);
    `record_fp` is the fingerprint of this meeting's public record, which the list must name."""
    try:
        found = parse_credentials(doc)
    except Malformed as exc:
        raise ApiError(400, "bad_card_list", "This is not a valid ballot card list (credentials.json).") from exc
    if found.meeting != meeting_id:
        raise ApiError(400, "wrong_meeting", "This ballot card list belongs to another meeting.")
    if found.meeting_record != record_fp:
        raise ApiError(400, "wrong_meeting_record",
                       "This ballot card list was made from another meeting record than this tally's.")
    spares = {sp.id: sp for sp in s.scalars(select(SpareKey))}
    rounds = ballot_rounds(s)
    wanted = [r for r in rounds if r not in spares] + sorted(spares)
    if set(found.rounds) != set(wanted):
        raise ApiError(400, "bad_card_list", "This ballot card list does not hold a key for each ballot round.")
    # Lock the rounds before asking whether one is open: an open racing this import then waits
    # for it (PostgreSQL), instead of committing between the check and the import's own commit.
    s.execute(select(Round.id).order_by(Round.id).with_for_update()).all()
    if frozen(s):
        raise ApiError(409, "card_list_frozen", "The ballot card list is frozen: a round has already been opened.")
    s.execute(delete(Card).where(Card.origin == "list"))
    s.execute(delete(SpareCard))
    s.execute(delete(CredentialList))
    rows: list[dict[str, Any]] = []
    spare_rows: list[dict[str, Any]] = []
    for round_id, keys in found.rounds.items():
        if round_id in spares and not spares[round_id].assigned:
            spare_rows += [{"public_key": k, "spare_id": round_id, "status": "issued"} for k in keys]
        else:
            rows += [{"public_key": k, "round_id": round_id, "status": "issued", "origin": "list"} for k in keys]
    rows.sort(key=lambda row: row["public_key"])  # key order: random, never card by card
    spare_rows.sort(key=lambda row: row["public_key"])
    if rows:
        s.execute(insert(Card), rows)
    if spare_rows:
        s.execute(insert(SpareCard), spare_rows)
    s.add(CredentialList(meeting_id=meeting_id, fingerprint=found.fingerprint, cards=found.cards,
                         meeting_record=found.meeting_record))
    audit.record(s, "chair", "card_list_imported", cards=found.cards, fingerprint=found.fingerprint)
    return {"cards": found.cards, "fingerprint": found.fingerprint}


def list_info(s: Session) -> dict[str, Any] | None:
    """The imported card list's fingerprint and size (what the projector and sheets show)."""
    row = s.execute(select(CredentialList.fingerprint, CredentialList.cards)).first()
    return None if row is None else {"fingerprint": row.fingerprint, "cards": row.cards}


def list_document(s: Session, meeting_id: str, *, check: bool = True) -> dict[str, Any] | None:
    """The card list as imported, rebuilt from the credential rows, checked against the fingerprint
    stored at import (`check=False`: as the rows give it, for an export of a box that may have been
    tampered with, where the auditor compares it with the close record and the scrutineers' copy)."""
    row = s.scalars(select(CredentialList)).first()
    if row is None:
        return None
    rounds: dict[str, list[bytes]] = {}
    for key, round_id in s.execute(select(Card.public_key, Card.round_id).where(Card.origin == "list")):
        rounds.setdefault(round_id, []).append(key)
    for key, spare in s.execute(select(SpareCard.public_key, SpareCard.spare_id)):
        rounds.setdefault(spare, []).append(key)
    doc = rebuild_list(meeting_id, row.meeting_record, row.cards, rounds)
    if check and doc["fingerprint"] != row.fingerprint:
        raise ApiError(409, "card_list_changed", "The ballot card rows no longer give the imported list's fingerprint.")
    return doc


def void_cards(s: Session, meeting_id: str, texts: Any) -> dict[str, int]:
    """Void left-over cards by the void lines the scrutineers' tool made from them (`keys cards
    void`): each line is one card's key in one round, signed by that key. The tally never sees
    a card's code: a code it saw would be a listed card its operator could vote with.

    Refuses the whole batch if one line cannot be read, is of another meeting or is not signed
    by the key it names. Counts are of cards (the largest count among the rounds, as `counts`):
    a card already used in a round stays counted there and is voided for the rounds to come."""
    if not isinstance(texts, list) or not 1 <= len(texts) <= MAX_VOID or not all(isinstance(t, str) for t in texts):
        raise ApiError(400, "bad_count", "Give between 1 and %(max)s void lines (from keys cards void).", max=MAX_VOID)
    lines: list[CardVoid] = []
    for number, text in enumerate(texts, start=1):
        try:
            line = parse_void_line(text)
            if line.meeting == meeting_id:
                verify_void(line)
        except (Malformed, BadSignature) as exc:
            if isinstance(text, str) and _looks_like_a_card(text):
                raise ApiError(400, "card_code_refused", "Line %(n)s is a card's code: the tally must never see one. "
                               "Make void lines from the codes with keys cards void on the scrutineers' machine; "
                               "nothing was voided.", n=number) from exc
            raise ApiError(400, "bad_void_line", "Void line number %(n)s cannot be read or is not signed by its "
                           "card; nothing was voided.", n=number) from exc
        if line.meeting != meeting_id:
            raise ApiError(400, "wrong_meeting", "Void line number %(n)s belongs to another meeting; nothing was "
                           "voided.", n=number)
        lines.append(line)
    spares = set(s.scalars(select(SpareKey.id).where(SpareKey.assigned.is_(False))))
    tally: dict[str, dict[str, int]] = {}
    for line in lines:
        mine = tally.setdefault(line.round_id, {"voided": 0, "already_void": 0, "unknown": 0, "used": 0})
        row: Card | SpareCard | None
        if line.round_id in spares:
            row = s.get(SpareCard, line.card)
            row = row if row is not None and row.spare_id == line.round_id else None
        else:
            row = s.get(Card, line.card)
            row = row if row is not None and row.round_id == line.round_id and row.origin == "list" else None
        if row is None:
            mine["unknown"] += 1
        elif row.status == "void":
            mine["already_void"] += 1
        else:
            if s.get(CardUse, (line.card, line.round_id)) is not None:
                mine["used"] += 1
            row.status = "void"
            mine["voided"] += 1
    out = {k: max((mine[k] for mine in tally.values()), default=0) for k in ("voided", "already_void", "unknown", "used")}
    audit.record(s, "chair", "cards_voided", count=out["voided"], already_void=out["already_void"],
                 unknown=out["unknown"], used=out["used"])
    return out


def _looks_like_a_card(text: str) -> bool:
    try:
        parse_card(text)
    except Malformed:
        return False
    return True


def counts(s: Session) -> dict[str, int]:
    """Cards (not rows) in the list, void, and made by kiosks for desk unlocks.

    A card has one row per ballot round, so a count is its largest count among the rounds."""
    out = {"listed": 0, "void": 0, "desk": 0}
    per_round = select(Card.round_id, Card.status, Card.origin, func.count()).group_by(Card.round_id, Card.status,
                                                                                     Card.origin)
    by_round: dict[str, dict[str, int]] = {}
    for round_id, status, origin, n in s.execute(per_round):
        mine = by_round.setdefault(round_id, {"listed": 0, "void": 0, "desk": 0})
        mine["desk" if origin == "desk" else "listed"] += n
        if status == "void":
            mine["void"] += n
    for mine in by_round.values():
        for k in out:
            out[k] = max(out[k], mine[k])
    return out


def desk_unlock_allowed(s: Session) -> bool:
    return bool(s.scalar(select(Meeting.desk_unlock)))


def set_desk_unlock(s: Session, allowed: bool) -> None:
    """The chair's setting: may the desk unlock a kiosk for one voter? Audited either way."""
    s.execute(update(Meeting).values(desk_unlock=allowed))
    audit.record(s, "chair", "desk_unlock_allowed" if allowed else "desk_unlock_forbidden")


def desk_keys(s: Session, round_id: str) -> list[bytes]:
    """The keys kiosks registered for desk unlocks in this round, in key order."""
    return list(s.scalars(select(Card.public_key).where(Card.round_id == round_id, Card.origin == "desk")
                          .order_by(Card.public_key)))


def desk_cards(s: Session, round_id: str) -> list[str]:
    """The keys kiosks registered for desk unlocks in this round (public; for the export)."""
    return [b64e(k) for k in desk_keys(s, round_id)]


def listed_keys(s: Session, round_id: str) -> frozenset[bytes]:
    """This round's keys of the scrutineers' card list, as the card rows hold them now."""
    return frozenset(s.scalars(select(Card.public_key).where(Card.round_id == round_id, Card.origin == "list")))


def desk_ballots(s: Session, round_id: str) -> int:
    """How many of this round's accepted ballots came from desk unlocks."""
    same = (Card.public_key == CardUse.card) & (Card.round_id == CardUse.round_id)
    q = select(func.count()).select_from(CardUse).join(Card, same).where(CardUse.round_id == round_id,
                                                                          Card.origin == "desk")
    return s.scalar(q) or 0


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
    if not desk_unlock_allowed(s):
        raise ApiError(409, "desk_unlock_off", "This meeting does not allow desk unlocks: hand out a ballot card.")
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
    if grant is not None and not desk_unlock_allowed(s):
        s.delete(grant)
        grant = None
    if grant is None or grant.kiosk_id != kiosk_id:
        raise ApiError(409, "no_unlock", "There is no desk unlock waiting for this kiosk.")
    keys = parse_round_keys(payload.get("cards"))
    status = {r.id: r.status for r in s.execute(select(Round.id, Round.status).where(Round.kind.in_(CARD_ROUND_KINDS)))}
    if any(r not in status for r in keys):
        raise ApiError(400, "malformed", "The card's public key could not be read.")
    keys = {r: key for r, key in keys.items() if status[r] == "open"}
    if not keys:
        raise ApiError(409, "round_not_open", "This round is not open for ballots.")
    # A key already on the list, for any round or a spare round key (whose rows join the cards
    # when a round takes the spare), is not a card the kiosk made.
    wanted = list(keys.values())
    if s.scalars(select(Card.public_key).where(Card.public_key.in_(wanted))).first() is not None or \
            s.scalars(select(SpareCard.public_key).where(SpareCard.public_key.in_(wanted))).first() is not None:
        raise ApiError(400, "malformed", "The card's public key could not be read.")
    s.delete(grant)
    rows: list[dict[str, Any]] = [{"public_key": key, "round_id": r, "status": "issued", "origin": "desk"}
                                  for r, key in keys.items()]
    rows.sort(key=lambda row: row["public_key"])  # random order, not round order
    s.execute(insert(Card), rows)
