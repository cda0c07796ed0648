"""Envelopes (选票信封) and receipts (回执): the wire format of one cast ballot.

A kiosk seals a ballot to the round's key with HPKE, binding meeting, round, kiosk, a random
nonce and the card's public key through `info`; then the kiosk and the card each sign the exact
envelope bytes `E`. The tally parses, verifies and later opens it, and answers with a signed
receipt naming the envelope hash and the ballot box chain entry.

Every failure to parse, verify or open an envelope is the one opaque `BadEnvelope`, chained
with `from`; every failure of a receipt is `BadReceipt`. Nothing here decides whether a kiosk
is paired, a card unused or a round open: that is the tally's business. No I/O, no clock.
"""
from __future__ import annotations

import base64
import hashlib
import os
from dataclasses import dataclass, field
from typing import Any

from keys import labels
from keys.canonical import b64d, b64e, canonical, parse_canonical
from keys.errors import BadCiphertext, BadEnvelope, BadReceipt, BadSignature, Malformed
from keys.identity import SIGNATURE_SIZE, Identity, verify
from keys.ids import check_hash, check_meeting, check_name
from keys.sealing import OVERHEAD, RoundKey, seal

VERSION = 1
NONCE_SIZE = 16
MAX_SEALED = 64 * 1024
# Generous bound on E before it is parsed: the sealed field in base64 plus the short header.
MAX_ENVELOPE_BYTES = (MAX_SEALED * 4) // 3 + 1024
_BODY_KEYS = frozenset({"envelope", "kiosk_sig", "card_sig"})
_ENVELOPE_KEYS = frozenset({"v", "meeting", "round", "kiosk", "nonce", "card", "sealed"})
_RECEIPT_BODY_KEYS = frozenset({"receipt", "sig"})
_RECEIPT_KEYS = frozenset({"v", "type", "meeting", "round", "envelope", "entry"})
_MAX_RECEIPT_B64 = 4096


def receipt_code(envelope_hash_hex: str) -> str:
    """The voter's short receipt code (回执码), `ABCD-EFGH`: the envelope hash's first 40 bits."""
    digest = bytes.fromhex(check_hash(envelope_hash_hex, "envelope hash"))
    text = base64.b32encode(digest).decode("ascii")[:8]
    return f"{text[:4]}-{text[4:]}"


def ballot_info(meeting: str, round_id: str, kiosk_id: str, nonce_b64: str, card_b64: str) -> bytes:
    """The HPKE `info` that binds a sealed ballot to its envelope's context."""
    context = {"v": VERSION, "meeting": meeting, "round": round_id, "kiosk": kiosk_id,
               "nonce": nonce_b64, "card": card_b64}
    return labels.domain(labels.BALLOT, canonical(context))


@dataclass(frozen=True)
class SealedEnvelope:
    """What a kiosk keeps in its outbox and POSTs: `body` plus what the voter is shown."""

    body: dict[str, str]
    envelope_bytes: bytes = field(repr=False)
    envelope_hash: str
    receipt_code: str


@dataclass(frozen=True)
class EnvelopeHeader:
    """A parsed envelope: its decoded fields and the exact bytes that were signed."""

    meeting: str
    round_id: str
    kiosk_id: str
    nonce: bytes
    card_public: bytes
    sealed: bytes = field(repr=False)
    envelope_bytes: bytes = field(repr=False)
    kiosk_sig: bytes = field(repr=False)
    card_sig: bytes = field(repr=False)

    @property
    def envelope_hash(self) -> str:
        """Hex SHA-256 of `E`: what the receipt and the ballot box chain refer to."""
        return hashlib.sha256(self.envelope_bytes).hexdigest()

    @property
    def receipt_code(self) -> str:
        return receipt_code(self.envelope_hash)

    @property
    def ballot_size(self) -> int:
        """The padded plaintext's length: what the sealed ballot's length says (the round's size)."""
        return len(self.sealed) - OVERHEAD

    @property
    def info(self) -> bytes:
        return ballot_info(self.meeting, self.round_id, self.kiosk_id, b64e(self.nonce), b64e(self.card_public))


