"""Pairing offers and QR images: URL round trip, strict parsing, and images that match the code."""
from __future__ import annotations

import re
import struct
import xml.etree.ElementTree as ET
import zlib

import png  # pypng: the PNG writer qrcode uses without pillow; here it reads the image back
import pytest
import qrcode
import qrcode.constants

from keys.errors import BadPairingOffer
from keys.fingerprint import fingerprint
from keys.identity import Identity
from keys.pairing import PairingOffer
from keys.qr import qr_png, qr_svg

TALLY = Identity.from_private_bytes(bytes(range(32)))
FP = fingerprint(TALLY.public_bytes())


def offer(**change: str) -> PairingOffer:
    fields = {"url": "http://192.168.1.10:5000", "code": "Xk3-9_aa", "fingerprint": FP, **change}
    return PairingOffer(**fields)


def test_url_round_trip() -> None:
    original = offer(url="https://tally.local:8443/hall-2")
    url = original.to_url()
    assert url == ("scrutineer-pair:?u=https%3A%2F%2Ftally.local%3A8443%2Fhall-2&c=Xk3-9_aa&f="
                   + FP.replace(" ", ""))
    assert PairingOffer.parse(url) == original
    assert PairingOffer.parse("  " + url + "\n") == original
    assert PairingOffer.parse(url.replace("scrutineer-pair", "SCRUTINEER-PAIR", 1)) == original


def test_fingerprint_is_normalised() -> None:
    assert offer(fingerprint=FP.replace(" ", "").lower()).fingerprint == FP


def test_check_tally_key() -> None:
    offer().check_tally_key(TALLY.public_bytes())
    with pytest.raises(BadPairingOffer):
        offer().check_tally_key(Identity.generate().public_bytes())
    with pytest.raises(BadPairingOffer):
        offer().check_tally_key(b"short")


@pytest.mark.parametrize("change", [
    {"url": "ftp://192.168.1.10"}, {"url": "http://"}, {"url": "192.168.1.10:5000"},
    {"url": "http://user:pw@tally"}, {"url": "http://tally/?x=1"}, {"url": "http://tally/#x"},
    {"url": "http://tally:99999"}, {"url": "http://tal ly"}, {"url": "http://\ud800"}, {"url": "http://täly"},
    {"url": "http://tally\x00"}, {"url": "http://t/" + "a" * 3000},
    {"code": "abc"}, {"code": "abc def"}, {"code": "码码码码码码"}, {"code": "x" * 129},
    {"fingerprint": FP[:-1]}, {"fingerprint": "not a fingerprint"},
])
def test_constructor_refuses(change: dict[str, str]) -> None:
    with pytest.raises(BadPairingOffer):
        offer(**change)


GOOD = offer().to_url()


@pytest.mark.parametrize("text", [
    "", "http://192.168.1.10:5000", GOOD.replace("scrutineer-pair:?", "scrutineer-pair?"),
    GOOD.replace("scrutineer-pair", "scrutineer-pairs"), GOOD + "&x=1", GOOD + "&c=other",
    GOOD.replace("&c=Xk3-9_aa", ""), GOOD.replace("c=Xk3-9_aa", "c="), GOOD + "&&",
    GOOD.replace("f=", "f=A"), "SCR1.0123456789abcdef.AAAA",
])
def test_parse_refuses(text: str) -> None:
    with pytest.raises(BadPairingOffer):
        PairingOffer.parse(text)


def _matrix(text: str) -> list[list[bool]]:
    code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=4)
    code.add_data(text)
    code.make(fit=True)
    return code.get_matrix()


def _chunks(data: bytes) -> list[tuple[bytes, bytes]]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    chunks, pos = [], 8
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos:pos + 4])
        kind, body = data[pos + 4:pos + 8], data[pos + 8:pos + 8 + length]
        (crc,) = struct.unpack(">I", data[pos + 8 + length:pos + 12 + length])
        assert zlib.crc32(kind + body) == crc
        chunks.append((kind, body))
        pos += 12 + length
    return chunks


@pytest.mark.parametrize("text", [GOOD, "SCR1.0123456789abcdef.AAAQEAYEAUDAOCAJBIFQYDIOB4IBCEQTCQKRMFYYDENBWHA5DYPQ", "ab" * 32])
def test_png_is_well_formed_and_draws_the_code(text: str) -> None:
    data = qr_png(text, box_size=3, border=4)
    chunks = _chunks(data)
    assert chunks[0][0] == b"IHDR" and chunks[-1][0] == b"IEND"
    width, height, depth, colour = struct.unpack(">IIBB", chunks[0][1][:10])
    matrix = _matrix(text)
    assert width == height == 3 * len(matrix) and (depth, colour) == (1, 0)
    _, _, rows, _ = png.Reader(bytes=data).read()
    pixels = [list(row) for row in rows]
    for y, row in enumerate(matrix):
        for x, dark in enumerate(row):
            assert pixels[3 * y + 1][3 * x + 1] == (0 if dark else 1)


@pytest.mark.parametrize("text", [GOOD, "ab" * 32])
def test_svg_is_well_formed_and_draws_the_code(text: str) -> None:
    svg = qr_svg(text)
    root = ET.fromstring(svg)
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    paths = root.findall("{http://www.w3.org/2000/svg}path")
    assert len(paths) == 1
    drawn = {(int(x), int(y)) for x, y in re.findall(r"M(\d+),(\d+)H", paths[0].get("d", ""))}
    matrix = _matrix(text)
    assert drawn == {(x, y) for y, row in enumerate(matrix) for x, dark in enumerate(row) if dark}
    assert root.get("viewBox") == f"0 0 {len(matrix)} {len(matrix)}"


def test_offer_images() -> None:
    assert offer().qr_svg() == qr_svg(GOOD)
    assert _chunks(offer().qr_png())[0][0] == b"IHDR"


def test_qr_refuses_empty_text() -> None:
    with pytest.raises(ValueError):
        qr_svg("")
    with pytest.raises(ValueError):
        qr_png("")
