"""The audit log chain: known answers computed with hashlib alone, and what a replay catches."""
from __future__ import annotations

import hashlib
import json

import pytest

from keys.audit import genesis, next_entry, record_bytes, replay
from keys.errors import Malformed

MEETING = "0123456789abcdef"
RECORDS = [
    {"at": "2026-12-01T08:00:00.000000Z", "actor": "chair", "action": "round_opened", "detail": {"present": 6, "round": "r1"}},
    {"at": "2026-12-01T08:30:00.250000Z", "actor": "desk", "action": "kiosk_unlocked", "detail": {}},
    {"at": "2026-12-01T09:00:00.000001Z", "actor": "chair", "action": "round_closed", "detail": {"round": "r1", "名": "张三"}},
]


def honest() -> list[dict[str, object]]:
    lines, head = [], genesis(MEETING)
    for r in RECORDS:
        entry = next_entry(head, r)
        lines.append({**r, "prev": head, "entry": entry})
        head = entry
    return lines


def test_known_answers_from_hashlib() -> None:
    g = hashlib.sha256(b"scrutineer/audit/v1\0" + MEETING.encode()).hexdigest()
    assert genesis(MEETING) == g
    canonical = (b'{"action":"round_opened","actor":"chair","at":"2026-12-01T08:00:00.000000Z",'
                 b'"detail":{"present":6,"round":"r1"}}')
    assert record_bytes(RECORDS[0]) == canonical
    assert next_entry(g, RECORDS[0]) == hashlib.sha256(b"scrutineer/audit/v1\0" + bytes.fromhex(g) + canonical).hexdigest()
    # Non-ASCII text is hashed as raw UTF-8, never escaped.
    assert "张三".encode() in record_bytes(RECORDS[2])


def test_an_honest_log_replays_clean() -> None:
    lines = honest()
    walked = replay(MEETING, lines)
    assert walked.problems == () and walked.count == 3 and walked.head == lines[-1]["entry"]
    assert walked.entries == {line["entry"] for line in lines}


def test_an_edited_line_is_caught() -> None:
    lines = honest()
    lines[1]["actor"] = "chair"  # who unlocked the kiosk, rewritten
    assert replay(MEETING, lines).problems == ((2, "edited"),)


def test_a_deleted_line_is_caught() -> None:
    lines = honest()
    del lines[1]
    assert replay(MEETING, lines).problems == ((2, "gap"),)


def test_an_inserted_line_is_caught_even_with_its_own_hash_right() -> None:
    lines = honest()
    forged = {"at": "2026-12-01T08:45:00.000000Z", "actor": "chair", "action": "round_reopened", "detail": {}}
    lines.insert(2, {**forged, "prev": lines[1]["entry"], "entry": next_entry(str(lines[1]["entry"]), forged)})
    assert replay(MEETING, lines).problems == ((4, "gap"),)


def test_a_rewritten_tail_is_clean_locally_but_misses_a_signed_head() -> None:
    """Edit a line and recompute everything after it: the walk is clean, and only a head signed
    before the edit (with a count) shows it."""
    lines = honest()
    signed_head = lines[2]["entry"]
    records = [dict(RECORDS[0]), {**RECORDS[1], "actor": "chair"}, dict(RECORDS[2])]
    head, rewritten = genesis(MEETING), []
    for r in records:
        entry = next_entry(head, r)
        rewritten.append({**r, "prev": head, "entry": entry})
        head = entry
    walked = replay(MEETING, rewritten)
    assert walked.problems == () and signed_head not in walked.entries


def test_records_are_checked() -> None:
    with pytest.raises(Malformed):
        record_bytes({"at": "x", "actor": "chair", "action": "a"})
    with pytest.raises(Malformed):
        record_bytes({"at": "x", "actor": "chair", "action": "a", "detail": {"n": 1.5}})  # no floats
    bad = honest()
    bad[0]["prev"] = "not a hash"
    assert (1, "gap") in replay(MEETING, bad).problems
    assert replay(MEETING, [json.loads("[1]")]).problems == ((1, "shape"),)
