"""Pairing offers (配对码): how a new kiosk learns where the tally is and whom to trust.

The tally shows `scrutineer-pair:?u=<base URL, urlencoded>&c=<one-time code>&f=<tally key
fingerprint, no spaces>` as a QR code. The kiosk parses it, POSTs its public key with the code,
and checks the tally key it gets back against `f` (`PairingOffer.check_tally_key`), so a
machine impersonating the tally on the LAN is caught. Failures raise `BadPairingOffer`.
Touches no network and no files.
"""
from __future__ import annotations

import hmac
import re
from dataclasses import dataclass
from urllib.parse import parse_qs, quote, urlsplit

from keys.errors import BadPairingOffer, Malformed
from keys.fingerprint import compact, normalize
from keys.fingerprint import fingerprint as key_fingerprint
from keys.qr import qr_png, qr_svg

SCHEME = "scrutineer-pair"
_CODE_RE = re.compile(r"[A-Za-z0-9_-]{6,128}")
_MAX_URL = 2048

__all__ = ["PairingOffer", "qr_png", "qr_svg"]


def _check_url(url: object) -> str:
    if not isinstance(url, str) or not url or len(url) > _MAX_URL:
        raise BadPairingOffer("the tally URL is missing or too long")
    if not (url.isascii() and url.isprintable()):
        # A LAN address is plain ASCII; anything else is a scanning error or a lookalike host.
        raise BadPairingOffer("the tally URL must be printable ASCII")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise BadPairingOffer("the tally URL must be http:// or https:// with a host")
    if parts.username is not None or parts.query or parts.fragment or any(c.isspace() for c in url):
        raise BadPairingOffer("the tally URL must be a plain base URL")
    try:
        parts.port  # noqa: B018 - raises on a bad port
    except ValueError as exc:
        raise BadPairingOffer("the tally URL has a bad port") from exc
    return url


@dataclass(frozen=True)
class PairingOffer:
    """Where the tally is (`url`), a one-time `code`, and the tally key's `fingerprint`."""

    url: str
    code: str
    fingerprint: str

    def __post_init__(self) -> None:
        _check_url(self.url)
        if not isinstance(self.code, str) or not _CODE_RE.fullmatch(self.code):
            raise BadPairingOffer("the pairing code must be 6-128 characters of A-Z a-z 0-9 _ -")
        try:
            grouped = normalize(self.fingerprint)
        except Malformed as exc:
            raise BadPairingOffer("the fingerprint is not 32 base32 characters") from exc
        object.__setattr__(self, "fingerprint", grouped)

    def to_url(self) -> str:
        return f"{SCHEME}:?u={quote(self.url, safe='')}&c={self.code}&f={compact(self.fingerprint)}"

    @classmethod
    def parse(cls, text: str) -> PairingOffer:
        """Parse scanned or pasted offer text; surrounding whitespace is forgiven."""
        if not isinstance(text, str) or len(text) > 3 * _MAX_URL:
            raise BadPairingOffer("not a pairing offer")
        text = text.strip()
        head, sep, query = text.partition(":?")
        if not sep or head.lower() != SCHEME:
            raise BadPairingOffer("not a pairing offer")
        try:
            fields = parse_qs(query, keep_blank_values=True, strict_parsing=True, max_num_fields=3)
        except ValueError as exc:
            raise BadPairingOffer("not a pairing offer") from exc
        if set(fields) != {"u", "c", "f"} or any(len(v) != 1 for v in fields.values()):
            raise BadPairingOffer("a pairing offer has exactly u, c and f")
        return cls(url=fields["u"][0], code=fields["c"][0], fingerprint=fields["f"][0])

    def check_tally_key(self, public_bytes: bytes) -> None:
        """Raise `BadPairingOffer` unless `public_bytes` has this offer's fingerprint."""
        try:
            actual = compact(key_fingerprint(public_bytes))
        except Malformed as exc:
            raise BadPairingOffer("the tally key does not match the pairing offer") from exc
        if not hmac.compare_digest(actual, compact(self.fingerprint)):
            raise BadPairingOffer("the tally key does not match the pairing offer")

    def qr_svg(self) -> str:
        return qr_svg(self.to_url())

    def qr_png(self) -> bytes:
        return qr_png(self.to_url())
