"""The audit log of the chair's and staff's actions (全程纪实): append-only, with times, never ballots.

Each entry is a link of a hash chain (`keys.audit`): its hash covers the entry before it and its
own time, actor, action and detail, so an edited, deleted or inserted row breaks the chain from
there on. Appending locks the meeting row, which holds the head, so two transactions never
chain onto the same entry (on PostgreSQL; SQLite writers are serialized anyway), and the unique
`prev_hash` forbids a fork. The head is signed with each count (`tally.box.counting`) and shown
on the console's audit page with the chain checked. Never records a person or a ballot card.
"""
from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from keys import audit as chain
from tally.store.models import AuditEntry, Meeting


def at_text(at: datetime) -> str:
    """An entry's time as it is hashed and exported: ISO 8601, UTC, microseconds."""
    return at.isoformat(timespec="microseconds") + "Z"


def record_of(e: AuditEntry) -> dict[str, Any]:
    """The four fields of an entry that its hash covers."""
    return {"at": at_text(e.at), "actor": e.actor, "action": e.action, "detail": json.loads(e.detail)}


def record(s: Session, actor: str, action: str, **detail: Any) -> None:
    """Append one entry to the log, chained to the head (locked until this transaction ends)."""
    s.flush()  # an entry added earlier in this transaction is the head now
    head = s.execute(select(Meeting.audit_head).with_for_update()).scalar_one()
    at = datetime.now(UTC).replace(tzinfo=None)
    text = json.dumps(detail, ensure_ascii=False, sort_keys=True)
    entry = chain.next_entry(head, {"at": at_text(at), "actor": actor, "action": action, "detail": json.loads(text)})
    s.add(AuditEntry(at=at, actor=actor, action=action, detail=text, prev_hash=head, entry_hash=entry))
    s.execute(update(Meeting).values(audit_head=entry))


def head(s: Session) -> str:
    """The audit log's head now (what a count signs)."""
    s.flush()
    return str(s.execute(select(Meeting.audit_head)).scalar_one())


def in_chain_order(s: Session, meeting_id: str) -> Iterator[AuditEntry]:
    """Every entry from the genesis along the chain; then any row the chain does not reach."""
    rows = list(s.scalars(select(AuditEntry).order_by(AuditEntry.id)))
    by_prev = {e.prev_hash: e for e in rows}
    link, seen = chain.genesis(meeting_id), set()
    while link in by_prev:
        e = by_prev.pop(link)
        seen.add(e.id)
        yield e
        link = e.entry_hash
    yield from (e for e in rows if e.id not in seen)


def lines(s: Session, meeting_id: str) -> list[dict[str, Any]]:
    """The log as `audit.jsonl` exports it: each record with its `prev` and `entry`, in chain order."""
    return [{**record_of(e), "prev": e.prev_hash, "entry": e.entry_hash} for e in in_chain_order(s, meeting_id)]


@dataclass(frozen=True)
class Check:
    """The chain as the database holds it now: entries walked, the head reached, what is wrong."""

    entries: int
    head: str
    stored_head: str
    problems: tuple[tuple[int, str], ...]  # (position in chain order, kind)

    @property
    def intact(self) -> bool:
        return not self.problems and self.head == self.stored_head


def check(s: Session, meeting_id: str) -> Check:
    """Walk the stored log from its genesis, recomputing every entry (`keys.audit.replay`)."""
    walked = chain.replay(meeting_id, lines(s, meeting_id))
    return Check(entries=walked.count, head=walked.head, stored_head=head(s), problems=walked.problems)
