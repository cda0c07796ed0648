"""The life of a round: draft → open → closed → counted (then revealed on the projector).

Opening takes the round's 实到 from check-in (its electorate's signed-in attendees) and caps
the ballots it accepts at that number; the first opening freezes the ballot card list. Closing
stops intake (left-over cards are voided by the scrutineers as a batch, `tally.hall.cards`) and
signs the close record into the audit log (`keys.closing`).
Counting is `tally.box.counting`. Nothing is shown on the projector until the chair reveals it.
"""
from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from keys.closing import close_document, sign_close
from keys.identity import Identity
from tally.errors import ApiError
from tally.hall import cards as credentials
from tally.setup.meeting import MeetingInfo
from tally.store import audit
from tally.store.models import Attendee, Round


def get_round(s: Session, round_id: str, *, lock: bool = False) -> Round:
    rnd = s.get(Round, round_id, with_for_update=lock)
    if rnd is None:
        raise ApiError(404, "unknown_round", "There is no such round in this meeting.")
    return rnd


def electorate_present(s: Session, electorate: str | tuple[str, ...] | None) -> int:
    """Signed-in attendees of the electorate (a group, or any of several groups; None = everyone)."""
    q = select(func.count()).select_from(Attendee).where(Attendee.checked_in)
    if electorate:
        groups = (electorate,) if isinstance(electorate, str) else electorate
        q = q.where(Attendee.group.in_(groups))
    return s.scalar(q) or 0


def open_round(s: Session, info: MeetingInfo, round_id: str) -> Round:
    rnd = get_round(s, round_id, lock=True)
    kind = rnd.round_kind
    if not kind.takes_ballots:
        raise ApiError(409, "not_a_ballot_round", "This round is computed from other rounds; it takes no ballots.")
    if rnd.status != "draft":
        raise ApiError(409, "round_not_draft", "Only a round that has not been opened yet can be opened.")
    if kind.takes_cards and credentials.list_info(s) is None and not credentials.desk_unlock_allowed(s):
        raise ApiError(409, "no_card_list", "Import the scrutineers' ballot card list (credentials.json) before "
                       "opening a voting round.")
    if kind.has_attendance:
        present = electorate_present(s, getattr(info.plan.round(round_id), "electorate", None))
        if present == 0:
            raise ApiError(409, "nobody_present", "Nobody has signed in yet: 实到 would be 0.")
        rnd.present = present
        rnd.issued = present
    rnd.status = "open"
    audit.record(s, "chair", "round_opened", round=round_id, present=rnd.present)
    return rnd


def close_round(s: Session, info: MeetingInfo, identity: Identity, round_id: str) -> Round:
    """Stop intake and sign the close record (`keys.closing`): the count and the auditor hold the
    box against this signature, never against the round's row, which the database's holder can edit."""
    rnd = get_round(s, round_id, lock=True)
    if rnd.status != "open":
        raise ApiError(409, "round_not_open", "This round is not open.")
    rnd.status = "closed"
    listed = credentials.list_info(s) if rnd.round_kind.takes_cards else None
    record = close_document(meeting=info.id, round_id=round_id, kind=rnd.kind, count=rnd.accepted,
                            chain_head=rnd.chain_head, present=rnd.present,
                            credentials_fingerprint=listed["fingerprint"] if listed else None,
                            desk_cards=credentials.desk_keys(s, round_id), audit_head=audit.head(s))
    audit.record(s, "chair", "round_closed", round=round_id, accepted=rnd.accepted, chain_head=rnd.chain_head,
                 close=sign_close(identity, record))
    return rnd


def reveal(s: Session, round_id: str) -> Round:
    rnd = get_round(s, round_id, lock=True)
    if rnd.status != "counted":
        raise ApiError(409, "round_not_counted", "Count the round before showing its result.")
    rnd.revealed = True
    rnd.reveal_seq = (s.scalar(select(func.max(Round.reveal_seq))) or 0) + 1
    audit.record(s, "chair", "round_revealed", round=round_id)
    return rnd
