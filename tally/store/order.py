"""Forgetting the order of writes (写入顺序): what a copy of the database must not tell.

A ballot names its card and its kiosk; a sign-in names a person. Nothing in a row links the two,
but the order of writes could: SQLite's write-ahead log keeps every commit since the last
checkpoint, in order, and PostgreSQL stamps each row version with the transaction that wrote it
(`xmin`) and keeps it where it was written (`ctid`, which is also the order of a dump). So at the
moments that matter the tally forgets that order:

- SQLite: the log is checkpointed into the database and truncated to nothing
  (`wal_checkpoint(TRUNCATE)`); `secure_delete` (set on every connection) zeroes what a row
  leaves behind, and the tables of people and credentials are WITHOUT ROWID (key order only).
- PostgreSQL: the tables whose rows a person's or a card's moment could date (`attendees`,
  `cards`, `card_uses`) are rewritten in one transaction, in key order: every live row then has
  the same `xmin` and sits in key order. (Dead row versions stay in the data files until
  PostgreSQL reuses the space: a reader of raw pages is beyond what this removes.)

`forget` runs after a round opens, closes and is counted, and after a sign-in while a ballot
round is open (`PEOPLE`: only the people's table then, which is what a sign-in dates).
"""
from __future__ import annotations

import logging
import sqlite3

from sqlalchemy import delete, func, insert, select, text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from tally.rules.kinds import KINDS
from tally.store.db import Store
from tally.store.models import Base, Round

log = logging.getLogger("tally.store.order")

# card_uses first: intake inserts there and then checks its card (a foreign key), so taking the
# locks in this order never waits in a circle with an intake transaction.
EVERYTHING = ("card_uses", "cards", "attendees")
PEOPLE = ("attendees",)
CHECKPOINT_WAIT_MS = 3000


def _rewrite(s: Session, tables: tuple[str, ...]) -> None:
    """Read the tables, empty them and write them back in key order, in this one transaction."""
    s.execute(text(f"LOCK TABLE {', '.join(tables)} IN EXCLUSIVE MODE"))
    saved = {}
    for name in tables:
        table = Base.metadata.tables[name]
        keys = list(table.primary_key.columns)
        saved[name] = [dict(r._mapping) for r in s.execute(select(table).order_by(*keys))]
    for name in tables:  # the referring table is emptied before the one it refers to
        s.execute(delete(Base.metadata.tables[name]))
    for name in reversed(tables):  # and filled after it
        if saved[name]:
            s.execute(insert(Base.metadata.tables[name]), saved[name])


def forget(store: Store, tables: tuple[str, ...] = EVERYTHING) -> bool:
    """Forget the order of what was written so far (see the module's docstring). Call after the
    commit: the action it follows has happened either way, so a failure here is logged and
    returns False (the next call forgets everything up to then), never raised."""
    try:
        return _forget(store, tables)
    except (SQLAlchemyError, sqlite3.Error) as exc:
        log.warning("the order of writes could not be forgotten now (%s); the next call will", type(exc).__name__)
        return False


def _forget(store: Store, tables: tuple[str, ...]) -> bool:
    if store.engine.dialect.name == "sqlite":
        raw = store.engine.raw_connection()
        try:
            cursor = raw.cursor()
            # Wait a little for readers to leave the log, not the 30 s a writer would wait.
            cursor.execute(f"PRAGMA busy_timeout={CHECKPOINT_WAIT_MS}")
            try:
                busy, _log, _done = cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
            finally:
                cursor.execute("PRAGMA busy_timeout=30000")  # the pooled connection's usual wait
                cursor.close()
        finally:
            raw.close()
        if busy:
            log.warning("the write-ahead log could not be truncated now; it will be at the next checkpoint")
        return not busy
    with store.writer() as s, s.begin():
        _rewrite(s, tables)
    return True


def ballot_round_open(s: Session) -> bool:
    """Whether a round that takes ballot cards is open (then a sign-in is dated by what follows)."""
    card_kinds = [k.value for k in KINDS if k.takes_cards]
    return bool(s.scalar(select(func.count()).select_from(Round)
                         .where(Round.status == "open", Round.kind.in_(card_kinds))))
