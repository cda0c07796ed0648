"""Anonymity at rest, against forensic readers of the database (DESIGN.md: who can check what).

A whole meeting runs over the real app: a roster, the scrutineers' card list imported, people
signed in before the rounds open (their cards counted out, never scanned), votes with cards, and
people who sign in late and vote at a kiosk the desk unlocked for them (the kiosk makes the card
and registers its keys). Then:

- SQLite: the write-ahead log is copied after every step, during and after the meeting, and a
  reader replays its frames commit by commit onto the copied database, diffing each state: no
  commit that signs someone in is ever followed, in any copy, by a commit that writes one voter's
  card keys, card use or envelope; after the close and count the log is empty, and nothing a
  deleted row held (an unlock grant) is left in the file.
- PostgreSQL: after the meeting every live row of the people and credential tables carries the
  same `xmin` and sits (`ctid`, and the order a dump gives) in key order; in the middle of a
  round, after a late sign-in, the people's rows still share one `xmin`.
"""
from __future__ import annotations

import itertools
import json
import shutil
import sqlite3
import struct
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from keys.canonical import b64e
from keys.cards import new_card
from tally.services import services

from .conftest import KEY_PASS, MEETING, ROSTER, count_body, import_cards, load_forms, pair_kiosk, shares_dir

ROUNDS = ("r1", "d1")  # the ballot rounds open in this meeting
BALLOT_ROUNDS = ("r1", "e1", "d1")  # a card holds a key in each
# The four voters' ballots in the order they vote: not the order of their contents, so a box
# written in arrival order would show.
MAYOR = ("王五", "张三", "李四", "王五")
VOTES = ("disagree", "agree", "abstain", "agree")


def ballot(round_id: str, voter: int) -> dict[str, Any]:
    if round_id == "r1":
        return {"round": "r1", "sections": {"mayor": [MAYOR[voter]]}}
    return {"round": "d1", "votes": {"王五": VOTES[voter]}}


@dataclass
class Meeting:
    """What the meeting leaves for the test to look for: card keys, unlock grants, who signed in late."""

    keys: set[bytes] = field(default_factory=set)
    grants: list[str] = field(default_factory=list)
    late: list[str] = field(default_factory=list)


def run_meeting(client: Any, admin: dict[str, str], after: Callable[[str], None]) -> Meeting:
    """A whole meeting through the chair's, the desk's and a kiosk's API; `after(step)` after each step."""
    import io

    m = Meeting()
    ok = {200, 201}

    def post(path: str, body: Any = None, **kw: Any) -> Any:
        resp = client.post(path, json=body, headers=admin, **kw) if body is not None or not kw else \
            client.post(path, headers=admin, **kw)
        assert resp.status_code in ok, (path, resp.get_json())
        return resp.get_json()

    post("/api/v1/admin/roster", data={"file": (io.BytesIO(ROSTER.encode()), "roster.csv")})
    kiosk = pair_kiosk(client, admin)
    after("roster and kiosk")
    # The scrutineers' card list: every card's keys in one import, before anyone signs in; the
    # desk counts the cards out and writes nothing when it hands one over.
    cards = import_cards(client, admin, 4)
    after("card list imported")
    post("/api/v1/admin/settings", {"desk_unlock": True})
    after("desk unlocks allowed")
    for n in ("001", "002", "003", "004"):
        post("/api/v1/desk/signin", {"number": n})
        after(f"sign-in {n}")
    for r in ROUNDS:
        post(f"/api/v1/admin/rounds/{r}/open", {})
    load_forms(client, kiosk)
    after("open")

    voters = itertools.count()

    def vote(card: Any, step: str) -> None:
        voter = next(voters)
        for r in ROUNDS:
            m.keys.add(card.public_for(r))
            assert client.post("/api/v1/envelopes", json=kiosk.envelope(card, ballot(r, voter))).status_code == 201
            after(f"{step} {r}")

    for i, card in enumerate(cards[:2]):
        vote(card, f"card voter {i}")
    for n in ("005", "006"):  # late: signed in while voting, then a desk unlock of the kiosk
        m.late.append(n)
        post("/api/v1/desk/signin", {"number": n})
        after(f"late sign-in {n}")
        post("/api/v1/desk/unlock", {"kiosk": kiosk.kiosk_id})
        after(f"unlock for {n}")
        beat = client.post("/api/v1/kiosks/heartbeat", json=kiosk.signed({"outbox": 0, "sent": 0})).get_json()
        grant = beat["unlock"]["grant"]
        m.grants.append(grant)
        card = new_card(kiosk.meeting)  # made by the kiosk; only its public keys travel
        resp = client.post("/api/v1/kiosks/unlock", json=kiosk.signed(
            {"grant": grant, "cards": {r: b64e(card.public_for(r)) for r in ROUNDS}}))
        assert resp.status_code == 200, resp.get_json()
        after(f"claim for {n}")
        vote(card, f"unlocked voter {n}")  # 实到 was fixed at the open: two voted by card, two here
    for r in ROUNDS:
        post(f"/api/v1/admin/rounds/{r}/close", {})
        after(f"close {r}")
        post(f"/api/v1/admin/rounds/{r}/count", count_body(client, r))
        after(f"count {r}")
    return m


