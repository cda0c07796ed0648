"""Ballot cards: QR text, forgiving parse, key derivation vectors, and a secret that never shows."""
from __future__ import annotations

import base64
import hashlib
import hmac

import pytest

from keys.cards import Card, card_key, check_code, new_card, parse_card
from keys.errors import BadSignature, Malformed
from keys.identity import verify

MEETING = "0123456789abcdef"
SECRET = bytes(range(32))
QR_TEXT = "SCR1.0123456789abcdef.AAAQEAYEAUDAOCAJBIFQYDIOB4IBCEQTCQKRMFYYDENBWHA5DYPQ"
# HKDF-SHA256(ikm=SECRET, salt=b"0123456789abcdef", info=b"scrutineer/card-round-key/v1\0" + round id, 32)
CARD_SEED = {"r1": "aeac009deb84ce7b3fef22ac454d230b068d0afefbbbccabe163399bc624fa58",
             "d1": "96e36327ef710a6ad7e15d6ca2861400d4721ee810d7026270552a37330c53bd"}
CARD_PUBLIC = {"r1": "43e1cd3c3fd2b4d0d0b1d70efd63a153e8dcb0206f6e12a001a995b916575b9e",
               "d1": "059f2b6885ca54cb38a88376495f476b69f5b06db4046a8ce68159c7571be1fe"}


def _hkdf_sha256(ikm: bytes, salt: bytes, info: bytes, length: int) -> bytes:
    """RFC 5869 written out with hmac/hashlib, independent of the code under test."""
    prk = hmac.new(salt, ikm, hashlib.sha256).digest()
    okm, block, counter = b"", b"", 1
    while len(okm) < length:
        block = hmac.new(prk, block + info + bytes([counter]), hashlib.sha256).digest()
        okm, counter = okm + block, counter + 1
    return okm[:length]


@pytest.mark.parametrize("round_id", ["r1", "d1"])
def test_vectors(round_id: str) -> None:
    card = Card(MEETING, SECRET)
    assert card.qr_text == QR_TEXT
    seed = _hkdf_sha256(SECRET, MEETING.encode(), b"scrutineer/card-round-key/v1\0" + round_id.encode(), 32)
    assert seed.hex() == CARD_SEED[round_id]
    key = card_key(SECRET, MEETING, round_id)
    assert key.private_bytes().hex() == CARD_SEED[round_id]
    assert key.public_bytes().hex() == CARD_PUBLIC[round_id] == card.public_for(round_id).hex()
    assert card.identity(round_id).public_bytes() == key.public_bytes()
    assert check_code(SECRET, MEETING) == card.check_code == "BIKS-7KHR"
    check = _hkdf_sha256(SECRET, MEETING.encode(), b"scrutineer/card-check/v1", 5)
    assert card.check_code.replace("-", "") == base64.b32encode(check).decode()


def test_key_depends_on_meeting_round_and_secret() -> None:
    other_meeting = card_key(SECRET, "fedcba9876543210", "r1").public_bytes()
    other_secret = card_key(bytes(31) + b"\1", MEETING, "r1").public_bytes()
    other_round = card_key(SECRET, MEETING, "r2").public_bytes()
    known = {bytes.fromhex(p) for p in CARD_PUBLIC.values()}
    assert len({other_meeting, other_secret, other_round} | known) == 5


def test_round_keys_are_not_prefixes_of_each_other() -> None:
    """The round id ends the HKDF info, so `r1` and `r10` are unrelated keys, as are `r` and `r1`."""
    keys = {card_key(SECRET, MEETING, r).public_bytes() for r in ("r", "r1", "r10", "R1")}
    assert len(keys) == 4


def test_check_code_is_not_derivable_from_the_public_key() -> None:
    """The check code comes from its own HKDF label, not from the public key the tally stores."""
    for public in CARD_PUBLIC.values():
        assert base64.b32encode(bytes.fromhex(public))[:8].decode() != check_code(SECRET, MEETING).replace("-", "")


