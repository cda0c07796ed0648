"""The published box (公开票箱): once a round closes, the receipt code of every envelope it accepted.

Public, for anyone in the hall: `GET /box` (a page, linked from the projector by a QR code) and
`GET /api/v1/box/<round>` (JSON). A voter finds the receipt code the kiosk showed; every kiosk
fetches the box and checks that each receipt it holds is in it, and raises the alarm on the
console if one is missing; the export carries the same list (`receipts.json`). The codes are
sorted, so the list says nothing about the order ballots arrived in. The tally signs the
document (`scrutineer/box/v1`): a box that leaves out a receipt the tally signed is evidence.
A ballot round's box carries the fingerprint of the scrutineers' card list the tally imported
(`tally.hall.cards`), so anyone can compare it with the scrutineers' own copy.
Built from the envelopes the database holds now, so a row deleted after the close is missing
here too. Reads only.
"""
from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from keys import labels
from keys.document import sign_document
from keys.identity import Identity
from keys.published import box_document
from tally.box.rounds import get_round
from tally.errors import ApiError
from tally.hall import cards as credentials
from tally.setup.meeting import MeetingInfo
from tally.store.models import Envelope, Round

PUBLISHED = ("closed", "counted")


def box(s: Session, info: MeetingInfo, round_id: str) -> dict[str, Any]:
    """The published box of one closed round; `round_not_closed` while it is open or not opened."""
    rnd = get_round(s, round_id)
    if not rnd.round_kind.takes_ballots:
        raise ApiError(404, "unknown_round", "There is no such round in this meeting.")
    if rnd.status not in PUBLISHED:
        raise ApiError(409, "round_not_closed", "The ballot box is published once the round is closed.")
    hashes = s.scalars(select(Envelope.envelope_hash).where(Envelope.round_id == round_id))
    # A ballot round's box names the scrutineers' card list it took cards from (the fingerprint
    # of the list as imported, as the projector and the sheets show it); null for a judges' round
    # or before a list was imported.
    listed = credentials.list_info(s) if rnd.round_kind.takes_cards else None
    return box_document(meeting=info.id, round_id=round_id, count=rnd.accepted, chain_head=rnd.chain_head,
                        credentials_fingerprint=listed["fingerprint"] if listed else None, envelope_hashes=hashes)


def signed_box(s: Session, info: MeetingInfo, identity: Identity, round_id: str) -> dict[str, Any]:
    """The box and, beside it, the same document signed by the tally (what a kiosk verifies)."""
    doc = box(s, info, round_id)
    return {**doc, "signed": sign_document(identity, doc, labels.BOX)}


def boxes(s: Session, info: MeetingInfo) -> list[dict[str, Any]]:
    """Every published box, in the meeting's order, with the round's title (for the public page)."""
    rounds = s.scalars(select(Round).where(Round.status.in_(PUBLISHED)).order_by(Round.position))
    return [{**box(s, info, r.id), "title": r.title} for r in rounds if r.round_kind.takes_ballots]
