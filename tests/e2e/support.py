"""What the end-to-end tests read back from real processes: outboxes, exports, the tally's state.

Everything here reads files or answers that the running programs produced (a kiosk's outbox
database, an export directory, `tally state`); it never writes to a data directory and never
imports the tally's or the kiosk's server code. Every wait is bounded.
"""
from __future__ import annotations

import json
import os
import re
import sqlite3
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import requests

from keys.canonical import b64d
from keys.chain import genesis, next_entry
from keys.envelope import parse_envelope, verify_receipt
from tests.harness import KioskProcess, TallyProcess, run_cli

T = TypeVar("T")
ENGLISH = {"LANGUAGE": "en", "LC_ALL": "C.UTF-8", "LANG": "C.UTF-8"}


class StepFailed(AssertionError):
    """A failure inside a named step of an end-to-end test, prefixed with the step's name."""


@contextmanager
def step(name: str) -> Iterator[None]:
    """A named step of a long end-to-end test: any failure inside it reads
    `step 07 (paper batch typed twice): <the failure>`, so a red run says where the meeting broke.

    `name` starts with the step's number: `with step("07 paper batch typed twice"): ...`."""
    number, _, words = name.partition(" ")
    label = f"step {number} ({words})" if words else f"step {number}"
    try:
        yield
    except StepFailed:
        raise
    except Exception as exc:  # every failure, an assertion or an error, is named by its step
        raise StepFailed(f"{label}: {type(exc).__name__}: {exc}") from exc


def wait_for(probe: Callable[[], T | None], what: str, timeout: float = 60.0, every: float = 0.1) -> T:
    """Call `probe` until it returns something other than None/False; fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    last: T | None = None
    while time.monotonic() < deadline:
        last = probe()
        if last is not None and last is not False:
            return last
        time.sleep(every)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what} (last: {last!r})")


def answers(url: str) -> bool:
    """Whether a GET of `url` answers 200 now (on a fresh connection)."""
    try:
        return requests.get(url, timeout=2).status_code == 200
    except requests.RequestException:
        return False


@dataclass(frozen=True)
class OutboxRow:
    envelope_hash: str
    round_id: str
    state: str
    receipt: dict[str, Any] | None
    error: str | None


def outbox_rows(kiosk_dir: Path) -> list[OutboxRow]:
    """A kiosk's outbox as stored on disk (read-only: the agent may be running or dead)."""
    path = kiosk_dir / "outbox.sqlite"
    con = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=10)
    try:
        rows = con.execute("SELECT envelope_hash, round, state, receipt, error FROM envelopes ORDER BY id").fetchall()
    finally:
        con.close()
    return [OutboxRow(h, r, st, json.loads(rc) if rc else None, err) for h, r, st, rc, err in rows]


def tally_public_key(kiosk_dir: Path) -> bytes:
    """The tally key the kiosk learnt (and checked against the offer's fingerprint) at pairing."""
    return b64d(json.loads((kiosk_dir / "kiosk.json").read_text(encoding="utf-8"))["tally_public_key"])


def status_counts(kiosk: KioskProcess) -> dict[str, int]:
    """The outbox counts on the kiosk's staff status page (`/status`)."""
    html = requests.get(kiosk.url + "/status", timeout=10).text
    return {k: int(re.search(rf'id="count-{k}">(\d+)<', html).group(1))  # type: ignore[union-attr]
            for k in ("pending", "sent", "rejected")}


def wait_drained(kiosk: KioskProcess, sent: int, timeout: float = 60.0) -> dict[str, int]:
    """Wait until the kiosk's status page shows nothing waiting and `sent` acknowledged."""
    def probe() -> dict[str, int] | None:
        c = status_counts(kiosk)
        return c if c["pending"] == 0 and c["sent"] >= sent else None
    return wait_for(probe, f"kiosk {kiosk.kiosk_id} to drain its outbox", timeout)


def round_state(tally: TallyProcess, round_id: str) -> dict[str, Any]:
    """One round as `tally state` prints it (the console's view)."""
    state = json.loads(tally.cli("state", "--data", str(tally.data)))
    return next(r for r in state["rounds"] if r["id"] == round_id)


def cast_count(tally: TallyProcess, round_id: str) -> int:
    state = tally.call("GET", "/api/v1/admin/state")
    return int(next(r for r in state["rounds"] if r["id"] == round_id)["cast"])


@dataclass(frozen=True)
class BoxLine:
    envelope_hash: str
    entry: str
    kiosk_id: str


def read_box(export_dir: Path, round_id: str) -> list[BoxLine]:
    """The exported ballot box of one round, in chain order."""
    out = []
    for text in (export_dir / "envelopes.jsonl").read_text(encoding="utf-8").splitlines():
        line = json.loads(text)
        assert line["round"] == round_id
        header = parse_envelope(line["body"])
        out.append(BoxLine(header.envelope_hash, line["entry"], header.kiosk_id))
    return out


def replay_head(meeting: str, round_id: str, box: Iterable[BoxLine]) -> str:
    """The chain head recomputed from the exported envelopes alone; each stored entry must agree."""
    head = genesis(meeting, round_id)
    for line in box:
        head = next_entry(head, line.envelope_hash)
        assert line.entry == head, "an exported chain entry does not follow from the envelopes"
    return head


def verify_box(export_dir: Path, round_id: str) -> str:
    """Run `keys verify-box` (it must exit 0) and return the chain head it recomputed."""
    out = run_cli(["keys", "verify-box", str(export_dir)], {**os.environ, **ENGLISH})
    m = re.search(rf"^Round {re.escape(round_id)}: \d+ envelopes \(expected \d+\), head ([0-9a-f]{{64}}): OK$",
                  out, re.MULTILINE)
    assert m, out
    return m.group(1)


def verified_receipts(kiosk_dir: Path, meeting: str) -> dict[str, dict[str, Any]]:
    """Every acknowledged envelope of a kiosk's outbox: envelope hash -> the receipt's fields, each
    verified under the tally key from pairing (raises if one does not verify)."""
    key = tally_public_key(kiosk_dir)
    out = {}
    for row in outbox_rows(kiosk_dir):
        if row.state == "sent":
            out[row.envelope_hash] = verify_receipt(row.receipt, key, row.envelope_hash,
                                                    meeting=meeting, round_id=row.round_id)
    return out


def meeting_id(tally: TallyProcess) -> str:
    return str(tally.call("GET", "/api/v1/ballot")["meeting"]["id"])
