"""The audit log is a chain: each entry hashes the one before, the head is signed with each count.

Over the real app and SQLite: an honest log walks clean on the console and in `keys verify-box`;
an edited or deleted row is caught on the console's audit page and in the export; a rewritten
tail is caught against the head a count signed; existing logs are chained by the migration.
"""
from __future__ import annotations

import itertools
import json
from pathlib import Path

from click.testing import CliRunner
from sqlalchemy import create_engine, text

from keys.audit import genesis
from keys.cli import main as keys_cli
from keys.document import verify_document
from tally.cli.meeting import write_export
from tally.services import services
from tally.store import audit, db

from .conftest import count_body, issue_cards, load_forms, pair_kiosk, setup_meeting


def a_counted_round(client, admin):  # type: ignore[no-untyped-def]
    setup_meeting(client, admin)
    kiosk = pair_kiosk(client, admin)
    load_forms(client, kiosk)
    for card in issue_cards(client, admin, kiosk.meeting, 2):
        assert client.post("/api/v1/envelopes", json=kiosk.envelope(card, {"round": "r1", "sections": {}})).status_code == 201
    assert client.post("/api/v1/admin/rounds/r1/close", json={}, headers=admin).status_code == 200
    r = client.post("/api/v1/admin/rounds/r1/count", json=count_body(client, "r1"), headers=admin)
    assert r.status_code == 200, r.get_json()


def verify_box(client, admin, out: Path) -> tuple[int, str]:  # type: ignore[no-untyped-def]
    write_export(client.get("/api/v1/admin/rounds/r1/export", headers=admin).get_json(), out)
    result = CliRunner(env={"LANGUAGE": "en", "LC_ALL": None, "LANG": None}).invoke(keys_cli, ["verify-box", str(out)])
    return result.exit_code, result.output


def sql(app, statement: str, **params: object) -> None:  # type: ignore[no-untyped-def]
    """What someone holding the database file does to it, behind the tally's back."""
    engine = create_engine(services(app).store.engine.url)
    with engine.begin() as conn:
        conn.execute(text(statement), params)
    engine.dispose()


def test_an_honest_log_is_an_intact_chain_signed_with_the_count(client, app, admin_headers, tmp_path):
    a_counted_round(client, admin_headers)
    log = client.get("/api/v1/admin/audit", headers=admin_headers).get_json()
    assert log["intact"] is True
    entries = log["entries"]
    assert entries[0]["prev"] == genesis(services(app).meeting.id) and log["head"] == entries[-1]["entry"]
    assert all(b["prev"] == a["entry"] for a, b in itertools.pairwise(entries))
    # The count signed the head as it stood just before its own entry.
    export = client.get("/api/v1/admin/rounds/r1/export", headers=admin_headers).get_json()
    signed = verify_document(json.loads(export["files"]["result.signed.json"]), services(app).identity.public_bytes())
    counted = next(i for i, e in enumerate(entries) if e["action"] == "round_counted")
    assert signed["audit_head"] == entries[counted]["prev"]
    page = client.get("/console/audit?lang=en", headers=admin_headers).get_data(as_text=True)
    assert 'data-intact="yes"' in page and log["head"] in page
    code, out = verify_box(client, admin_headers, tmp_path / "export")
    assert code == 0, out
    assert f"Audit log: {len(entries)} entries, head {log['head']}: OK" in out


def test_an_edited_row_is_caught(client, app, admin_headers, tmp_path):
    a_counted_round(client, admin_headers)
    # Someone with the database makes the close look like the desk's doing.
    sql(app, "UPDATE audit_log SET actor = 'desk' WHERE action = 'round_closed'")
    log = client.get("/api/v1/admin/audit", headers=admin_headers).get_json()
    assert log["intact"] is False
    page = client.get("/console/audit?lang=en", headers=admin_headers).get_data(as_text=True)
    assert 'data-intact="no"' in page and "the row was edited" in page
    code, out = verify_box(client, admin_headers, tmp_path / "export")
    position = next(i for i, e in enumerate(log["entries"], start=1) if e["action"] == "round_closed")
    assert code == 1 and f"audit.jsonl line {position}: its entry does not match what it records" in out


def test_a_deleted_row_is_caught(client, app, admin_headers, tmp_path):
    a_counted_round(client, admin_headers)
    sql(app, "DELETE FROM audit_log WHERE action = 'round_closed'")
    assert client.get("/api/v1/admin/audit", headers=admin_headers).get_json()["intact"] is False
    page = client.get("/console/audit?lang=en", headers=admin_headers).get_data(as_text=True)
    assert 'data-intact="no"' in page and "a row was deleted, inserted or moved" in page
    code, out = verify_box(client, admin_headers, tmp_path / "export")
    assert code == 1 and "the entry before it is not the one it names" in out


def test_a_rewritten_chain_is_caught_against_the_signed_head(client, app, admin_headers, tmp_path):
    """Edit a row before the count and recompute every hash after it (and the head): the database
    now walks clean, but the head the count signed is not in the chain."""
    a_counted_round(client, admin_headers)
    with services(app).store.writer() as s:
        rows = list(audit.in_chain_order(s, services(app).meeting.id))
    head = genesis(services(app).meeting.id)
    from keys.audit import next_entry

    for e in rows:
        record = audit.record_of(e)
        if e.action == "round_opened":
            record["detail"]["present"] = 5
        entry = next_entry(head, record)
        # Two passes, since each hash is unique: first out of the way, then into place.
        sql(app, "UPDATE audit_log SET detail = :d, prev_hash = :p, entry_hash = :e WHERE id = :i",
            d=json.dumps(record["detail"], ensure_ascii=False, sort_keys=True), p="x" + str(e.id), e="y" + str(e.id),
            i=e.id)
        e.prev_hash, e.entry_hash, head = head, entry, entry
    for e in rows:
        sql(app, "UPDATE audit_log SET prev_hash = :p, entry_hash = :e WHERE id = :i", p=e.prev_hash, e=e.entry_hash, i=e.id)
    sql(app, "UPDATE meeting SET audit_head = :h", h=head)
    assert client.get("/api/v1/admin/audit", headers=admin_headers).get_json()["intact"] is True
    code, out = verify_box(client, admin_headers, tmp_path / "export")
    assert code == 1 and "the audit log head it signs is not in audit.jsonl" in out


def test_the_migration_chains_an_existing_log(tmp_path):
    from alembic import command
    from alembic.config import Config

    url = f"sqlite:///{tmp_path / 'old.db'}"
    cfg = Config()
    cfg.set_main_option("script_location", str(db.MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", url)
    command.upgrade(cfg, "0003")
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO meeting (id, title, plan_json, tally_public_key) "
                          "VALUES ('0123456789abcdef', 't', '{}', :k)"), {"k": b"\0" * 32})
        for i, action in enumerate(("paired", "round_opened", "round_closed")):
            conn.execute(text("INSERT INTO audit_log (at, actor, action, detail) VALUES (:at, 'chair', :a, :d)"),
                         {"at": f"2026-11-2{i} 08:00:00.000123", "a": action, "d": json.dumps({"n": i})})
    engine.dispose()
    db.upgrade(url)
    store = db.Store.open(url)
    with store.reader() as s:
        checked = audit.check(s, "0123456789abcdef")
    store.dispose()
    assert checked.intact and checked.entries == 3
