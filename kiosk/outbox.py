"""The kiosk's durable outbox (发件箱): sealed envelopes waiting for, or holding, the tally's answer.

A voter is told a ballot was cast only after every envelope of that ballot is committed here
(SQLite, WAL, synchronous=FULL), in one transaction. The sender drains it oldest first.

States: `pending` (not yet acknowledged), `sent` (holds the tally's verified receipt),
`rejected` (holds the tally's definite error code). A row never goes back to `pending` and is
never deleted, so nothing acknowledged to a voter can silently disappear.

What it stores: the envelope body exactly as it travels (already sealed and signed: the kiosk
cannot read it back), the round id, the card's *public* key, the envelope hash, and for a
judge's score the contestant's name (`subject`: public, the contestant the chair had open; never
the score). It never stores a card secret, a plaintext ballot, a score or a clock time. It
never touches the network.

A ballot card has at most one live envelope per round here. A judge card scores many
contestants in one round, and again after the chair returns a score, so score envelopes are
keyed by contestant instead: at most one *pending* per card, round and contestant.
"""
from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

State = Literal["pending", "sent", "rejected"]
STATES: tuple[State, ...] = ("pending", "sent", "rejected")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS envelopes (
    id INTEGER PRIMARY KEY,
    envelope_hash TEXT NOT NULL UNIQUE,
    round TEXT NOT NULL,
    card TEXT NOT NULL,
    body TEXT NOT NULL,
    subject TEXT,
    state TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'sent', 'rejected')),
    receipt TEXT,
    error TEXT,
    attempts INTEGER NOT NULL DEFAULT 0,
    CHECK ((state = 'sent') = (receipt IS NOT NULL)),
    CHECK ((state = 'rejected') = (error IS NOT NULL))
);
CREATE INDEX IF NOT EXISTS envelopes_pending ON envelopes (state, id);
"""
# Applied after `subject` exists (an outbox made before judge scoring gets the column first).
_INDEXES = """
DROP INDEX IF EXISTS envelopes_card_round;
-- One live envelope per ballot card and round on this kiosk: a second cast with the same card
-- fails here, before the voter is told anything. A rejected one does not block a new try.
CREATE UNIQUE INDEX IF NOT EXISTS envelopes_ballot_card
    ON envelopes (round, card) WHERE state != 'rejected' AND subject IS NULL;
-- One score waiting per judge card, round and contestant: a double tap cannot queue two.
CREATE UNIQUE INDEX IF NOT EXISTS envelopes_score_waiting
    ON envelopes (round, card, subject) WHERE state = 'pending' AND subject IS NOT NULL;
CREATE INDEX IF NOT EXISTS envelopes_scores
    ON envelopes (card, round, subject, id) WHERE subject IS NOT NULL;
