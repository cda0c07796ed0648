"""A request's database sessions: one read session per app context, and one transaction per write.

Reads share the request's session (closed when the app context ends, rolled back after an
error); every write is `with transaction() as s:`, committed on success and rolled back on any
error, so a refused request changes nothing.
"""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from flask import Flask, g
from sqlalchemy.orm import Session

from tally.services import services


def init_app(app: Flask) -> None:
    """Close each request's read session when its app context ends."""
    app.teardown_appcontext(close_session)


def session() -> Session:
    """The request's read session (one per app context); writes go through `transaction()`."""
    if "db_session" not in g:
        g.db_session = services().store.reader()
    s: Session = g.db_session
    return s


def close_session(exc: BaseException | None = None) -> None:
    s = g.pop("db_session", None)
    if s is not None:
        if exc is not None:
            s.rollback()
        s.close()


@contextmanager
def transaction() -> Iterator[Session]:
    """A fresh session in one transaction: commit on success, roll back on any error."""
    s = services().store.writer()
    try:
        with s.begin():
            yield s
    finally:
        s.close()
