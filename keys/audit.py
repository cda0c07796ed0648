"""The audit log chain (全程纪实哈希链): each entry of the chair's, desk's and tally's log hashes the one before.

`genesis(meeting) = sha256(b"scrutineer/audit/v1\\0" + meeting)`, then
`entry_n = sha256(b"scrutineer/audit/v1\\0" + entry_{n-1} + canonical(record_n))` over the raw
digest of the previous entry, where `record = {"at", "actor", "action", "detail"}` (`at` an ISO
time string, `detail` a JSON object). Editing, deleting, inserting or reordering an entry changes
every later entry; the head is signed with each count, so a rewritten tail is caught against
that signature. `replay` walks exported lines and says what is wrong. Pure: no storage, no clock.
"""
from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from keys import labels
from keys.canonical import canonical
from keys.errors import Malformed
from keys.ids import check_hash, check_meeting

RECORD_KEYS = frozenset({"at", "actor", "action", "detail"})
LINE_KEYS = RECORD_KEYS | {"prev", "entry"}


def genesis(meeting: str) -> str:
    """The audit head of a meeting with no entry yet (hex)."""
    return hashlib.sha256(labels.domain(labels.AUDIT, check_meeting(meeting).encode("ascii"))).hexdigest()


def record_bytes(record: dict[str, Any]) -> bytes:
    """The canonical bytes of one entry's record; `Malformed` unless it has exactly the four fields."""
    if not isinstance(record, dict) or set(record) != RECORD_KEYS:
        raise Malformed("an audit record has exactly at, actor, action, detail")
    at, actor, action, detail = record["at"], record["actor"], record["action"], record["detail"]
    if not all(isinstance(v, str) for v in (at, actor, action)) or not isinstance(detail, dict):
        raise Malformed("at, actor and action are text; detail is an object")
    try:
        return canonical(record)
    except (TypeError, ValueError) as exc:
        raise Malformed("an audit record must be canonical JSON (no floats)") from exc


def next_entry(prev_hex: str, record: dict[str, Any]) -> str:
    """The chain entry that appends `record` after `prev_hex`."""
    prev = bytes.fromhex(check_hash(prev_hex, "previous audit entry"))
    return hashlib.sha256(labels.domain(labels.AUDIT, prev + record_bytes(record))).hexdigest()


@dataclass(frozen=True)
class Replay:
    """What walking an exported audit log found: the head it reached, every entry on the way
    (so a signed head can be looked up) and the problems, each `(line number, what)`."""

    head: str
    entries: frozenset[str]
    count: int
    problems: tuple[tuple[int, str], ...]


def replay(meeting: str, lines: Iterable[Any]) -> Replay:
    """Walk the log from its genesis: each line `{"at","actor","action","detail","prev","entry"}`
    must name the entry before it (`gap`: a line was deleted, inserted or moved) and carry its own
    entry recomputed (`edited`). The walk goes on from what each line claims, so one bad line is
    one problem; a rewritten tail is caught against a head signed before it (`entries`)."""
    head = genesis(meeting)
    seen: set[str] = set()
    problems: list[tuple[int, str]] = []
    count = 0
    for number, line in enumerate(lines, start=1):
        count += 1
        if not isinstance(line, dict) or set(line) != LINE_KEYS:
            problems.append((number, "shape"))
            continue
        if line["prev"] != head:
            problems.append((number, "gap"))
        try:
            expected = next_entry(line["prev"], {k: line[k] for k in RECORD_KEYS})
            head = check_hash(line["entry"], "audit entry")
        except Malformed:
            problems.append((number, "record"))
            continue
        if head != expected:
            problems.append((number, "edited"))
        seen.add(head)
    return Replay(head=head, entries=frozenset(seen), count=count, problems=tuple(problems))
