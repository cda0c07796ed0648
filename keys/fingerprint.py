"""Key fingerprints (指纹): what a person reads aloud or compares on two screens.

`fingerprint(public) = base32(sha256(b"scrutineer/fingerprint/v1\\0" + public)[:20])` shown as
8 groups of 4 (`ABCD EFGH ...`, 160 bits). `compact` drops the spaces (for URLs);
`normalize` accepts either spelling, any case, and returns the grouped one. Touches nothing.
"""
from __future__ import annotations

import base64
import hashlib
import re

from keys import labels
from keys.errors import Malformed

_COMPACT = re.compile(r"[A-Z2-7]{32}")


def fingerprint(public_bytes: bytes) -> str:
    """Fingerprint of a raw 32-byte public key (Ed25519 or X25519)."""
    if not isinstance(public_bytes, (bytes, bytearray)) or len(public_bytes) != 32:
        raise Malformed("a public key is 32 bytes")
    digest = hashlib.sha256(labels.domain(labels.FINGERPRINT, bytes(public_bytes))).digest()[:20]
    text = base64.b32encode(digest).decode("ascii")
    return " ".join(text[i : i + 4] for i in range(0, 32, 4))


def document_fingerprint(label: str, data: bytes) -> str:
    """The fingerprint of a public document (a meeting record, a card list): the same shape as a
    key's, over `label`, NUL and the document's canonical bytes."""
    digest = hashlib.sha256(labels.domain(label, bytes(data))).digest()[:20]
    text = base64.b32encode(digest).decode("ascii")
    return " ".join(text[i : i + 4] for i in range(0, 32, 4))


def compact(fp: str) -> str:
    """The fingerprint without spaces: 32 base32 characters."""
    return normalize(fp).replace(" ", "")


def normalize(text: str) -> str:
    """Accept a fingerprint with or without spaces/dashes, any case; return the grouped form."""
    if not isinstance(text, str):
        raise Malformed("a fingerprint is text")
    raw = re.sub(r"[\s-]", "", text).upper()
    if not _COMPACT.fullmatch(raw):
        raise Malformed("a fingerprint is 32 base32 characters")
    return " ".join(raw[i : i + 4] for i in range(0, 32, 4))
