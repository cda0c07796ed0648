"""The published box (公开票箱) and what a kiosk holds against it.

Once a round closes the tally publishes its box: the round, the number of envelopes it accepted,
its chain head, the fingerprint of the credential list (when there is one) and the receipt code
of every accepted envelope, sorted (so the list says nothing about arrival order). A voter finds
their code in it; a kiosk checks that every receipt it holds is there (`missing`). The tally signs
the document (`keys.document`, label `scrutineer/box/v1`), so a box that leaves a receipt out
is the tally's signed word against the receipt it signed.

`read_kiosk(dir)` reads a kiosk's data directory (its pairing record `kiosk.json` and its outbox
`outbox.sqlite`, read-only) for the auditor's `keys check-receipts`. No network, no clock; the
only files touched are the ones named.
"""
from __future__ import annotations

import json
import re
import sqlite3
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from keys.canonical import b64d
from keys.envelope import receipt_code
from keys.errors import Malformed
from keys.ids import check_hash, check_meeting, check_name

CODE_RE = re.compile(r"[A-Z2-7]{4}-[A-Z2-7]{4}")
BOX_KEYS = frozenset({"meeting", "round", "count", "chain_head", "credentials_fingerprint", "receipts"})


def box_document(*, meeting: str, round_id: str, count: int, chain_head: str,
                 credentials_fingerprint: str | None, envelope_hashes: Iterable[str]) -> dict[str, Any]:
    """The published box of one closed round: receipt codes sorted, never in arrival order."""
    return {
        "meeting": check_meeting(meeting), "round": check_name(round_id, "round"), "count": count,
        "chain_head": check_hash(chain_head, "chain head"), "credentials_fingerprint": credentials_fingerprint,
        "receipts": sorted(receipt_code(h) for h in envelope_hashes),
    }


@dataclass(frozen=True)
class PublishedBox:
    meeting: str
    round_id: str
    count: int
    chain_head: str
    credentials_fingerprint: str | None
    receipts: frozenset[str]


def parse_box(doc: Any) -> PublishedBox:
    """A published box document (the API's answer, the export's `receipts.json`, or the signed
    document); `Malformed` unless it has the fields of `box_document` (extra fields are ignored)."""
    if not isinstance(doc, dict) or not set(doc) >= BOX_KEYS:
        raise Malformed("a published box has meeting, round, count, chain_head, credentials_fingerprint, receipts")
    count, receipts, fp = doc["count"], doc["receipts"], doc["credentials_fingerprint"]
    if type(count) is not int or count < 0:
        raise Malformed("count must be a whole number")
    if not isinstance(receipts, list) or not all(isinstance(c, str) and CODE_RE.fullmatch(c) for c in receipts):
        raise Malformed("receipts must be a list of receipt codes")
    if fp is not None and not isinstance(fp, str):
        raise Malformed("credentials_fingerprint must be text or null")
    return PublishedBox(meeting=check_meeting(doc["meeting"]), round_id=check_name(doc["round"], "round"),
                        count=count, chain_head=check_hash(doc["chain_head"], "chain head"),
                        credentials_fingerprint=fp, receipts=frozenset(receipts))


@dataclass(frozen=True)
class Held:
    """One envelope a kiosk's outbox holds: its round, hash, state and (once sent) the tally's receipt."""

    round_id: str
    envelope_hash: str
    state: str  # pending | sent | rejected
    receipt: dict[str, Any] | None

    @property
    def code(self) -> str:
        return receipt_code(self.envelope_hash)


@dataclass(frozen=True)
class KioskHoldings:
    kiosk_id: str
    meeting: str
    tally_public: bytes
    held: tuple[Held, ...]


def read_kiosk(directory: Path) -> KioskHoldings:
    """A kiosk's data directory (real, or a simulated kiosk's `DIR/kiosk-<i>/`): the pairing record
    and every outbox row, read-only. `Malformed` (or `OSError`) if it is not a kiosk's directory."""
    try:
        pairing = json.loads((directory / "kiosk.json").read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise Malformed("kiosk.json is missing or not JSON") from exc
    if not isinstance(pairing, dict):
        raise Malformed("kiosk.json is not a pairing record")
    tally_public = b64d(pairing.get("tally_public_key"))  # type: ignore[arg-type]
    if len(tally_public) != 32:
        raise Malformed("kiosk.json holds no tally key")
    outbox = directory / "outbox.sqlite"
    if not outbox.is_file():
        raise Malformed("outbox.sqlite is missing")
    try:
        con = sqlite3.connect(outbox.resolve().as_uri() + "?mode=ro", uri=True, timeout=10)
        try:
            rows = con.execute("SELECT round, envelope_hash, state, receipt FROM envelopes ORDER BY id").fetchall()
        finally:
            con.close()
    except sqlite3.Error as exc:
        raise Malformed("outbox.sqlite cannot be read") from exc
    held = []
    for round_id, envelope_hash, state, receipt in rows:
        try:
            parsed = json.loads(receipt) if receipt is not None else None
        except ValueError as exc:
            raise Malformed("an outbox receipt is not JSON") from exc
        held.append(Held(check_name(round_id, "round"), check_hash(envelope_hash, "envelope hash"), str(state), parsed))
    return KioskHoldings(kiosk_id=check_name(pairing.get("kiosk_id"), "kiosk"),
                         meeting=check_meeting(pairing.get("meeting")), tally_public=tally_public, held=tuple(held))


def missing(held_codes: Iterable[str], box: PublishedBox) -> list[str]:
    """The receipt codes a kiosk holds for this round that the published box does not list, sorted."""
    return sorted({c for c in held_codes if c not in box.receipts})


def by_round(held: Iterable[Held]) -> Mapping[str, list[Held]]:
    out: dict[str, list[Held]] = {}
    for h in held:
        out.setdefault(h.round_id, []).append(h)
    return out