MAX_BALLOT = MAX_SEALED - OVERHEAD  # the largest padded plaintext a sealed ballot can hold


def pad(plaintext: bytes, size: int) -> bytes:
    """NUL bytes up to exactly `size`: every sealed ballot of a round has its round's one size
    (computed by the tally from the plan and signed in the round's form), so a sealed ballot's
    length tells nothing about what is on it. Canonical JSON never contains a raw NUL, so
    `unpad` is exact."""
    if type(size) is not int or not 0 < size <= MAX_BALLOT:
        raise Malformed("the ballot size must be a positive number of bytes within the sealed limit")
    if len(plaintext) > size:
        raise Malformed("the ballot is larger than its round's ballot size")
    return plaintext + b"\0" * (size - len(plaintext))


def unpad(plaintext: bytes) -> bytes:
    return plaintext.rstrip(b"\0")


def seal_envelope(
    *,
    meeting: str,
    round_id: str,
    kiosk_id: str,
    kiosk_identity: Identity,
    card_key: Identity,
    round_public: bytes,
    ballot: dict[str, Any],
    ballot_size: int,
) -> SealedEnvelope:
    """Seal `ballot` (one line of the ballot file) for `round_id`, signed by kiosk and card,
    padded to exactly `ballot_size` bytes (the round's size, from its signed form): `Malformed`
    if the ballot does not fit."""
    check_meeting(meeting)
    check_name(round_id, "round")
    check_name(kiosk_id, "kiosk")
    if not isinstance(ballot, dict) or ballot.get("round") != round_id:
        raise Malformed("the ballot's round must be the envelope's round")
    plaintext = pad(canonical(ballot), ballot_size)
    nonce = b64e(os.urandom(NONCE_SIZE))
    card = b64e(card_key.public_bytes())
    sealed = seal(round_public, plaintext, ballot_info(meeting, round_id, kiosk_id, nonce, card))
    envelope = canonical({"v": VERSION, "meeting": meeting, "round": round_id, "kiosk": kiosk_id,
                          "nonce": nonce, "card": card, "sealed": b64e(sealed)})
    body = {
        "envelope": b64e(envelope),
        "kiosk_sig": b64e(kiosk_identity.sign(labels.domain(labels.ENVELOPE, envelope))),
        "card_sig": b64e(card_key.sign(labels.domain(labels.CARD, envelope))),
    }
    envelope_hash = hashlib.sha256(envelope).hexdigest()
    return SealedEnvelope(body=body, envelope_bytes=envelope, envelope_hash=envelope_hash,
                          receipt_code=receipt_code(envelope_hash))


def _sized(text: object, size: int) -> bytes:
    data = b64d(text)  # type: ignore[arg-type]
    if len(data) != size:
        raise Malformed("wrong size")
    return data


def _parse(body: object) -> EnvelopeHeader:
    if not isinstance(body, dict) or set(body) != _BODY_KEYS:
        raise Malformed("envelope body must have exactly envelope, kiosk_sig, card_sig")
    encoded = body["envelope"]
    if not isinstance(encoded, str) or len(encoded) > (MAX_ENVELOPE_BYTES * 4) // 3 + 4:
        raise Malformed("envelope too large")
    envelope = b64d(encoded)
    kiosk_sig = _sized(body["kiosk_sig"], SIGNATURE_SIZE)
    card_sig = _sized(body["card_sig"], SIGNATURE_SIZE)
    fields = parse_canonical(envelope)
    if not isinstance(fields, dict) or set(fields) != _ENVELOPE_KEYS:
        raise Malformed("envelope has the wrong fields")
    version = fields["v"]
    if type(version) is not int or version != VERSION:  # True == 1, so check the type too
        raise Malformed("unsupported envelope version")
    sealed = b64d(fields["sealed"])
    if not OVERHEAD < len(sealed) <= MAX_SEALED:
        raise Malformed("sealed ballot has the wrong size")
    return EnvelopeHeader(
        meeting=check_meeting(fields["meeting"]),
        round_id=check_name(fields["round"], "round"),
        kiosk_id=check_name(fields["kiosk"], "kiosk"),
        nonce=_sized(fields["nonce"], NONCE_SIZE),
        card_public=_sized(fields["card"], 32),
        sealed=sealed,
        envelope_bytes=envelope,
        kiosk_sig=kiosk_sig,
        card_sig=card_sig,
    )


