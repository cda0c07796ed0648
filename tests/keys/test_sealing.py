"""X25519 round keys and HPKE: RFC 7748 vectors and a stored regression vector of the wire format."""
from __future__ import annotations

import pytest

from keys.errors import BadCiphertext, Malformed
from keys.sealing import OVERHEAD, RoundKey, seal

# RFC 7748 section 6.1.
ALICE_PRIVATE = "77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a"
ALICE_PUBLIC = "8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a"
BOB_PRIVATE = "5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb"
BOB_PUBLIC = "de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f"
SHARED = "4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742"

# Generated once with keys.sealing.seal (HPKE X25519/HKDF-SHA256/ChaCha20-Poly1305, base mode)
# to ALICE_PUBLIC; if this stops opening, the wire format has drifted.
REGRESSION_INFO = (
    b'scrutineer/ballot/v1\x00{"card":"uDigj1IDUPpOAiTKFQzjlQFvNq76un28AjSaGgXpWjQ","kiosk":"kiosk-1",'
    b'"meeting":"0123456789abcdef","nonce":"AAAAAAAAAAAAAAAAAAAAAA","round":"r1","v":1}'
)
REGRESSION_PLAINTEXT = '{"round":"r1","sections":{"mayor":["张三"]}}'.encode()
REGRESSION_CIPHERTEXT = bytes.fromhex(
    "9d8aeb3ff9bd98cefa5506379fef77ad3cd7b71bcba91dfd11715c300af16f4ad95daf2d703d2195dbb3d1128db6e0cf"
    "5928eb3d17789054a9f5291f4f4b1f0fe60e741afe1df25a7a5ed1307f274820444e3bdcedbb78472e5ee319ff69"
)


def test_rfc7748_key_derivation_and_exchange() -> None:
    alice = RoundKey.from_private_bytes(bytes.fromhex(ALICE_PRIVATE))
    bob = RoundKey.from_private_bytes(bytes.fromhex(BOB_PRIVATE))
    assert alice.public_bytes().hex() == ALICE_PUBLIC
    assert bob.public_bytes().hex() == BOB_PUBLIC
    assert alice.private_key.exchange(bob.private_key.public_key()).hex() == SHARED


def test_regression_vector_opens() -> None:
    alice = RoundKey.from_private_bytes(bytes.fromhex(ALICE_PRIVATE))
    assert len(REGRESSION_CIPHERTEXT) == OVERHEAD + len(REGRESSION_PLAINTEXT)
    assert alice.open(REGRESSION_CIPHERTEXT, REGRESSION_INFO) == REGRESSION_PLAINTEXT


@pytest.mark.parametrize("info", [
    b"",
    REGRESSION_INFO[:-1],
    REGRESSION_INFO.replace(b'"r1"', b'"r2"'),
    REGRESSION_INFO.replace(b"kiosk-1", b"kiosk-2"),
    REGRESSION_INFO.replace(b"scrutineer/ballot/v1", b"scrutineer/result/v1"),
])
def test_regression_vector_refuses_other_info(info: bytes) -> None:
    alice = RoundKey.from_private_bytes(bytes.fromhex(ALICE_PRIVATE))
    with pytest.raises(BadCiphertext) as caught:
        alice.open(REGRESSION_CIPHERTEXT, info)
    assert caught.value.__cause__ is not None


def test_other_key_cannot_open() -> None:
    bob = RoundKey.from_private_bytes(bytes.fromhex(BOB_PRIVATE))
    with pytest.raises(BadCiphertext):
        bob.open(REGRESSION_CIPHERTEXT, REGRESSION_INFO)


def test_every_flipped_ciphertext_byte_and_every_truncation_is_refused() -> None:
    alice = RoundKey.from_private_bytes(bytes.fromhex(ALICE_PRIVATE))
    for index in range(len(REGRESSION_CIPHERTEXT)):
        tampered = bytearray(REGRESSION_CIPHERTEXT)
        tampered[index] ^= 0x80
        with pytest.raises(BadCiphertext):
            alice.open(bytes(tampered), REGRESSION_INFO)
    for length in range(len(REGRESSION_CIPHERTEXT)):
        with pytest.raises(BadCiphertext):
            alice.open(REGRESSION_CIPHERTEXT[:length], REGRESSION_INFO)


def test_seal_round_trip_is_randomised() -> None:
    key = RoundKey.generate()
    first = seal(key.public_bytes(), b"ballot", b"info")
    second = seal(key.public_bytes(), b"ballot", b"info")
    assert first != second
    assert key.open(first, b"info") == key.open(second, b"info") == b"ballot"


@pytest.mark.parametrize("public", [b"", b"\x01" * 31, b"\x01" * 33, bytes(32), "k" * 32])
def test_seal_refuses_unusable_public_keys(public: bytes) -> None:
    # bytes(32) is a low-order point: sealing to it would use an all-zero shared secret.
    with pytest.raises(Malformed):
        seal(public, b"x", b"info")


def test_round_key_hides_its_secret() -> None:
    key = RoundKey.from_private_bytes(bytes.fromhex(ALICE_PRIVATE))
    assert ALICE_PRIVATE not in repr(key) and ALICE_PRIVATE not in str(key)
    with pytest.raises(Malformed):
        RoundKey.from_private_bytes(b"\0" * 31)
