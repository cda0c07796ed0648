"""Ed25519 identities: RFC 8032 vectors, refusals, and no secret in any repr."""
from __future__ import annotations

import copy
import pickle

import pytest

from keys.errors import BadSignature, Malformed
from keys.identity import Identity, verify

# RFC 8032 section 7.1, TEST 1-3: (secret key, public key, message, signature).
RFC8032 = [
    ("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
     "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a", "",
     "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b"),
    ("4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb",
     "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c", "72",
     "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00"),
    ("c5aa8df43f9f837bedb7442f31dcb7b166d38535076f094b85ce3a2e0b4458f7",
     "fc51cd8e6218a1a38da47ed00230f0580816ed13ba3303ac5deb911548908025", "af82",
     "6291d657deec24024827e69c3abe01a30ce548a284743a445e3680d7db5ac3ac18ff9b538d16f290ae67f760984dc6594a7c15e9716ed28dc027beceea1ec40a"),
]


@pytest.mark.parametrize(("secret", "public", "message", "signature"), RFC8032)
def test_rfc8032_vectors(secret: str, public: str, message: str, signature: str) -> None:
    identity = Identity.from_private_bytes(bytes.fromhex(secret))
    assert identity.public_bytes().hex() == public
    assert identity.private_bytes().hex() == secret
    assert identity.sign(bytes.fromhex(message)).hex() == signature
    verify(bytes.fromhex(public), bytes.fromhex(signature), bytes.fromhex(message))


@pytest.mark.parametrize(("secret", "public", "message", "signature"), RFC8032)
def test_rfc8032_signature_refused_for_other_message(secret: str, public: str, message: str, signature: str) -> None:
    with pytest.raises(BadSignature):
        verify(bytes.fromhex(public), bytes.fromhex(signature), bytes.fromhex(message) + b"\0")


def test_every_flipped_signature_byte_is_refused() -> None:
    public, message, signature = bytes.fromhex(RFC8032[2][1]), bytes.fromhex(RFC8032[2][2]), bytes.fromhex(RFC8032[2][3])
    for index in range(len(signature)):
        tampered = bytearray(signature)
        tampered[index] ^= 0x01
        with pytest.raises(BadSignature):
            verify(public, bytes(tampered), message)


@pytest.mark.parametrize(("public", "signature"), [
    (b"\0" * 31, b"\0" * 64),     # short key
    (b"\0" * 33, b"\0" * 64),     # long key
    (bytes.fromhex(RFC8032[0][1]), b"\0" * 63),
    (bytes.fromhex(RFC8032[0][1]), bytes.fromhex(RFC8032[0][3])[:-1]),
    ("not bytes", b"\0" * 64),
])
def test_wrong_sizes_are_bad_signatures(public: bytes, signature: bytes) -> None:
    with pytest.raises(BadSignature) as caught:
        verify(public, signature, b"")
    assert caught.value.__cause__ is not None


def test_signature_under_another_key_is_refused() -> None:
    other = Identity.generate()
    with pytest.raises(BadSignature):
        verify(other.public_bytes(), bytes.fromhex(RFC8032[0][3]), b"")


@pytest.mark.parametrize("data", [b"", b"\0" * 31, b"\0" * 33, "x" * 32])
def test_private_bytes_size_is_checked(data: bytes) -> None:
    with pytest.raises(Malformed):
        Identity.from_private_bytes(data)


def test_secret_never_shows() -> None:
    secret = bytes.fromhex(RFC8032[0][0])
    identity = Identity.from_private_bytes(secret)
    for text in (repr(identity), str(identity), f"{identity}", repr([identity])):
        assert RFC8032[0][0] not in text
        assert "fingerprint" in text
    with pytest.raises(TypeError):
        pickle.dumps(identity)
    with pytest.raises(TypeError):
        copy.deepcopy(identity)


def test_generated_identities_differ_and_sign() -> None:
    a, b = Identity.generate(), Identity.generate()
    assert a.public_bytes() != b.public_bytes()
    verify(a.public_bytes(), a.sign(b"x"), b"x")
    with pytest.raises(BadSignature):
        verify(b.public_bytes(), a.sign(b"x"), b"x")
