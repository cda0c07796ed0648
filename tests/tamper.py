"""Someone with the tally's database file, between the close and the count: the edits they can make.

Each attack works on the SQLite file itself (`sqlite3`, behind the tally's back, while it runs),
as a holder of the database would: delete, alter, insert or reorder envelope rows, and where it
helps them, recompute the chain (every `prev`/`entry` after the edit, the round's head and count)
and add what an inserted ballot needs (their own kiosk row, their own card row in the card table,
with the card list's stored fingerprint left alone or changed to match). They cannot sign as the
tally: an inserted envelope carries a receipt copied from another. `Box.snapshot()` and
`Box.restore()` take the file back to where it was, so one closed round serves every attack.
"""
from __future__ import annotations

import hashlib
import json
import secrets
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from keys.canonical import b64d, b64e, canonical, parse_canonical
from keys.cards import Card, new_card
from keys.chain import genesis, next_entry
from keys.credentials import list_document
from keys.envelope import seal_envelope
from keys.identity import Identity


def _envelope_hash(body: str) -> str:
    return hashlib.sha256(b64d(json.loads(body)["envelope"])).hexdigest()


@dataclass
class Box:
    """The closed round `round_id` in the tally database at `db`."""

    db: Path
    round_id: str
    ballot_size: int
    spare: Card | None = None  # a card the attacker holds (a left-over of the list, or one they made)
    voted: list[Card] = field(default_factory=list)  # the cards of the box's ballots, in chain order
    _saved: Path | None = field(default=None, repr=False)

    def connect(self) -> sqlite3.Connection:
        return sqlite3.connect(self.db, timeout=30)

    @property
    def meeting(self) -> str:
        with self.connect() as con:
            return str(con.execute("SELECT id FROM meeting").fetchone()[0])

    def snapshot(self) -> None:
        """Keep a copy of the whole file (SQLite's backup, beside it), to put back with `restore`."""
        self._saved = self.db.with_name(self.db.name + ".before-the-attack")
        src, copy = self.connect(), sqlite3.connect(self._saved)
        src.backup(copy)
        copy.close()
        src.close()

    def restore(self) -> None:
        assert self._saved is not None
        copy, dst = sqlite3.connect(self._saved), self.connect()
        copy.backup(dst)
        dst.close()
        copy.close()

    def rows(self, con: sqlite3.Connection) -> list[dict[str, Any]]:
        """The round's envelope rows in chain order (as the honest box holds them)."""
        found = [dict(zip(("id", "kiosk_id", "nonce", "envelope_hash", "prev_hash", "entry_hash", "body", "receipt"),
                          r, strict=True))
                 for r in con.execute("SELECT id, kiosk_id, nonce, envelope_hash, prev_hash, entry_hash, body, receipt "
                                      "FROM envelopes WHERE round_id = ?", (self.round_id,))]
        by_prev = {r["prev_hash"]: r for r in found}
        out, link = [], genesis(self.meeting, self.round_id)
        while link in by_prev:
            out.append(by_prev.pop(link))
            link = out[-1]["entry_hash"]
        return out

    def rewrite(self, con: sqlite3.Connection, rows: list[dict[str, Any]]) -> None:
        """Put `rows` back as the round's whole box, in this order, with a recomputed chain, and
        make the round's row agree (count and head)."""
        con.execute("DELETE FROM envelopes WHERE round_id = ?", (self.round_id,))
        link = genesis(self.meeting, self.round_id)
        for r in rows:
            envelope_hash = _envelope_hash(r["body"])
            entry = next_entry(link, envelope_hash)
            con.execute("INSERT INTO envelopes (id, round_id, kiosk_id, nonce, envelope_hash, prev_hash, entry_hash, "
                        "body, receipt) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                        (r["id"], self.round_id, r["kiosk_id"], r["nonce"], envelope_hash, link, entry, r["body"],
                         r["receipt"]))
            link = entry
        con.execute("UPDATE rounds SET accepted = ?, chain_head = ? WHERE id = ?", (len(rows), link, self.round_id))

    def their_kiosk(self, con: sqlite3.Connection) -> tuple[str, Identity]:
        """A kiosk row of the attacker's own, with a key they hold."""
        ident, kiosk_id = Identity.generate(), "k" + secrets.token_hex(8)
        con.execute("INSERT INTO kiosks (id, name, public_key, status, outbox) VALUES (?, ?, ?, 'active', 0)",
                    (kiosk_id, "k", ident.public_bytes()))
        return kiosk_id, ident

    def sealed(self, con: sqlite3.Connection, card: Card, kiosk_id: str, ident: Identity) -> dict[str, Any]:
        """A genuine-looking envelope row: sealed to the round's public key, signed by `kiosk_id` and `card`."""
        public = con.execute("SELECT public_key FROM rounds WHERE id = ?", (self.round_id,)).fetchone()[0]
        env = seal_envelope(meeting=self.meeting, round_id=self.round_id, kiosk_id=kiosk_id, kiosk_identity=ident,
                            card_key=card.identity(self.round_id), round_public=public,
                            ballot={"round": self.round_id, "sections": {"mayor": ["钱七"]}},
                            ballot_size=self.ballot_size)
        nonce = parse_canonical(b64d(env.body["envelope"]))["nonce"]
        return {"id": secrets.token_hex(16), "kiosk_id": kiosk_id, "nonce": nonce,
                "body": json.dumps(env.body, sort_keys=True, separators=(",", ":")), "receipt": None}

    def card_row(self, con: sqlite3.Connection, card: Card, fingerprint: str) -> None:
        """The attacker's card in the tally's card table; the list's stored fingerprint left as it
        is (`left`) or changed to what the rows now give (`changed`)."""
        con.execute("INSERT INTO cards (public_key, round_id, status, origin) VALUES (?, ?, 'issued', 'list')",
                    (card.public_for(self.round_id), self.round_id))
        if fingerprint == "changed":
            meeting_record, cards = con.execute("SELECT meeting_record, cards FROM credential_list").fetchone()
            rounds: dict[str, list[bytes]] = {}
            for key, round_id in con.execute("SELECT public_key, round_id FROM cards WHERE origin = 'list'"):
                rounds.setdefault(round_id, []).append(key)
            for key, spare in con.execute("SELECT public_key, spare_id FROM spare_cards"):
                rounds.setdefault(spare, []).append(key)
            fp = list_document(self.meeting, meeting_record, cards, rounds)["fingerprint"]
            con.execute("UPDATE credential_list SET fingerprint = ?", (fp,))


