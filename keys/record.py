"""The public meeting record (会议公开记录): what anyone may hold about a meeting's keys.

`tally init` writes it to `DATA/public/meeting.json`; the scrutineers take it to their own
machine to make the ballot cards (`keys cards make`) and to check their shares; an auditor
compares its fingerprint with the one printed on the scrutineers' sheets and the console.

    {"v": 1, "type": "meeting-record", "meeting": M, "title": T, "tally_public_key": b64,
     "scrutineers": n, "quorum": k,
     "rounds": [{"id", "kind", "title", "cards": bool, "public_key": b64,
                 "commitments": [hex, ...] | null}, ...],
     "spares": [{"id", "public_key", "commitments": [hex, ...]}, ...]}

`cards` says whether the round takes ballot cards (recommend, evaluate, decide); `commitments`
are the share commitments of a secret round (null for a score or composite round, whose key
the tally holds). Spare round keys (`spare-1`, …) are made and split at set-up for rounds added
during the meeting; a round added live takes its spare's id, so every card already holds its
key for it. The fingerprint is over the canonical bytes, whatever the file's layout.
Touches no files.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from keys import labels
from keys.canonical import b64d, canonical
from keys.errors import Malformed
from keys.fingerprint import document_fingerprint
from keys.ids import check_hash, check_meeting, check_name

SPARE_PREFIX = "spare-"


def spare_id(n: int) -> str:
    return f"{SPARE_PREFIX}{n}"


@dataclass(frozen=True)
class RoundRecord:
    id: str
    kind: str
    title: str
    cards: bool
    public_key: bytes
    commitments: tuple[str, ...] | None


@dataclass(frozen=True)
class MeetingRecord:
    meeting: str
    title: str
    tally_public_key: bytes
    scrutineers: int
    quorum: int
    rounds: tuple[RoundRecord, ...]
    spares: tuple[RoundRecord, ...]
    fingerprint: str

    @property
    def card_rounds(self) -> list[str]:
        """The rounds a ballot card holds a key for: the card-taking rounds, then the spares."""
        return [r.id for r in self.rounds if r.cards] + [r.id for r in self.spares]

    def key_round(self, round_id: str) -> RoundRecord:
        for r in (*self.rounds, *self.spares):
            if r.id == round_id:
                return r
        raise KeyError(round_id)


def record_fingerprint(doc: dict[str, Any]) -> str:
    return document_fingerprint(labels.MEETING_RECORD, canonical(doc))


def _key(value: object) -> bytes:
    key = b64d(value) if isinstance(value, str) else b""
    if len(key) != 32:
        raise Malformed("a public key is 32 bytes")
    return key


def _commitments(value: object, n: int) -> tuple[str, ...]:
    if not isinstance(value, list) or len(value) != n:
        raise Malformed("one commitment per scrutineer")
    return tuple(check_hash(c, "commitment") for c in value)


def parse_record(doc: Any) -> MeetingRecord:
    """Check a meeting record's shape; `Malformed` says what is wrong."""
    if not isinstance(doc, dict) or doc.get("v") != 1 or doc.get("type") != "meeting-record":
        raise Malformed("not a meeting record")
    try:
        n, k = doc["scrutineers"], doc["quorum"]
        if type(n) is not int or type(k) is not int or not 2 <= k <= n <= 15:
            raise Malformed("scrutineers and quorum")
        title = doc["title"]
        if not isinstance(title, str):
            raise Malformed("title")
        rounds, seen = [], set()
        for r in doc["rounds"]:
            rid = check_name(r["id"], "round")
            if rid in seen or not isinstance(r["kind"], str) or not isinstance(r["title"], str) \
                    or not isinstance(r["cards"], bool):
                raise Malformed("round entry")
            seen.add(rid)
            commitments = None if r["commitments"] is None else _commitments(r["commitments"], n)
            rounds.append(RoundRecord(rid, r["kind"], r["title"], r["cards"], _key(r["public_key"]), commitments))
        spares = []
        for r in doc["spares"]:
            rid = check_name(r["id"], "round")
            if rid in seen or not rid.startswith(SPARE_PREFIX):
                raise Malformed("spare entry")
            seen.add(rid)
            spares.append(RoundRecord(rid, "spare", "", True, _key(r["public_key"]), _commitments(r["commitments"], n)))
        return MeetingRecord(check_meeting(doc["meeting"]), title, _key(doc["tally_public_key"]), n, k,
                             tuple(rounds), tuple(spares), record_fingerprint(doc))
    except (KeyError, TypeError) as exc:
        raise Malformed("not a meeting record") from exc
