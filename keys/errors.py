"""Errors raised by `keys`: one small hierarchy so callers can map each to an answer.

Security checks (signatures, envelopes, receipts, sealed data) raise one opaque error each,
chained with `from` to the underlying cause; the message never says which check failed, so an
attacker probing the tally learns nothing from the answer. Messages never contain key material
or passphrases. This module touches nothing: it only defines classes.
"""
from __future__ import annotations


class KeysError(Exception):
    """Base of every error raised by `keys`."""


class Malformed(KeysError, ValueError):
    """Input has the wrong shape: not canonical JSON, bad base64url, wrong size or type."""


class BadSignature(KeysError):
    """A signature (or signed request, or signed document) does not verify."""


class StaleRequest(BadSignature):
    """A correctly signed kiosk request whose time is too far from the verifier's clock.

    A subclass of `BadSignature` so a caller that does not care can treat both alike; a kiosk
    with a drifting clock is a real field problem, and this lets the tally say so.
    """


class BadCiphertext(KeysError):
    """A sealed (HPKE) ciphertext does not open under this key and context."""


class BadEnvelope(KeysError):
    """An envelope failed to parse, verify or open. Deliberately says no more than that."""

    def __init__(self, message: str = "invalid envelope") -> None:
        super().__init__(message)


class BadReceipt(KeysError):
    """A receipt failed to parse or verify, or does not acknowledge the expected envelope."""

    def __init__(self, message: str = "invalid receipt") -> None:
        super().__init__(message)


class KeyStoreError(KeysError):
    """A key file or wrapped key cannot be written or read (wrong passphrase, bad file)."""


class BadPairingOffer(KeysError, ValueError):
    """A pairing offer (URL or QR text) is not well formed, or the tally key does not match it."""