# -- a reader of the SQLite write-ahead log -------------------------------------------------------

@dataclass(frozen=True)
class State:
    signed_in: frozenset[str]
    cards: frozenset[tuple[bytes, str]]  # (key, status)
    uses: frozenset[bytes]
    envelopes: frozenset[str]


def read_state(path: Path) -> State:
    con = sqlite3.connect(f"file:{path}?immutable=1", uri=True)
    try:
        return State(
            frozenset(r[0] for r in con.execute("SELECT number FROM attendees WHERE checked_in")),
            frozenset((bytes(k), s) for k, s in con.execute("SELECT public_key, status FROM cards")),
            frozenset(bytes(r[0]) for r in con.execute("SELECT card FROM card_uses")),
            frozenset(r[0] for r in con.execute("SELECT envelope_hash FROM envelopes")))
    finally:
        con.close()


def replay(db: Path, wal: Path, work: Path) -> Iterator[State]:
    """The database as it stood after each commit that the log holds (its current frames; a frame
    of an older generation left in the file is refused outright, see the caller)."""
    data = wal.read_bytes() if wal.exists() else b""
    image = bytearray(db.read_bytes())
    yield read_state(db)
    if len(data) < 32:
        return
    _magic, _version, page_size, _seq, salt1, salt2 = struct.unpack(">IIIIII", data[:24])
    offset, n = 32, 0
    while offset + 24 + page_size <= len(data):
        pgno, commit, s1, s2 = struct.unpack(">IIII", data[offset:offset + 16])
        if (s1, s2) != (salt1, salt2):
            raise AssertionError(f"{wal.name}: a frame of an older generation is still in the file")
        page = data[offset + 24:offset + 24 + page_size]
        end = pgno * page_size
        if len(image) < end:
            image.extend(b"\0" * (end - len(image)))
        image[end - page_size:end] = page
        offset += 24 + page_size
        if commit:
            n += 1
            snap = work / f"commit-{n}.db"
            snap.write_bytes(bytes(image[:commit * page_size]))
            yield read_state(snap)
    assert offset == len(data), f"{wal.name}: {len(data) - offset} bytes after the last whole frame"


@dataclass(frozen=True)
class Event:
    signed_in: frozenset[str]
    card_keys: int  # keys written or moved to issued in this commit
    uses: int
    envelopes: int

    @property
    def one_voter(self) -> bool:
        """A commit that names one voter's credentials: a card claimed for a desk unlock (a key
        per ballot round), a card used, a ballot."""
        return 0 < self.card_keys <= len(BALLOT_ROUNDS) or self.uses > 0 or self.envelopes > 0


def events(states: list[State]) -> list[Event]:
    return [Event(b.signed_in - a.signed_in, len(b.cards - a.cards), len(b.uses - a.uses), len(b.envelopes - a.envelopes))
            for a, b in itertools.pairwise(states)]