"""


class CardAlreadyUsed(Exception):
    """This kiosk already holds a live envelope for this card in one of the rounds (for a judge
    card: a score for this contestant is still waiting to be sent)."""


@dataclass(frozen=True)
class Outgoing:
    """One envelope to store: what `keys.envelope.seal_envelope` produced, plus its labels."""

    envelope_hash: str
    round_id: str
    card: str  # b64 of the card's public key
    body: dict[str, Any]
    subject: str | None = None  # a judge's score: the contestant scored; None for a ballot


@dataclass(frozen=True)
class Item:
    """One stored envelope."""

    id: int
    envelope_hash: str
    round_id: str
    body: dict[str, Any]
    state: State
    receipt: dict[str, Any] | None
    error: str | None
    attempts: int


class Outbox:
    """An SQLite outbox file. Safe to share between threads: each thread gets its own connection."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._local = threading.local()
        self._all: list[sqlite3.Connection] = []
        self._all_lock = threading.Lock()
        conn = self._conn()
        conn.executescript(_SCHEMA)
        if "subject" not in {row[1] for row in conn.execute("PRAGMA table_info(envelopes)")}:
            conn.execute("ALTER TABLE envelopes ADD COLUMN subject TEXT")
        conn.executescript(_INDEXES)

    def _conn(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False, timeout=10.0)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=FULL")
            conn.execute("PRAGMA busy_timeout=10000")
            self._local.conn = conn
            with self._all_lock:
                self._all.append(conn)
        return conn

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        conn = self._conn()
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield conn
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")

    def close(self) -> None:
        with self._all_lock:
            for conn in self._all:
                conn.close()
            self._all.clear()
        self._local = threading.local()

    def add_all(self, envelopes: Iterable[Outgoing]) -> list[int]:
        """Store every envelope of one ballot in one durable transaction; all or nothing."""
        rows = list(envelopes)
        ids: list[int] = []
        try:
            with self._write() as db:
                for env in rows:
                    cur = db.execute(
                        "INSERT INTO envelopes (envelope_hash, round, card, body, subject) VALUES (?, ?, ?, ?, ?)",
                        (env.envelope_hash, env.round_id, env.card, json.dumps(env.body, sort_keys=True),
                         env.subject),
                    )
                    ids.append(int(cur.lastrowid or 0))
        except sqlite3.IntegrityError as exc:
            raise CardAlreadyUsed("this card already cast a ballot at this kiosk") from exc
        return ids

    def used_rounds(self, card: str) -> set[str]:
        """Rounds in which this card already has a live envelope here (works while the tally is away)."""
        cur = self._conn().execute(
            "SELECT round FROM envelopes WHERE card = ? AND state != 'rejected' AND subject IS NULL", (card,)
        )
        return {r[0] for r in cur}

    def latest_score(self, card: str, round_id: str, subject: str) -> Item | None:
        """The newest score envelope of this judge card for this contestant, or None."""
        cur = self._conn().execute(
            "SELECT id, envelope_hash, round, body, state, receipt, error, attempts FROM envelopes"
            " WHERE card = ? AND round = ? AND subject = ? ORDER BY id DESC LIMIT 1",
            (card, round_id, subject),
        )
        row = cur.fetchone()
        return None if row is None else _item(row)

    def pending(self, limit: int = 50) -> list[Item]:
        """Pending envelopes, oldest first."""
        cur = self._conn().execute(
            "SELECT id, envelope_hash, round, body, state, receipt, error, attempts FROM envelopes"
            " WHERE state = 'pending' ORDER BY id LIMIT ?",
            (limit,),
        )
        return [_item(r) for r in cur]

    def get(self, item_id: int) -> Item:
        cur = self._conn().execute(
            "SELECT id, envelope_hash, round, body, state, receipt, error, attempts FROM envelopes WHERE id = ?",
            (item_id,),
        )
        row = cur.fetchone()
        if row is None:
            raise KeyError(item_id)
        return _item(row)

    def note_attempt(self, item_id: int) -> None:
        with self._write() as db:
            db.execute("UPDATE envelopes SET attempts = attempts + 1 WHERE id = ?", (item_id,))

    def mark_sent(self, item_id: int, receipt: dict[str, Any]) -> None:
        """Record the verified receipt. Only a pending envelope moves; a second call changes nothing."""
        with self._write() as db:
            db.execute(
                "UPDATE envelopes SET state = 'sent', receipt = ?, attempts = attempts + 1"
                " WHERE id = ? AND state = 'pending'",
                (json.dumps(receipt, sort_keys=True), item_id),
            )

    def mark_rejected(self, item_id: int, code: str) -> None:
        """Record the tally's definite refusal (card_used, round_not_open, ...)."""
        if not code:
            raise ValueError("a rejection needs an error code")
        with self._write() as db:
            db.execute(
                "UPDATE envelopes SET state = 'rejected', error = ?, attempts = attempts + 1"
                " WHERE id = ? AND state = 'pending'",
                (code, item_id),
            )

    def counts(self) -> dict[str, int]:
        """Envelopes per state, every state present."""
        out: dict[str, int] = dict.fromkeys(STATES, 0)
        for state, n in self._conn().execute("SELECT state, COUNT(*) FROM envelopes GROUP BY state"):
            out[state] = int(n)
        return out

    def sent_by_round(self) -> dict[str, list[str]]:
        """The envelope hashes the tally acknowledged with a verified receipt, by round (what the
        published box of each round must list)."""
        out: dict[str, list[str]] = {}
        for round_id, envelope_hash in self._conn().execute(
                "SELECT round, envelope_hash FROM envelopes WHERE state = 'sent' ORDER BY id"):
            out.setdefault(str(round_id), []).append(str(envelope_hash))
        return out

    def rejections(self) -> dict[str, int]:
        """Rejected envelopes per error code (for the staff status page: never ballot contents)."""
        cur = self._conn().execute(
            "SELECT error, COUNT(*) FROM envelopes WHERE state = 'rejected' GROUP BY error ORDER BY error"
        )
        return {str(code): int(n) for code, n in cur}


def _item(row: tuple[Any, ...]) -> Item:
    return Item(
        id=int(row[0]),
        envelope_hash=str(row[1]),
        round_id=str(row[2]),
        body=json.loads(row[3]),
        state=row[4],
        receipt=json.loads(row[5]) if row[5] is not None else None,
        error=row[6],
        attempts=int(row[7]),
    )
