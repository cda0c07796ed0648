"""Ballot cards: QR text, forgiving parse, key derivation vectors, and a secret that never shows."""
from __future__ import annotations

import base64

import pytest

from keys.cards import Card, card_key, check_code, new_card, parse_card
from keys.errors import Malformed
from keys.identity import verify

MEETING = "0123456789abcdef"
SECRET = bytes(range(32))
QR_TEXT = "SCR1.0123456789abcdef.AAAQEAYEAUDAOCAJBIFQYDIOB4IBCEQTCQKRMFYYDENBWHA5DYPQ"
# HKDF-SHA256(ikm=SECRET, salt=b"0123456789abcdef", info=b"scrutineer/card-key/v1", 32)
CARD_SEED = "9971f8d7391f0fad6a746d9b0f050397c1f6d64046baa4c1e4b543ce5c251fe4"
CARD_PUBLIC = "b838a08f520350fa4e0224ca150ce395016f36aefaba7dbc02349a1a05e95a34"


def test_vectors() -> None:
    card = Card(MEETING, SECRET)
    assert card.qr_text == QR_TEXT
    key = card_key(SECRET, MEETING)
    assert key.private_bytes().hex() == CARD_SEED
    assert key.public_bytes().hex() == CARD_PUBLIC == card.public_bytes.hex()
    assert check_code(SECRET, MEETING) == card.check_code == "BIKS-7KHR"


def test_key_depends_on_meeting_and_secret() -> None:
    other_meeting = card_key(SECRET, "fedcba9876543210").public_bytes()
    other_secret = card_key(bytes(31) + b"\1", MEETING).public_bytes()
    assert len({other_meeting, other_secret, bytes.fromhex(CARD_PUBLIC)}) == 3


def test_check_code_is_not_derivable_from_the_public_key() -> None:
    """The check code comes from its own HKDF label, not from the public key the tally stores."""
    public = bytes.fromhex(CARD_PUBLIC)
    assert base64.b32encode(public)[:8].decode() != check_code(SECRET, MEETING).replace("-", "")


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
        verify(card.public_bytes, card.identity().sign(b"x"), b"x")


def test_secret_never_in_repr_or_str() -> None:
    card = Card(MEETING, SECRET)
    encoded = QR_TEXT.split(".")[2]
    identity = card.identity()
    for text in (repr(card), str(card), f"{card!r}", repr([card]), repr(identity), str(identity)):
        assert encoded not in text and SECRET.hex() not in text and CARD_SEED not in text
        assert str(SECRET) not in text


@pytest.mark.parametrize(("meeting", "secret"), [("0123456789ABCDEF", SECRET), (MEETING, SECRET[:31]), (MEETING, "x" * 32)])
def test_card_refuses_bad_parts(meeting: str, secret: bytes) -> None:
    with pytest.raises(Malformed):
        Card(meeting, secret)
    with pytest.raises(Malformed):
        card_key(secret, meeting)
