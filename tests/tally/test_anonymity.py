"""What a dump of the tally's database gives away: no card secret, and nothing next to a secret
ballot's content that dates or orders it (DESIGN.md, anonymity)."""
from __future__ import annotations

import base64
import sqlite3

from .conftest import SCRUTINEER, issue_cards, load_forms, pair_kiosk, setup_meeting

ORDERLESS = {"ballots", "card_uses", "cards", "attendees", "unlock_grants"}


def test_database_dump_has_no_card_secret_and_no_order_next_to_ballots(client, app, admin_headers, meeting_dir):
    setup_meeting(client, admin_headers)
    kiosk = pair_kiosk(client, admin_headers)
    load_forms(client, kiosk)
    cards = issue_cards(client, admin_headers, kiosk.meeting, 6)
    names = ["张三", "李四", "王五", "张三", "李四", "王五"]
    for card, name in zip(cards, names):
        assert client.post("/api/v1/envelopes", json=kiosk.envelope(card, {"round": "r1", "sections": {"mayor": [name]}})).status_code == 201
    client.post("/api/v1/admin/rounds/r1/close", json={}, headers=admin_headers)
    assert client.post("/api/v1/admin/rounds/r1/count", json={"passphrase": SCRUTINEER}, headers=admin_headers).status_code == 200
    app.extensions["tally.engine"].dispose()

    con = sqlite3.connect(meeting_dir / "tally.db")
    con.execute("PRAGMA wal_checkpoint(FULL)")
    dump = "\n".join(con.iterdump())
    raw = (meeting_dir / "tally.db").read_bytes()
    for card in cards:
        secret_b32 = base64.b32encode(card.secret).decode().rstrip("=")
        assert secret_b32 not in dump and card.secret not in raw
        assert card.secret.hex() not in dump

    # The opened ballots: random id, round, content. No time, no sequence, no envelope link.
    cols = [r[1] for r in con.execute("PRAGMA table_info(ballots)")]
    assert cols == ["id", "round_id", "content"]
    for table in ("envelopes", "card_uses", "cards", "ballots"):
        types = {r[1]: r[2].upper() for r in con.execute(f"PRAGMA table_info({table})")}
        assert not any(t in ("DATETIME", "TIMESTAMP", "DATE") for t in types.values()), table
        assert not any(n in ("created", "created_at", "at", "time", "seq", "position") for n in types), table
    # These tables keep no hidden insertion order (SQLite rowid).
    for table in ORDERLESS:
        sql = con.execute("SELECT sql FROM sqlite_master WHERE name = ?", (table,)).fetchone()[0]
        assert "WITHOUT ROWID" in sql.upper(), table
    # Ballots come back in id order, which is random: not the order they were cast.
    rows = [r[0] for r in con.execute("SELECT content FROM ballots")]
    assert sorted(rows) == sorted(f'{{"round": "r1", "sections": {{"mayor": ["{n}"]}}}}' for n in names)
    ids = [r[0] for r in con.execute("SELECT id FROM ballots")]
    assert ids == sorted(ids) and len(set(ids)) == 6 and all(len(i) == 32 for i in ids)
    # Check-in is a flag, never a time.
    att = {r[1]: r[2].upper() for r in con.execute("PRAGMA table_info(attendees)")}
    assert "checked_in" in att and not any(t in ("DATETIME", "TIMESTAMP") for t in att.values())
    con.close()
