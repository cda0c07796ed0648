"""The durable outbox: what is committed survives a crash; states only move forward; all or nothing."""
from __future__ import annotations

import hashlib
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from kiosk.outbox import CardAlreadyUsed, Outbox, Outgoing

REPO = Path(__file__).resolve().parents[2]


def env(n: int, round_id: str = "r1", card: str | None = None) -> Outgoing:
    h = hashlib.sha256(f"{round_id}/{n}".encode()).hexdigest()
    return Outgoing(envelope_hash=h, round_id=round_id, card=card or f"card{n}",
                    body={"envelope": f"E{n}", "kiosk_sig": "k", "card_sig": "c"})


def test_reopen_finds_every_envelope_pending_in_order(tmp_path: Path) -> None:
    box = Outbox(tmp_path / "o.sqlite")
    box.add_all([env(1), env(1, "e1")])
    box.add_all([env(2)])
    box.close()
    again = Outbox(tmp_path / "o.sqlite")
    pending = again.pending()
    assert [(i.round_id, i.body["envelope"]) for i in pending] == [("r1", "E1"), ("e1", "E1"), ("r1", "E2")]
    assert again.counts() == {"pending": 3, "sent": 0, "rejected": 0}


CRASHER = """
import sys, hashlib
from pathlib import Path
from kiosk.outbox import Outbox, Outgoing
box = Outbox(Path(sys.argv[1]))
for n in range(int(sys.argv[2])):
    h = hashlib.sha256(str(n).encode()).hexdigest()
    box.add_all([Outgoing(envelope_hash=h, round_id="r1", card="card%d" % n, body={"envelope": "E%d" % n})])
    print(n, flush=True)   # the voter would be told "cast" now
import time
time.sleep(60)
"""


def test_committed_envelopes_survive_a_killed_process(tmp_path: Path) -> None:
    path = tmp_path / "o.sqlite"
    proc = subprocess.Popen([sys.executable, "-c", CRASHER, str(path), "40"], cwd=REPO,
                            stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    acknowledged = [int(proc.stdout.readline()) for _ in range(40)]
    proc.send_signal(signal.SIGKILL)  # no clean shutdown, no checkpoint
    proc.wait(10)
    box = Outbox(path)
    assert [i.body["envelope"] for i in box.pending(100)] == [f"E{n}" for n in acknowledged]
    assert box._conn().execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def test_sent_and_rejected_are_final(tmp_path: Path) -> None:
    box = Outbox(tmp_path / "o.sqlite")
    a, b, c = box.add_all([env(1), env(2), env(3)])
    box.mark_sent(a, {"receipt": "R", "sig": "S"})
    box.mark_rejected(b, "card_used")
    box.mark_rejected(a, "round_not_open")  # too late: a is acknowledged
    box.mark_sent(b, {"receipt": "R2", "sig": "S2"})  # too late: b was refused
    assert box.get(a).state == "sent" and box.get(a).receipt == {"receipt": "R", "sig": "S"}
    assert box.get(b).state == "rejected" and box.get(b).error == "card_used" and box.get(b).receipt is None
    assert [i.id for i in box.pending()] == [c]
    assert box.counts() == {"pending": 1, "sent": 1, "rejected": 1}
    assert box.rejections() == {"card_used": 1}
    with pytest.raises(ValueError):
        box.mark_rejected(c, "")


def test_state_rules_live_in_the_database(tmp_path: Path) -> None:
    box = Outbox(tmp_path / "o.sqlite")
    (a,) = box.add_all([env(1)])
    db = box._conn()
    with pytest.raises(sqlite3.IntegrityError):
        db.execute("UPDATE envelopes SET state = 'sent' WHERE id = ?", (a,))  # sent needs a receipt
    with pytest.raises(sqlite3.IntegrityError):
        db.execute("UPDATE envelopes SET state = 'lost' WHERE id = ?", (a,))
    assert box.get(a).state == "pending"


def test_a_ballot_is_stored_whole_or_not_at_all(tmp_path: Path) -> None:
    box = Outbox(tmp_path / "o.sqlite")
    box.add_all([env(1, "r1", card="X")])
    with pytest.raises(CardAlreadyUsed):
        box.add_all([env(2, "e1", card="X"), env(3, "r1", card="X")])  # r1 with card X is taken
    assert box.counts()["pending"] == 1
    assert box.used_rounds("X") == {"r1"}


def test_a_refused_envelope_frees_its_card_for_another_try(tmp_path: Path) -> None:
    box = Outbox(tmp_path / "o.sqlite")
    (a,) = box.add_all([env(1, "r1", card="X")])
    box.mark_rejected(a, "round_not_open")
    assert box.used_rounds("X") == set()
    box.add_all([env(2, "r1", card="X")])
    assert box.used_rounds("X") == {"r1"}


def test_outbox_is_wal_with_full_sync(tmp_path: Path) -> None:
    box = Outbox(tmp_path / "o.sqlite")
    db = box._conn()
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert db.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
