"""Pairing offers (配对码): how a new kiosk learns where the tally is and whom to trust.

The tally shows `scrutineer-pair:?u=<base URL, urlencoded>&c=<one-time code>&f=<tally key
fingerprint, no spaces>[&t=<TLS certificate fingerprint>]` as a QR code. The kiosk parses it,
POSTs its public key with the code, and checks the tally key it gets back against `f`
(`PairingOffer.check_tally_key`), so a machine impersonating the tally on the LAN is caught.
`t` (only with an `https://` URL) is the SHA-256 of the tally's TLS certificate (64 hex
characters, `tls_fingerprint`): the kiosk pins it and talks to no other certificate. An offer
without `t` (an older offer, or plain HTTP) still parses. Failures raise `BadPairingOffer`.
Touches no network and no files.
"""
from __future__ import annotations

import hashlib
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
_TLS_RE = re.compile(r"[0-9a-f]{64}")
_MAX_URL = 2048

__all__ = ["PairingOffer", "qr_png", "qr_svg", "tls_fingerprint"]


def tls_fingerprint(certificate_der: bytes) -> str:
    """The pin of a TLS certificate: SHA-256 of its DER bytes, 64 lowercase hex characters."""
    return hashlib.sha256(certificate_der).hexdigest()


def _check_tls(value: object) -> str:
    if not isinstance(value, str):
        raise BadPairingOffer("the TLS fingerprint must be 64 hex characters")
    pin = value.replace(":", "").lower()
    if not _TLS_RE.fullmatch(pin):
        raise BadPairingOffer("the TLS fingerprint must be 64 hex characters")
    return pin


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
    """Where the tally is (`url`), a one-time `code`, the tally key's `fingerprint`, and for
    an `https://` tally the SHA-256 `tls` pin of its certificate."""

    url: str
    code: str
    fingerprint: str
    tls: str | None = None

    def __post_init__(self) -> None:
        _check_url(self.url)
        if not isinstance(self.code, str) or not _CODE_RE.fullmatch(self.code):
            raise BadPairingOffer("the pairing code must be 6-128 characters of A-Z a-z 0-9 _ -")
        try:
            grouped = normalize(self.fingerprint)
        except Malformed as exc:
            raise BadPairingOffer("the fingerprint is not 32 base32 characters") from exc
        object.__setattr__(self, "fingerprint", grouped)
        if self.tls is not None:
            if not self.url.startswith("https://"):
                raise BadPairingOffer("a TLS fingerprint goes only with an https:// tally URL")
            object.__setattr__(self, "tls", _check_tls(self.tls))

    def to_url(self) -> str:
        text = f"{SCHEME}:?u={quote(self.url, safe='')}&c={self.code}&f={compact(self.fingerprint)}"
        return text + (f"&t={self.tls}" if self.tls else "")

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
            fields = parse_qs(query, keep_blank_values=True, strict_parsing=True, max_num_fields=4)
        except ValueError as exc:
            raise BadPairingOffer("not a pairing offer") from exc
        if set(fields) - {"t"} != {"u", "c", "f"} or any(len(v) != 1 for v in fields.values()):
            raise BadPairingOffer("a pairing offer has exactly u, c and f (and t for https)")
        return cls(url=fields["u"][0], code=fields["c"][0], fingerprint=fields["f"][0],
                   tls=fields["t"][0] if "t" in fields else None)

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
