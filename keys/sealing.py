"""Sealing keys (X25519) and HPKE (RFC 9180): how a ballot is sealed to its round.

One suite only: DHKEM(X25519, HKDF-SHA256), HKDF-SHA256, ChaCha20-Poly1305, base mode,
single shot. `cryptography`'s HPKE has no AAD argument, so everything the ciphertext must be
bound to goes into `info`. A failure to open raises `BadCiphertext` and says nothing else.
`RoundKey` never shows its private half. Touches no files and no clock.
"""
from __future__ import annotations

from typing import NoReturn

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hpke
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat, PublicFormat

from keys.errors import BadCiphertext, Malformed
from keys.fingerprint import fingerprint

SUITE = hpke.Suite(hpke.KEM.X25519, hpke.KDF.HKDF_SHA256, hpke.AEAD.CHACHA20_POLY1305)
PUBLIC_SIZE = 32
OVERHEAD = 32 + 16  # encapsulated key + Poly1305 tag


class RoundKey:
    """An X25519 private key that opens the ballots of one round (轮次密钥)."""

    __slots__ = ("_key",)

    def __init__(self, key: X25519PrivateKey) -> None:
        if not isinstance(key, X25519PrivateKey):
            raise TypeError("RoundKey needs an X25519 private key")
        self._key = key

    @classmethod
    def generate(cls) -> RoundKey:
        return cls(X25519PrivateKey.generate())

    @classmethod
    def from_private_bytes(cls, data: bytes) -> RoundKey:
        if not isinstance(data, (bytes, bytearray)) or len(data) != 32:
            raise Malformed("an X25519 private key is 32 bytes")
        return cls(X25519PrivateKey.from_private_bytes(bytes(data)))

    @property
    def private_key(self) -> X25519PrivateKey:
        """The underlying key object, for the key store."""
        return self._key

    def private_bytes(self) -> bytes:
        return self._key.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())

    def public_bytes(self) -> bytes:
        return self._key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)

    def open(self, ciphertext: bytes, info: bytes) -> bytes:
        """HPKE-open `ciphertext` sealed to this key with exactly this `info`."""
        try:
            return SUITE.decrypt(bytes(ciphertext), self._key, bytes(info))
        except (InvalidTag, ValueError, TypeError) as exc:
            raise BadCiphertext("cannot open") from exc

    def __repr__(self) -> str:
        return f"RoundKey(fingerprint={fingerprint(self.public_bytes())!r})"

    __str__ = __repr__

    def __reduce__(self) -> NoReturn:
        raise TypeError("RoundKey cannot be pickled; use keys.store")


def seal(public_bytes: bytes, plaintext: bytes, info: bytes) -> bytes:
    """HPKE-seal `plaintext` to the X25519 key `public_bytes`, bound to `info`.

    Output is the 32-byte encapsulated key followed by the AEAD ciphertext and tag.
    """
    if not isinstance(public_bytes, (bytes, bytearray)) or len(public_bytes) != PUBLIC_SIZE:
        raise Malformed("an X25519 public key is 32 bytes")
    try:
        key = X25519PublicKey.from_public_bytes(bytes(public_bytes))
        return SUITE.encrypt(bytes(plaintext), key, bytes(info))
    except ValueError as exc:
        # A low-order point gives an all-zero shared secret; cryptography refuses it here.
        raise Malformed("not a usable X25519 public key") from exc
