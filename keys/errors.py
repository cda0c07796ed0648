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


class WeakPassphrase(KeyStoreError):
    """A passphrase chosen for a key at rest is too short or too easy to guess.

    `reasons` are English message ids (the caller translates them); the passphrase itself is
    never in the message."""

    def __init__(self, reasons: list[str]) -> None:
        super().__init__("; ".join(reasons))
        self.reasons = list(reasons)


class ShareError(KeysError):
    """A scrutineer's key share cannot be used to open a round.

    Unlike an envelope failure this one names what is wrong and whose share it is, because the
    people at the table must know which sheet to look at: `scrutineer` is the share's number
    (None when it could not be read), `round_id` the round it was given for, `reason` one of
    `malformed`, `wrong_meeting`, `wrong_round`, `unknown_scrutineer`, `mismatch`, `duplicate`."""

    def __init__(self, reason: str, *, scrutineer: int | None = None, round_id: str | None = None,
                 share_round: str | None = None) -> None:
        where = f" (scrutineer {scrutineer}, round {round_id})" if scrutineer is not None else ""
        super().__init__(f"share {reason}{where}")
        self.reason = reason
        self.scrutineer = scrutineer
        self.round_id = round_id
        self.share_round = share_round


class NotEnoughShares(ShareError):
    """Fewer valid shares than the quorum: `have` were given, `need` are required."""

    def __init__(self, *, have: int, need: int, round_id: str) -> None:
        super().__init__("not_enough", round_id=round_id)
        self.have = have
        self.need = need
        self.args = (f"{have} of {need} shares for round {round_id}",)
