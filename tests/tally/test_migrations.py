"""The migrations build exactly the models: `alembic upgrade head` on an empty database, then compare.

The initial migration is edited in place until the first release, so this is what keeps it and
`tally/store/models.py` from drifting apart (a column, a key, a constraint or WITHOUT ROWID).
"""
from __future__ import annotations

from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import MetaData, create_engine, text

from tally.store import db
from tally.store.models import UNORDERED, Base
from tests.services import fresh_postgres_database


def _shape(metadata: MetaData) -> dict[str, set[str]]:
    return {name: {c.name for c in table.columns} for name, table in metadata.tables.items()}


def _assert_matches_models(url: str) -> None:
    db.upgrade(url)
    engine = db.make_engine(url)
    try:
        reflected = MetaData()
        reflected.reflect(engine)
        tables = dict(_shape(reflected))
        tables.pop("alembic_version")
        assert tables == _shape(Base.metadata)
        with engine.connect() as conn:
            # Types, nullability, keys, indexes, unique and foreign key constraints too.
            assert compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), Base.metadata) == []
    finally:
        engine.dispose()


def test_sqlite_upgrade_from_empty_is_the_models(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'fresh.db'}"
    _assert_matches_models(url)
    # compare_metadata does not look at WITHOUT ROWID: the tables that keep no insertion order.
    unordered = {t.name for t in Base.metadata.tables.values()
                 if t.dialect_kwargs.get("sqlite_with_rowid") is UNORDERED["sqlite_with_rowid"]}
    assert {"cards", "card_uses", "ballots", "attendees", "unlock_grants"} <= unordered
    engine = create_engine(url)
    with engine.connect() as conn:
        for table in unordered:
            sql = conn.execute(text("SELECT sql FROM sqlite_master WHERE name = :t"), {"t": table}).scalar_one()
            assert "WITHOUT ROWID" in sql.upper(), table
    engine.dispose()


@pytest.mark.postgres
def test_postgres_upgrade_from_empty_is_the_models() -> None:
    for url in fresh_postgres_database():
        _assert_matches_models(url)
