"""QR codes for ballot cards, pairing offers and chain heads, as SVG text or PNG bytes.

Error correction level M. SVG uses qrcode's path factory (one `<path>`, scales cleanly in
print); PNG uses qrcode's pure-Python PyPNG writer, so no imaging library is needed.
Pure: text in, image out; touches no files.
"""
from __future__ import annotations

import io
from typing import Any

import qrcode
import qrcode.constants
from qrcode.image.pure import PyPNGImage
from qrcode.image.svg import SvgPathImage


def _code(text: str, box_size: int, border: int) -> qrcode.QRCode[Any]:
    if not isinstance(text, str) or not text:
        raise ValueError("QR text must be a non-empty string")
    code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, box_size=box_size, border=border)
    code.add_data(text)
    code.make(fit=True)
    return code


def qr_svg(text: str, *, box_size: int = 10, border: int = 4) -> str:
    """A standalone SVG document (str) of `text`."""
    image = _code(text, box_size, border).make_image(image_factory=SvgPathImage)
    return image.to_string(encoding="unicode")


def qr_png(text: str, *, box_size: int = 8, border: int = 4) -> bytes:
    """A 1-bit greyscale PNG of `text`."""
    image = _code(text, box_size, border).make_image(image_factory=PyPNGImage)
    out = io.BytesIO()
    image.save(out)
    return out.getvalue()
