"""`keys check-receipts KIOSK_DATA_DIR EXPORT_DIR`: every receipt a kiosk holds must be in the published box.

The export is the small one of `test_cli.py`; the kiosk's data directory is a real outbox
(`kiosk.outbox.Outbox`) holding the envelopes it sent, each with the tally's signed receipt.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from keys.canonical import b64e
from keys.envelope import make_receipt, parse_envelope
from keys.identity import Identity
from keys.published import box_document
from kiosk.config import Pairing, Paths, save_pairing
from kiosk.outbox import Outbox, Outgoing

from .test_cli import MEETING, Export, run


class Kiosk:
    """kiosk-a's data directory: its pairing record and an outbox with the lines it sent."""

    def __init__(self, root: Path, export: Export, kiosk_id: str = "kiosk-a") -> None:
        self.paths = Paths(root)
        root.mkdir()
        save_pairing(self.paths, Pairing(kiosk_id=kiosk_id, tally_url="http://127.0.0.1:9",
                                         tally_public_key=export.tally.public_bytes(), meeting=MEETING))
        self.outbox = Outbox(self.paths.outbox)
        self.codes: dict[str, str] = {}
        for line in export.lines:
            header = parse_envelope(line["body"])
            if header.kiosk_id != kiosk_id:
                continue
            (oid,) = self.outbox.add_all([Outgoing(header.envelope_hash, line["round"], b64e(header.card_public),
                                                   line["body"])])
            self.outbox.mark_sent(oid, make_receipt(export.tally, meeting=MEETING, round_id=line["round"],
                                                    envelope_hash=header.envelope_hash, entry=line["entry"]))
            self.codes[header.envelope_hash] = header.receipt_code
        self.outbox.close()


def write_receipts(export: Export, rounds: tuple[str, ...] = ("r1", "r2"), drop: str | None = None) -> None:
    boxes = []
    for r in rounds:
        hashes = [parse_envelope(line["body"]).envelope_hash for line in export.lines if line["round"] == r]
        boxes.append(box_document(meeting=MEETING, round_id=r, count=len(hashes), chain_head=export.public["rounds"][r]["head"],
                                  credentials_fingerprint=None, envelope_hashes=[h for h in hashes if h != drop]))
    (export.directory / "receipts.json").write_text(json.dumps(boxes if len(boxes) > 1 else boxes[0]))


@pytest.fixture
def export(tmp_path: Path) -> Export:
    e = Export(tmp_path / "export")
    (tmp_path / "export").mkdir()
    e.write()
    return e


def check(kiosk: Kiosk, export: Export, lang: str = "en") -> Any:
    return run("check-receipts", str(kiosk.paths.data), str(export.directory), lang=lang)


def test_every_receipt_in_the_box(export: Export, tmp_path: Path) -> None:
    kiosk = Kiosk(tmp_path / "kiosk-a", export)
    write_receipts(export)
    result = check(kiosk, export)
    assert result.exit_code == 0, result.output
    assert "Round r1: 2 receipt(s) checked" in result.output and "Round r2: 1 receipt(s) checked" in result.output
    assert "Every receipt this kiosk holds is in the box." in result.output
    chinese = check(kiosk, export, lang="zh_CN")
    assert chinese.exit_code == 0 and "本终端持有的每一张回执都在票箱中" in chinese.output


def test_a_receipt_missing_from_the_published_list(export: Export, tmp_path: Path) -> None:
    kiosk = Kiosk(tmp_path / "kiosk-a", export)
    dropped = next(iter(kiosk.codes))
    write_receipts(export, drop=dropped)
    result = check(kiosk, export)
    assert result.exit_code == 1
    assert f"MISSING: round r1 receipt {kiosk.codes[dropped]} (envelope {dropped}" in result.stderr
    assert "FAILED: 1 receipt(s) missing" in result.stderr


def test_a_receipt_missing_from_the_exported_envelopes(export: Export, tmp_path: Path) -> None:
    """The list names the code, but the box itself (envelopes.jsonl) lacks the envelope."""
    kiosk = Kiosk(tmp_path / "kiosk-a", export)
    write_receipts(export)
    gone = parse_envelope(export.lines[2]["body"])  # r1, third line: kiosk-a's
    assert gone.envelope_hash in kiosk.codes
    del export.lines[2]
    export.write()
    result = check(kiosk, export)
    assert result.exit_code == 1 and f"receipt {gone.receipt_code}" in result.stderr


def test_only_the_exported_rounds_are_checked(export: Export, tmp_path: Path) -> None:
    kiosk = Kiosk(tmp_path / "kiosk-a", export)
    write_receipts(export, rounds=("r1",))
    result = check(kiosk, export)
    assert result.exit_code == 0, result.output
    assert "Round r2: not in this export, not checked" in result.output


def test_a_kiosk_of_another_tally_or_meeting_is_refused(export: Export, tmp_path: Path) -> None:
    write_receipts(export)
    kiosk = Kiosk(tmp_path / "kiosk-a", export)
    save_pairing(kiosk.paths, Pairing(kiosk_id="kiosk-a", tally_url="http://127.0.0.1:9",
                                      tally_public_key=Identity.generate().public_bytes(), meeting=MEETING))
    result = check(kiosk, export)
    assert result.exit_code == 1 and "another tally key" in result.output
    save_pairing(kiosk.paths, Pairing(kiosk_id="kiosk-a", tally_url="http://127.0.0.1:9",
                                      tally_public_key=export.tally.public_bytes(), meeting="fedcba9876543210"))
    result = check(kiosk, export)
    assert result.exit_code == 1 and "different meetings" in result.output


def test_a_receipt_that_does_not_verify_is_a_failure(export: Export, tmp_path: Path) -> None:
    """A receipt the kiosk holds that the tally never signed proves nothing: it is reported."""
    kiosk = Kiosk(tmp_path / "kiosk-a", export)
    write_receipts(export)
    import sqlite3

    con = sqlite3.connect(kiosk.paths.outbox)
    receipt = json.loads(con.execute("SELECT receipt FROM envelopes WHERE id = 1").fetchone()[0])
    receipt["sig"] = b64e(bytes(64))
    con.execute("UPDATE envelopes SET receipt = ? WHERE id = 1", (json.dumps(receipt),))
    con.commit()
    con.close()
    result = check(kiosk, export)
    assert result.exit_code == 1 and "does not verify" in result.stderr


def test_not_a_kiosk_directory(export: Export, tmp_path: Path) -> None:
    write_receipts(export)
    (tmp_path / "empty").mkdir()
    result = run("check-receipts", str(tmp_path / "empty"), str(export.directory))
    assert result.exit_code == 1 and "is not a kiosk's data directory" in result.output
