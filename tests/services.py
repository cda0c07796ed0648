"""The real PostgreSQL and Redis on 127.0.0.1 that the service tests use, or a clear skip.

A machine without them skips those tests with a reason that says so in the summary
(`-ra`); the embedded SQLite tests need nothing.
"""
from __future__ import annotations

import os
import secrets
import socket
from collections.abc import Iterator

import pytest

PG_ADMIN_URL = os.environ.get("SCRUTINEER_TEST_PG", "postgresql://postgres@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("SCRUTINEER_TEST_REDIS", "redis://127.0.0.1:6379/0")


def _port_open(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


def fresh_postgres_database() -> Iterator[str]:
    """A new, empty PostgreSQL database for one test; dropped afterwards."""
    if not _port_open(5432):
        pytest.skip("NOT RUN: PostgreSQL is not listening on 127.0.0.1:5432")
    import psycopg

    name = "scrutineer_t_" + secrets.token_hex(6)
    try:
        with psycopg.connect(PG_ADMIN_URL, autocommit=True) as con:
            con.execute(f'CREATE DATABASE "{name}"')
    except psycopg.Error as exc:
        pytest.skip(f"NOT RUN: cannot create a PostgreSQL database ({exc.__class__.__name__})")
    base = PG_ADMIN_URL.rsplit("/", 1)[0]
    try:
        yield f"{base}/{name}"
    finally:
        with psycopg.connect(PG_ADMIN_URL, autocommit=True) as con:
            con.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def redis_url() -> str:
    if not _port_open(6379):
        pytest.skip("NOT RUN: Redis is not listening on 127.0.0.1:6379")
    return REDIS_URL
