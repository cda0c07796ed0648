"""The database: one engine per app, sessions per request, migrations with Alembic.

SQLite (the embedded default, one file per meeting directory) runs in WAL mode with
synchronous=FULL, so a committed ballot survives a power cut, and with secure_delete, so a
deleted row's bytes do not stay in the file; PostgreSQL comes in by URL.
This module owns the engine's lifetime and the schema upgrade; nothing here runs at import, and
nothing here knows a request (`tally.web.sessions` gives a request its sessions).
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False}, pool_size=8)

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record):  # type: ignore[no-untyped-def]
            # Our own BEGIN (see below) so that a write transaction takes the lock at its start.
            dbapi_conn.isolation_level = None
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=FULL")
            # What a deleted or moved row leaves behind is zeroed; the log is truncated at the
            # moments that matter by tally.store.order (not at every restart: that halved the
            # commit rate here, and the log between those moments holds nothing that links).
            cur.execute("PRAGMA secure_delete=ON")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.close()

        @event.listens_for(engine, "begin")
        def _sqlite_begin(conn):  # type: ignore[no-untyped-def]
            # Writers take the lock at BEGIN (no deadlock between two readers that both upgrade);
            # readers begin deferred, so a page view never blocks intake.
            conn.exec_driver_sql("BEGIN IMMEDIATE" if conn.get_execution_options().get("writer") else "BEGIN")

        return engine
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://"):]
    return create_engine(url, pool_size=10, max_overflow=20, pool_pre_ping=True)


def upgrade(url: str) -> None:
    """Bring the schema to the newest migration."""

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    command.upgrade(cfg, "head")


@dataclass(frozen=True)
class Store:
    """One engine and two session factories over its pool: writers (BEGIN IMMEDIATE on SQLite)
    and readers (deferred, so a page view never blocks intake)."""

    engine: Engine
    writer: sessionmaker[Session]
    reader: sessionmaker[Session]

    @classmethod
    def open(cls, url: str) -> Store:
        engine = make_engine(url)
        return cls(engine, sessionmaker(engine.execution_options(writer=True), expire_on_commit=False),
                   sessionmaker(engine, expire_on_commit=False))

    def dispose(self) -> None:
        self.engine.dispose()