def test_no_copy_of_the_sqlite_log_lines_up_a_person_and_a_card(client, app, admin_headers, meeting_dir, tmp_path):
    db, wal = meeting_dir / "tally.db", meeting_dir / "tally.db-wal"
    copies: list[tuple[str, Path, Path]] = []

    def copy(step: str) -> None:
        d = tmp_path / f"copy-{len(copies):02d}"
        d.mkdir()
        shutil.copy(db, d / "tally.db")
        if wal.exists():
            shutil.copy(wal, d / "tally.db-wal")
        copies.append((step, d / "tally.db", d / "tally.db-wal"))

    meeting = run_meeting(client, admin_headers, copy)
    services(app).store.engine.dispose()
    linked = []
    commits = 0
    for step, db_copy, wal_copy in copies:
        work = db_copy.parent / "replay"
        work.mkdir()
        seen = events(list(replay(db_copy, wal_copy, work)))
        commits += len(seen)
        for i, e in enumerate(seen):
            if e.signed_in and any(later.one_voter for later in seen[i + 1:]):
                linked.append((step, sorted(e.signed_in)))
    assert commits > 20  # the reader did replay the meeting's commits
    assert linked == [], f"a sign-in followed by one voter's credentials in the log: {linked}"
    # After the close and the count the log is empty, and a deleted row leaves nothing behind.
    assert copies[-1][0] == "count d1" and (not copies[-1][2].exists() or copies[-1][2].stat().st_size == 0)
    final = db.read_bytes()
    for grant in meeting.grants:
        assert grant.encode() not in final and bytes.fromhex(grant) not in final
    # The audit log names no person and no card.
    con = sqlite3.connect(db)
    values = {str(v) for (d,) in con.execute("SELECT detail FROM audit_log") for v in json.loads(d).values()}
    con.close()
    people = {f"{i:03d}" for i in range(1, 7)} | {f"代表{i}" for i in range(1, 7)}
    assert not values & people and not any("代表" in v for v in values)
    assert not any(b64e(k) in v for k in meeting.keys for v in values)


# -- PostgreSQL: xmin, ctid and the order of a dump ---------------------------------------------

@pytest.fixture
def pg(tmp_path: Path) -> Iterator[Any]:
    from tally import create_app
    from tally.setup.meeting import init_meeting
    from tests.services import fresh_postgres_database

    for url in fresh_postgres_database():
        f = tmp_path / "meeting.yaml"
        f.write_text(MEETING, encoding="utf-8")
        d = tmp_path / "data"
        init_meeting(d, f, key_passphrase=KEY_PASS, scrutineers=3, quorum=2, shares_out=shares_dir(d), database_url=url)
        app = create_app({"DATA_DIR": str(d), "TESTING": True,
                          "ENV": {"TALLY_KEY_PASSPHRASE": KEY_PASS, "TALLY_DATABASE_URL": url}})
        yield app, {"Authorization": "Bearer " + (d / "secrets" / "admin-token").read_text().strip()}
        services(app).store.engine.dispose()


def physical(app: Any, table: str, key: str) -> tuple[list[int], list[Any], list[str]]:
    """A table's rows as a forensic reader sees them: xmin, and keys in ctid order and in a dump's order."""
    raw = services(app).store.engine.raw_connection()
    try:
        cur = raw.cursor()
        cur.execute(f"SELECT xmin::text::bigint, {key} FROM {table} ORDER BY ctid")
        rows = cur.fetchall()
        dump: list[str] = []
        with cur.copy(f"COPY {table} ({key}) TO STDOUT") as copy:  # what pg_dump writes, in its order
            dump.extend(bytes(line).decode().rstrip("\n") for line in copy)
        cur.close()
        raw.commit()
    finally:
        raw.close()
    return [r[0] for r in rows], [r[1] for r in rows], dump


@pytest.mark.postgres
def test_no_order_survives_in_postgres(pg):
    app, admin = pg
    client = app.test_client()
    mid: dict[str, list[int]] = {}

    def look(step: str) -> None:
        if step == "unlocked voter 006 d1":  # a late sign-in, an unlock, a claim and a vote, round open
            mid["attendees"] = physical(app, "attendees", "number")[0]

    run_meeting(client, admin, look)
    assert len(set(mid["attendees"])) == 1, "mid-round, one person's sign-in is dated by its xmin"
    for table, key in (("attendees", "number"), ("cards", "public_key"), ("card_uses", "card")):
        xmins, keys, dump = physical(app, table, key)
        assert len(keys) > 1
        assert len(set(xmins)) == 1, f"{table}: rows written at different moments keep their own xmin"
        assert keys == sorted(keys), f"{table}: the physical order is not the key order"
        assert dump == [(("\\\\x" + bytes(k).hex()) if isinstance(k, (bytes, memoryview)) else str(k)) for k in keys]
    rows = physical(app, "attendees", "number")[1]
    assert rows == sorted(rows) and len(rows) == 6
    with services(app).store.reader() as s:
        assert s.scalar(text("SELECT count(*) FROM envelopes")) == 8
        # Opened ballots: each round's written in one transaction (the count), under random ids, in
        # the order of their contents (tally.box.counting): nothing of the order they arrived in.
        for r in ROUNDS:
            found = s.execute(text("SELECT xmin::text, content FROM ballots WHERE round_id = :r ORDER BY ctid"),
                              {"r": r}).all()
            assert len(found) == 4 and len({x for x, _ in found}) == 1
            assert [c for _, c in found] == sorted(c for _, c in found)
