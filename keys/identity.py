"""Signing identities (Ed25519): kiosks, the tally, and ballot cards each hold one.

`Identity` wraps a private key and never shows it: its repr is the public fingerprint.
`verify` checks a signature and raises `BadSignature`; it never returns a bool, so a caller
cannot forget to look at the answer. Callers prefix messages with a domain label
(`keys.labels.domain`) before signing. Touches no files and no clock.
"""
from __future__ import annotations

from typing import NoReturn

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat, PublicFormat

from keys.errors import BadSignature, Malformed
from keys.fingerprint import fingerprint

PUBLIC_SIZE = 32
SIGNATURE_SIZE = 64


class Identity:
    """An Ed25519 private key (身份密钥)."""

    __slots__ = ("_key",)

    def __init__(self, key: Ed25519PrivateKey) -> None:
        if not isinstance(key, Ed25519PrivateKey):
            raise TypeError("Identity needs an Ed25519 private key")
        self._key = key

    @classmethod
    def generate(cls) -> Identity:
        return cls(Ed25519PrivateKey.generate())

    @classmethod
    def from_private_bytes(cls, data: bytes) -> Identity:
        """From the 32-byte RFC 8032 seed."""
        if not isinstance(data, (bytes, bytearray)) or len(data) != 32:
            raise Malformed("an Ed25519 private key is 32 bytes")
        return cls(Ed25519PrivateKey.from_private_bytes(bytes(data)))

    @property
    def private_key(self) -> Ed25519PrivateKey:
        """The underlying key object, for the key store."""
        return self._key

    def private_bytes(self) -> bytes:
        """The raw 32-byte seed. Only the key store and tests should need this."""
        return self._key.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())

    def public_bytes(self) -> bytes:
        return self._key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)

    def sign(self, data: bytes) -> bytes:
        return self._key.sign(data)

    def __repr__(self) -> str:
        return f"Identity(fingerprint={fingerprint(self.public_bytes())!r})"

    __str__ = __repr__

    def __reduce__(self) -> NoReturn:
        # Pickling would write the private key somewhere nobody chose; the key store is the way.
        raise TypeError("Identity cannot be pickled; use keys.store")


def public_key(public_bytes: bytes) -> Ed25519PublicKey:
    """Load a raw 32-byte Ed25519 public key; raises `Malformed`."""
    if not isinstance(public_bytes, (bytes, bytearray)) or len(public_bytes) != PUBLIC_SIZE:
        raise Malformed("an Ed25519 public key is 32 bytes")
    try:
        return Ed25519PublicKey.from_public_bytes(bytes(public_bytes))
    except ValueError as exc:
        raise Malformed("not an Ed25519 public key") from exc


def verify(public_bytes: bytes, signature: bytes, data: bytes) -> None:
    """Raise `BadSignature` unless `signature` is `public_bytes`'s signature of `data`."""
    try:
        key = public_key(public_bytes)
        if not isinstance(signature, (bytes, bytearray)) or len(signature) != SIGNATURE_SIZE:
            raise Malformed("an Ed25519 signature is 64 bytes")
        key.verify(bytes(signature), data)
    except (InvalidSignature, Malformed, TypeError) as exc:
        raise BadSignature("signature does not verify") from exc
