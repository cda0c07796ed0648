"""Ballot cards (选票凭证卡): one-time credentials printed as QR codes.

A card is a secret `S` (32 random bytes) for one meeting, printed as
`SCR1.<meeting id>.<base32(S), no padding>`. It signs with a different Ed25519 key in every
round, derived from `S` (HKDF-SHA256, salt = meeting id, info = `scrutineer/card-round-key/v1`,
NUL, round id); the tally keeps only the public keys, one unlinked row per round, so one
voter's envelopes in two rounds carry keys that nothing but `S` ties together. The check code
on the card face comes from `S` through a different HKDF label, so the tally, knowing only
public keys, cannot link a printed check code to an envelope.

The secret never appears in a repr or str. Touches no files and no clock.
"""
from __future__ import annotations

import base64
import binascii
import os
import re
from dataclasses import dataclass, field

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from keys import labels
from keys.errors import Malformed
from keys.identity import Identity
from keys.ids import check_meeting, check_name

PREFIX = "SCR1"
SECRET_SIZE = 32
_B32_LEN = 52  # 32 bytes in base32 without its 4 padding characters
_CARD_RE = re.compile(r"SCR1\.([0-9A-F]{16})\.([A-Z2-7]{52})")


def _hkdf(secret: bytes, meeting_id: str, info: bytes, length: int) -> bytes:
    if not isinstance(secret, (bytes, bytearray)) or len(secret) != SECRET_SIZE:
        raise Malformed("a card secret is 32 bytes")
    check_meeting(meeting_id)
    return HKDF(algorithm=hashes.SHA256(), length=length, salt=meeting_id.encode("ascii"),
                info=info).derive(bytes(secret))


def card_key(secret: bytes, meeting_id: str, round_id: str) -> Identity:
    """The card's Ed25519 signing identity for one round, derived from its secret, meeting and round.

    Each round gets its own key so that the public keys a card shows in two rounds cannot be
    linked without the secret."""
    check_name(round_id, "round")
    info = labels.domain(labels.CARD_ROUND_KEY, round_id.encode("ascii"))
    return Identity.from_private_bytes(_hkdf(secret, meeting_id, info, 32))


def check_code(secret: bytes, meeting_id: str) -> str:
    """The short code printed on the card face and shown by the kiosk after a scan (`ABCD-EFGH`)."""
    text = base64.b32encode(_hkdf(secret, meeting_id, labels.CARD_CHECK.encode("ascii"), 5)).decode("ascii")
    return f"{text[:4]}-{text[4:]}"


@dataclass(frozen=True)
class Card:
    """A ballot card: the meeting it belongs to and its secret (never shown in repr)."""

    meeting_id: str
    secret: bytes = field(repr=False)

    def __post_init__(self) -> None:
        check_meeting(self.meeting_id)
        if not isinstance(self.secret, bytes) or len(self.secret) != SECRET_SIZE:
            raise Malformed("a card secret is 32 bytes")

    @property
    def qr_text(self) -> str:
        """What the QR code carries; it holds the secret, so print it, never log it."""
        encoded = base64.b32encode(self.secret).decode("ascii").rstrip("=")
        return f"{PREFIX}.{self.meeting_id}.{encoded}"

    def public_for(self, round_id: str) -> bytes:
        """The card's public key in one round: all the tally stores (one row per round)."""
        return card_key(self.secret, self.meeting_id, round_id).public_bytes()

    @property
    def check_code(self) -> str:
        return check_code(self.secret, self.meeting_id)

    def identity(self, round_id: str) -> Identity:
        """The key that signs this card's envelope in `round_id`."""
        return card_key(self.secret, self.meeting_id, round_id)


def printed_number(qr_text: str) -> str:
    """What a voter types when the QR code cannot be scanned, as a card prints it under the code:
    the QR's text with its secret in groups of four (`parse_card` ignores the spaces)."""
    head, _, secret = qr_text.rpartition(".")
    return f"{head}. " + " ".join(secret[i:i + 4] for i in range(0, len(secret), 4))


def new_card(meeting_id: str) -> Card:
    """A fresh card with a random secret."""
    return Card(meeting_id=check_meeting(meeting_id), secret=os.urandom(SECRET_SIZE))


def parse_card(text: str) -> tuple[str, bytes]:
    """`(meeting_id, secret)` from scanned or typed card text.

    Case, spaces, dashes and a trailing newline are forgiven so a USB scanner that types, or a
    person reading the card aloud, both work; anything else raises `Malformed`.
    """
    if not isinstance(text, str):
        raise Malformed("card text must be a string")
    cleaned = re.sub(r"[\s\-]", "", text).upper()
    match = _CARD_RE.fullmatch(cleaned)
    if not match:
        raise Malformed("not a Scrutineer ballot card")
    meeting_id, encoded = match.group(1).lower(), match.group(2)
    try:
        secret = base64.b32decode(encoded + "====")
    except (binascii.Error, ValueError) as exc:
        raise Malformed("not a Scrutineer ballot card") from exc
    if base64.b32encode(secret).decode("ascii").rstrip("=") != encoded:
        raise Malformed("not a Scrutineer ballot card")
    return meeting_id, secret