def parse_envelope(body: object) -> EnvelopeHeader:
    """Check the shape of a received envelope body and decode it; no key needed."""
    try:
        return _parse(body)
    except (Malformed, TypeError, ValueError) as exc:
        raise BadEnvelope() from exc


def verify_envelope(header: EnvelopeHeader, kiosk_public: bytes) -> None:
    """Check the kiosk's and the card's signatures over `E`; raises `BadEnvelope`."""
    try:
        verify(kiosk_public, header.kiosk_sig, labels.domain(labels.ENVELOPE, header.envelope_bytes))
        verify(header.card_public, header.card_sig, labels.domain(labels.CARD, header.envelope_bytes))
    except BadSignature as exc:
        raise BadEnvelope() from exc


def open_envelope(header: EnvelopeHeader, round_key: RoundKey) -> dict[str, Any]:
    """Open the sealed ballot with the round's key; it must be canonical and name this round."""
    try:
        plaintext = round_key.open(header.sealed, header.info)
        ballot = parse_canonical(unpad(plaintext))
        if not isinstance(ballot, dict) or ballot.get("round") != header.round_id:
            raise Malformed("ballot is for another round")
    except (BadCiphertext, Malformed) as exc:
        raise BadEnvelope() from exc
    return ballot


def make_receipt(
    tally_identity: Identity, *, meeting: str, round_id: str, envelope_hash: str, entry: str
) -> dict[str, str]:
    """The tally's signed acknowledgement (回执) of one accepted envelope."""
    receipt = canonical({
        "v": VERSION, "type": "receipt",
        "meeting": check_meeting(meeting), "round": check_name(round_id, "round"),
        "envelope": check_hash(envelope_hash, "envelope hash"), "entry": check_hash(entry, "chain entry"),
    })
    return {"receipt": b64e(receipt), "sig": b64e(tally_identity.sign(labels.domain(labels.RECEIPT, receipt)))}


def _parse_receipt(body: object, tally_public: bytes) -> dict[str, Any]:
    if not isinstance(body, dict) or set(body) != _RECEIPT_BODY_KEYS:
        raise Malformed("receipt body must have exactly receipt, sig")
    encoded = body["receipt"]
    if not isinstance(encoded, str) or len(encoded) > _MAX_RECEIPT_B64:
        raise Malformed("receipt too large")
    receipt = b64d(encoded)
    verify(tally_public, _sized(body["sig"], SIGNATURE_SIZE), labels.domain(labels.RECEIPT, receipt))
    fields = parse_canonical(receipt)
    if not isinstance(fields, dict) or set(fields) != _RECEIPT_KEYS:
        raise Malformed("receipt has the wrong fields")
    if type(fields["v"]) is not int or fields["v"] != VERSION or fields["type"] != "receipt":
        raise Malformed("not a version 1 receipt")
    check_meeting(fields["meeting"])
    check_name(fields["round"], "round")
    check_hash(fields["envelope"], "envelope hash")
    check_hash(fields["entry"], "chain entry")
    return fields


def verify_receipt(
    body: object,
    tally_public: bytes,
    envelope_hash: str,
    *,
    meeting: str | None = None,
    round_id: str | None = None,
) -> dict[str, Any]:
    """Check the tally's signature and that the receipt acknowledges `envelope_hash`
    (and, when given, this meeting and round). Returns the receipt's fields."""
    try:
        fields = _parse_receipt(body, tally_public)
        if fields["envelope"] != envelope_hash:
            raise Malformed("receipt is for another envelope")
        if meeting is not None and fields["meeting"] != meeting:
            raise Malformed("receipt is for another meeting")
        if round_id is not None and fields["round"] != round_id:
            raise Malformed("receipt is for another round")
    except (Malformed, BadSignature, TypeError, ValueError) as exc:
        raise BadReceipt() from exc
    return fields