@pytest.mark.parametrize("text", [
    QR_TEXT,
    QR_TEXT.lower(),
    QR_TEXT + "\n",
    "  " + QR_TEXT + "\r\n",
    "SCR1.0123-4567-89AB-CDEF.AAAQ EAYE AUDA OCAJ BIFQ YDIO B4IB CEQT CQKR MFYY DENB WHA5 DYPQ",
    "scr1.0123456789ABCDEF.aaaq-eaye-auda-ocaj-bifq-ydio-b4ib-ceqt-cqkr-mfyy-denb-wha5-dypq",
])
def test_parse_forgives_scanners_and_typing(text: str) -> None:
    assert parse_card(text) == (MEETING, SECRET)


@pytest.mark.parametrize("text", [
    "",
    "SCR2.0123456789abcdef.AAAQEAYEAUDAOCAJBIFQYDIOB4IBCEQTCQKRMFYYDENBWHA5DYPQ",
    "SCR1.0123456789abcde.AAAQEAYEAUDAOCAJBIFQYDIOB4IBCEQTCQKRMFYYDENBWHA5DYPQ",
    "SCR1.0123456789abcdef.AAAQEAYEAUDAOCAJBIFQYDIOB4IBCEQTCQKRMFYYDENBWHA5DYP",
    "SCR1.0123456789abcdef.AAAQEAYEAUDAOCAJBIFQYDIOB4IBCEQTCQKRMFYYDENBWHA5DYPQA",
    "SCR1.0123456789abcdef.AAAQEAYEAUDAOCAJBIFQYDIOB4IBCEQTCQKRMFYYDENBWHA5DYPR",  # spare bits set
    "SCR1.0123456789abcdef.AAAQEAYEAUDAOCAJBIFQYDIOB4IBCEQTCQKRMFYYDENBWHA5DYP1",  # not base32
    "SCR1.0123456789abcdef.AAAQEAYEAUDAOCAJBIFQYDIOB4IBCEQTCQKRMFYYDENBWHA5DYPQ====",
    "SCR1:0123456789abcdef:AAAQEAYEAUDAOCAJBIFQYDIOB4IBCEQTCQKRMFYYDENBWHA5DYPQ",
    "scrutineer-pair:?u=x",
])
def test_parse_refuses(text: str) -> None:
    with pytest.raises(Malformed):
        parse_card(text)


def test_parse_refuses_non_text() -> None:
    with pytest.raises(Malformed):
        parse_card(QR_TEXT.encode())  # type: ignore[arg-type]


def test_new_cards_round_trip_and_sign() -> None:
    cards = [new_card(MEETING) for _ in range(20)]
    assert len({card.secret for card in cards}) == 20
    for card in cards:
        meeting, secret = parse_card(card.qr_text)
        assert Card(meeting, secret) == card
        verify(card.public_for("r1"), card.identity("r1").sign(b"x"), b"x")
        with pytest.raises(BadSignature):
            verify(card.public_for("d1"), card.identity("r1").sign(b"x"), b"x")


def test_secret_never_in_repr_or_str() -> None:
    card = Card(MEETING, SECRET)
    encoded = QR_TEXT.split(".")[2]
    identity = card.identity("r1")
    for text in (repr(card), str(card), f"{card!r}", repr([card]), repr(identity), str(identity)):
        assert encoded not in text and SECRET.hex() not in text and CARD_SEED["r1"] not in text
        assert str(SECRET) not in text


@pytest.mark.parametrize(("meeting", "secret"), [("0123456789ABCDEF", SECRET), (MEETING, SECRET[:31]), (MEETING, "x" * 32)])
def test_card_refuses_bad_parts(meeting: str, secret: bytes) -> None:
    with pytest.raises(Malformed):
        Card(meeting, secret)
    with pytest.raises(Malformed):
        card_key(secret, meeting, "r1")


@pytest.mark.parametrize("round_id", ["", "r/1", "r 1", "x" * 65, "张三", None, b"r1"])
def test_card_key_refuses_bad_round_ids(round_id: object) -> None:
    with pytest.raises(Malformed):
        card_key(SECRET, MEETING, round_id)  # type: ignore[arg-type]
    with pytest.raises(Malformed):
        Card(MEETING, SECRET).public_for(round_id)  # type: ignore[arg-type]
