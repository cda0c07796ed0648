"""The close record (封箱记录): what the tally signs at the moment a round closes.

When the chair closes a round the tally signs (label `scrutineer/close/v1`) the box as it stands:
the number of envelopes accepted, the chain head, 实到, the fingerprint of the scrutineers' card
list, the keys kiosks registered for desk unlocks in this round (their number and a digest) and
the audit log's head just before the close. The signed record goes into the close's own entry of
the audit log (`detail.close`), which the export carries (`audit.jsonl`).

The count (`tally.box.counting`, `tally count-box`) and `keys verify-box` hold the box against
this record, not against the round's row: whoever holds the database can rewrite the row, the
envelopes and the unkeyed audit chain, but cannot sign without the tally's key, which rests
encrypted under the key passphrase outside the database. Pure: no storage, no clock.

    {"v": 1, "type": "close", "meeting", "round", "kind", "count", "chain_head", "present",
     "credentials_fingerprint", "desk_cards", "desk_cards_digest", "audit_head"}
"""
from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from keys import labels
from keys.document import sign_document, verify_document
from keys.errors import BadSignature, Malformed
from keys.identity import Identity
from keys.ids import check_hash, check_meeting, check_name

CLOSE_KEYS = frozenset({"v", "type", "meeting", "round", "kind", "count", "chain_head", "present",
                        "credentials_fingerprint", "desk_cards", "desk_cards_digest", "audit_head"})
ACTION = "round_closed"  # the audit log's action whose `detail.close` carries the signed record


def desk_digest(keys: Iterable[bytes]) -> str:
    """A digest of a round's desk-unlock card keys (32 bytes each, sorted, so concatenation is exact)."""
    return hashlib.sha256(b"".join(sorted(keys))).hexdigest()


@dataclass(frozen=True)
class CloseRecord:
    meeting: str
    round_id: str
    kind: str
    count: int
    chain_head: str
    present: int | None
    credentials_fingerprint: str | None
    desk_cards: int
    desk_cards_digest: str
    audit_head: str


def close_document(*, meeting: str, round_id: str, kind: str, count: int, chain_head: str, present: int | None,
                   credentials_fingerprint: str | None, desk_cards: Iterable[bytes], audit_head: str) -> dict[str, Any]:
    keys = list(desk_cards)
    return {"v": 1, "type": "close", "meeting": check_meeting(meeting), "round": check_name(round_id, "round"),
            "kind": kind, "count": count, "chain_head": check_hash(chain_head, "chain head"), "present": present,
            "credentials_fingerprint": credentials_fingerprint, "desk_cards": len(keys),
            "desk_cards_digest": desk_digest(keys), "audit_head": check_hash(audit_head, "audit head")}


def sign_close(identity: Identity, doc: dict[str, Any]) -> dict[str, str]:
    return sign_document(identity, doc, labels.CLOSE)


def _count(value: object, what: str, *, optional: bool = False) -> Any:
    if optional and value is None:
        return None
    if type(value) is not int or value < 0:
        raise Malformed(f"{what} must be a whole number")
    return value


def verify_close(body: object, tally_public: bytes) -> CloseRecord:
    """The record if the tally's key signed it as a close record: `BadSignature` if not (altered,
    another key, another purpose), `Malformed` if it is signed but not a close record."""
    doc = verify_document(body, tally_public, labels.CLOSE)
    if set(doc) != CLOSE_KEYS or doc["v"] != 1 or doc["type"] != "close":
        raise Malformed("not a close record")
    fp = doc["credentials_fingerprint"]
    if (fp is not None and not isinstance(fp, str)) or not isinstance(doc["kind"], str):
        raise Malformed("not a close record")
    return CloseRecord(meeting=check_meeting(doc["meeting"]), round_id=check_name(doc["round"], "round"),
                       kind=doc["kind"], count=_count(doc["count"], "count"),
                       chain_head=check_hash(doc["chain_head"], "chain head"),
                       present=_count(doc["present"], "present", optional=True), credentials_fingerprint=fp,
                       desk_cards=_count(doc["desk_cards"], "desk cards"),
                       desk_cards_digest=check_hash(doc["desk_cards_digest"], "desk cards digest"),
                       audit_head=check_hash(doc["audit_head"], "audit head"))


@dataclass(frozen=True)
class Found:
    """What the audit log holds about one round's close: every signed record of this round that
    verifies (with the audit position of its entry and that entry's `prev`), and how many close
    entries of the round carry no valid record."""

    records: tuple[tuple[int, str | None, CloseRecord], ...]
    unsigned: int


def find_close(entries: Iterable[Any], meeting: str, round_id: str, tally_public: bytes) -> Found:
    """Look through audit log entries (`{"action", "detail", "prev", ...}`, in chain order) for the
    close of `round_id` in `meeting`, signed by `tally_public`."""
    records: list[tuple[int, str | None, CloseRecord]] = []
    unsigned = 0
    for position, entry in enumerate(entries, start=1):
        if not isinstance(entry, dict) or entry.get("action") != ACTION:
            continue
        detail = entry.get("detail")
        if not isinstance(detail, dict) or detail.get("round") != round_id:
            continue
        try:
            record = verify_close(detail.get("close"), tally_public)
        except (BadSignature, Malformed):
            unsigned += 1
            continue
        if record.meeting != meeting or record.round_id != round_id:
            unsigned += 1
            continue
        prev = entry.get("prev")
        records.append((position, prev if isinstance(prev, str) else None, record))
    return Found(tuple(records), unsigned)
