"""What a dump of the tally's database gives away: no card secret, and nothing next to a secret
ballot's content that dates or orders it (DESIGN.md, anonymity)."""
from __future__ import annotations

import base64
import json
import sqlite3

from keys.canonical import b64d, b64e
from keys.envelope import parse_envelope
from tally.services import services

from .conftest import count_body, issue_cards, load_forms, pair_kiosk, setup_meeting

ORDERLESS = {"ballots", "card_uses", "cards", "attendees", "unlock_grants"}


def test_database_dump_has_no_card_secret_and_no_order_next_to_ballots(client, app, admin_headers, meeting_dir):
    setup_meeting(client, admin_headers)
    kiosk = pair_kiosk(client, admin_headers)
    load_forms(client, kiosk)
    cards = issue_cards(client, admin_headers, kiosk.meeting, 6)
    names = ["张三", "李四", "王五", "张三", "李四", "王五"]
    for card, name in zip(cards, names, strict=False):
        assert (
            client.post(
                "/api/v1/envelopes", json=kiosk.envelope(card, {"round": "r1", "sections": {"mayor": [name]}})
            ).status_code
            == 201
        )
    client.post("/api/v1/admin/rounds/r1/close", json={}, headers=admin_headers)
    assert (
        client.post("/api/v1/admin/rounds/r1/count", json=count_body(client, "r1"), headers=admin_headers).status_code
        == 200
    )
    services(app).store.engine.dispose()

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


def _spellings(key: bytes) -> list[bytes]:
    """The ways a public key could sit in a dump: raw, hex, base64url, standard base64."""
    return [key, key.hex().encode(), b64e(key).encode(), base64.b64encode(key)]


def _cells(value: object) -> bytes:
    """A cell's bytes; a stored envelope body also with its envelope decoded (the card key is inside)."""
    if isinstance(value, bytes):
        return value
    text = str(value).encode()
    try:
        doc = json.loads(text)
    except ValueError:
        return text
    if isinstance(doc, dict) and isinstance(doc.get("envelope"), str):
        return text + b"\0" + b64d(doc["envelope"])
    return text


def test_one_cards_ballots_in_two_rounds_are_not_linked_in_the_database(client, app, admin_headers, meeting_dir):
    """Per-round card keys: the r1 and d1 envelopes of one card carry different keys, and no
    row of any table holds both, so nothing in a dump joins a voter's recommendation (say, a
    distinctive write-in) to the same voter's decision vote."""
    setup_meeting(client, admin_headers, open_rounds=("r1", "d1"))
    kiosk = pair_kiosk(client, admin_headers)
    load_forms(client, kiosk)
    cards = issue_cards(client, admin_headers, kiosk.meeting, 4)
    for i, card in enumerate(cards):
        mayor = ["钱多多"] if i == 0 else ["张三"]  # a distinctive write-in
        assert (
            client.post(
                "/api/v1/envelopes", json=kiosk.envelope(card, {"round": "r1", "sections": {"mayor": mayor}})
            ).status_code
            == 201
        )
        assert (
            client.post(
                "/api/v1/envelopes", json=kiosk.envelope(card, {"round": "d1", "votes": {"王五": "agree"}})
            ).status_code
            == 201
        )
    services(app).store.engine.dispose()

    con = sqlite3.connect(meeting_dir / "tally.db")
    con.execute("PRAGMA wal_checkpoint(FULL)")
    r1_key, d1_key = cards[0].public_for("r1"), cards[0].public_for("d1")
    assert r1_key != d1_key
    # The envelopes as stored carry the round's key, never a key shared by the card's rounds.
    stored = {}
    for round_id, body in con.execute("SELECT round_id, body FROM envelopes"):
        stored.setdefault(round_id, set()).add(parse_envelope(json.loads(body)).card_public)
    assert stored == {"r1": {c.public_for("r1") for c in cards}, "d1": {c.public_for("d1") for c in cards}}
    assert not stored["r1"] & stored["d1"]

    # The credential tables: a key, a round and a status; no card id, nothing shared by a card's rows.
    assert [r[1] for r in con.execute("PRAGMA table_info(cards)")] == ["public_key", "round_id", "status", "origin"]
    assert [r[1] for r in con.execute("PRAGMA table_info(card_uses)")] == ["card", "round_id"]
    card_rows = {
        key: (rnd, status) for key, rnd, status in con.execute("SELECT public_key, round_id, status FROM cards")
    }
    assert card_rows[r1_key] == ("r1", "issued") and card_rows[d1_key] == ("d1", "issued")
    assert len(card_rows) == 12 * 3 and {s for _, s in card_rows.values()} == {"issued"}
    uses = set(con.execute("SELECT card, round_id FROM card_uses"))
    assert (r1_key, "r1") in uses and (d1_key, "d1") in uses and len(uses) == 8

    # No row of any table holds both keys, in any spelling: no column joins the two rows.
    tables = [r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
    with_r1 = with_d1 = 0
    for table in tables:
        for row in con.execute(f'SELECT * FROM "{table}"'):
            blob = b"\0".join(_cells(v) for v in row)
            has_r1 = any(k in blob for k in _spellings(r1_key))
            has_d1 = any(k in blob for k in _spellings(d1_key))
            assert not (has_r1 and has_d1), table
            with_r1 += has_r1
            with_d1 += has_d1
    # Each key is found in its cards row, its card use and its envelope: the search does find keys.
    assert with_r1 == 3 and with_d1 == 3
    con.close()