def _edit_envelope(row: dict[str, Any], **fields: Any) -> None:
    body = json.loads(row["body"])
    envelope = parse_canonical(b64d(body["envelope"]))
    envelope.update(fields)
    body["envelope"] = b64e(canonical(envelope))
    row["body"] = json.dumps(body, sort_keys=True, separators=(",", ":"))


def _flip_sealed_byte(row: dict[str, Any]) -> None:
    body = json.loads(row["body"])
    sealed = bytearray(b64d(parse_canonical(b64d(body["envelope"]))["sealed"]))
    sealed[len(sealed) // 2] ^= 1
    _edit_envelope(row, sealed=b64e(bytes(sealed)))


# --- the attacks: each edits the box of a closed round and says what the count must name ---------------

def delete(box: Box, con: sqlite3.Connection) -> str:
    rows = box.rows(con)
    con.execute("DELETE FROM envelopes WHERE id = ?", (rows[2]["id"],))
    return "The chain breaks after envelope 2"


def delete_rechained(box: Box, con: sqlite3.Connection) -> str:
    rows = box.rows(con)
    del rows[1]
    box.rewrite(con, rows)
    return "Envelope 2 (receipt"


def alter_sealed_byte(box: Box, con: sqlite3.Connection) -> str:
    row = box.rows(con)[2]
    _flip_sealed_byte(row)
    con.execute("UPDATE envelopes SET body = ? WHERE id = ?", (row["body"], row["id"]))
    return "Envelope 3 (receipt"


def alter_sealed_byte_rechained(box: Box, con: sqlite3.Connection) -> str:
    rows = box.rows(con)
    _flip_sealed_byte(rows[2])
    box.rewrite(con, rows)
    return "has no receipt signed by the tally for it"


def alter_kiosk_column(box: Box, con: sqlite3.Connection) -> str:
    rows = box.rows(con)
    other = next(r["kiosk_id"] for r in rows if r["kiosk_id"] != rows[1]["kiosk_id"])
    con.execute("UPDATE envelopes SET kiosk_id = ? WHERE id = ?", (other, rows[1]["id"]))
    return f"is filed under kiosk {other}"


def alter_kiosk_id_rechained(box: Box, con: sqlite3.Connection) -> str:
    rows = box.rows(con)
    other = next(r["kiosk_id"] for r in rows if r["kiosk_id"] != rows[1]["kiosk_id"])
    _edit_envelope(rows[1], kiosk=other)
    rows[1]["kiosk_id"] = other
    box.rewrite(con, rows)
    return "Envelope 2 (receipt"


def alter_card_rechained(box: Box, con: sqlite3.Connection) -> str:
    rows = box.rows(con)
    assert box.spare is not None
    _edit_envelope(rows[3], card=b64e(box.spare.public_for(box.round_id)))
    box.rewrite(con, rows)
    return "Envelope 4 (receipt"


def _insert(box: Box, con: sqlite3.Connection, fingerprint: str) -> str:
    rows = box.rows(con)
    kiosk_id, ident = box.their_kiosk(con)
    card = new_card(box.meeting)
    box.card_row(con, card, fingerprint)
    row = box.sealed(con, card, kiosk_id, ident)
    row["receipt"] = rows[2]["receipt"]  # they cannot sign one: a copy of another's
    rows.insert(2, row)
    box.rewrite(con, rows)
    return "The ballot card list gives the fingerprint"


def insert_fingerprint_left(box: Box, con: sqlite3.Connection) -> str:
    return _insert(box, con, "left")


def insert_fingerprint_changed(box: Box, con: sqlite3.Connection) -> str:
    return _insert(box, con, "changed")


def reorder_rechained(box: Box, con: sqlite3.Connection) -> str:
    rows = box.rows(con)
    rows[1], rows[3] = rows[3], rows[1]
    box.rewrite(con, rows)
    return "Envelope 2 (receipt"


def card_used_twice(box: Box, con: sqlite3.Connection, card: Card) -> str:
    rows = box.rows(con)
    kiosk_id, ident = box.their_kiosk(con)
    row = box.sealed(con, card, kiosk_id, ident)
    row["receipt"] = rows[0]["receipt"]
    rows.append(row)
    box.rewrite(con, rows)
    return "uses the card that envelope 1 already used"


def card_not_listed(box: Box, con: sqlite3.Connection) -> str:
    """An envelope of a card the card table does not hold, appended with the chain recomputed."""
    rows = box.rows(con)
    kiosk_id, ident = box.their_kiosk(con)
    row = box.sealed(con, new_card(box.meeting), kiosk_id, ident)
    row["receipt"] = rows[0]["receipt"]
    rows.append(row)
    box.rewrite(con, rows)
    return "Envelope 6 (receipt"


def close_record_removed(box: Box, con: sqlite3.Connection) -> str:
    con.execute("DELETE FROM audit_log WHERE action = 'round_closed'")
    return "holds no close record of round"


def round_row_edited(box: Box, con: sqlite3.Connection) -> str:
    con.execute("UPDATE rounds SET accepted = accepted - 1 WHERE id = ?", (box.round_id,))
    return "The round's record says 4 envelopes"


def resign(box: Box, con: sqlite3.Connection, tally: Identity) -> None:
    """What only the operator of the tally can add, holding its key: every receipt signed again at
    its envelope's new entry, and the close record signed again over the box as it now is (with
    the card list's fingerprint as the rows give it), the audit log rechained after it."""
    from keys.audit import next_entry as audit_next
    from keys.closing import close_document, sign_close
    from keys.envelope import make_receipt

    for row in box.rows(con):
        receipt = make_receipt(tally, meeting=box.meeting, round_id=box.round_id,
                               envelope_hash=_envelope_hash(row["body"]), entry=row["entry_hash"])
        con.execute("UPDATE envelopes SET receipt = ? WHERE id = ?",
                    (json.dumps(receipt, sort_keys=True, separators=(",", ":")), row["id"]))
    accepted, head, present, kind = con.execute("SELECT accepted, chain_head, present, kind FROM rounds WHERE id = ?",
                                                (box.round_id,)).fetchone()
    fingerprint = con.execute("SELECT fingerprint FROM credential_list").fetchone()[0]
    desk = [k for (k,) in con.execute("SELECT public_key FROM cards WHERE round_id = ? AND origin = 'desk'",
                                      (box.round_id,))]
    log = [dict(zip(("id", "at", "actor", "action", "detail", "prev", "entry"), r, strict=True))
           for r in con.execute("SELECT id, at, actor, action, detail, prev_hash, entry_hash FROM audit_log")]
    by_prev = {e["prev"]: e for e in log}
    from keys.audit import genesis as audit_genesis

    chain, link = [], audit_genesis(box.meeting)
    while link in by_prev:
        chain.append(by_prev.pop(link))
        link = chain[-1]["entry"]
    at = next(i for i, e in enumerate(chain) if e["action"] == "round_closed"
              and json.loads(e["detail"])["round"] == box.round_id)
    detail = json.loads(chain[at]["detail"])
    detail.update(accepted=accepted, chain_head=head, close=sign_close(tally, close_document(
        meeting=box.meeting, round_id=box.round_id, kind=kind, count=accepted, chain_head=head, present=present,
        credentials_fingerprint=fingerprint, desk_cards=desk, audit_head=chain[at]["prev"])))
    chain[at]["detail"] = json.dumps(detail, ensure_ascii=False, sort_keys=True)
    link = chain[at]["prev"]
    for e in chain[at:]:
        # The record as `tally.store.audit` hashes it; first out of the way of the unique hashes, then into place.
        text = str(e["at"]).replace(" ", "T")
        stamp = (text if "." in text else text + ".000000") + "Z"
        e["prev"], e["entry"] = link, audit_next(link, {"at": stamp, "actor": e["actor"], "action": e["action"],
                                                         "detail": json.loads(e["detail"])})
        link = e["entry"]
        con.execute("UPDATE audit_log SET detail = ?, prev_hash = ?, entry_hash = ? WHERE id = ?",
                    (e["detail"], "x" + str(e["id"]), "y" + str(e["id"]), e["id"]))
    for e in chain[at:]:
        con.execute("UPDATE audit_log SET prev_hash = ?, entry_hash = ? WHERE id = ?", (e["prev"], e["entry"], e["id"]))
    con.execute("UPDATE meeting SET audit_head = ?", (link,))


def operator_insert(box: Box, con: sqlite3.Connection, tally: Identity, position: int) -> str:
    """The operator, with the tally's key, slips a ballot of their own card in at `position` (0 is
    first) and rewrites everything the tally signed to agree; the receipt code of their envelope."""
    rows = box.rows(con)
    kiosk_id, ident = box.their_kiosk(con)
    card = new_card(box.meeting)
    # A card of the list nobody used gives way to theirs, so the list still holds one key per card.
    con.execute("DELETE FROM cards WHERE public_key = (SELECT public_key FROM cards WHERE round_id = ? AND origin = "
                "'list' AND public_key NOT IN (SELECT card FROM card_uses) LIMIT 1)", (box.round_id,))
    box.card_row(con, card, "changed")
    row = box.sealed(con, card, kiosk_id, ident)
    row["receipt"] = "{}"  # signed below, with every other
    rows.insert(position, row)
    box.rewrite(con, rows)
    resign(box, con, tally)
    from keys.envelope import receipt_code

    return receipt_code(_envelope_hash(row["body"]))


Attack = Callable[[Box, sqlite3.Connection], str]
# The database edits of the issue: delete, alter (a byte of the sealed ballot, the kiosk id, the
# card), insert with a recomputed chain (a card row of their own, the list's fingerprint left or
# changed), reorder. A test runs each through the chair's API, `tally rounds count` and count-box.
ATTACKS: dict[str, Attack] = {
    "delete": delete, "delete, chain recomputed": delete_rechained,
    "alter a byte of the sealed ballot": alter_sealed_byte,
    "alter a byte of the sealed ballot, chain recomputed": alter_sealed_byte_rechained,
    "alter the kiosk id of the row": alter_kiosk_column,
    "alter the kiosk id in the envelope, chain recomputed": alter_kiosk_id_rechained,
    "alter the card, chain recomputed": alter_card_rechained,
    "insert, chain recomputed, card list fingerprint left": insert_fingerprint_left,
    "insert, chain recomputed, card list fingerprint changed": insert_fingerprint_changed,
    "reorder, chain recomputed": reorder_rechained,
}
