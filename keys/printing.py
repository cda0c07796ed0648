"""Printed key material (打印): the scrutineers' share sheets and the sheets of ballot cards, as PDF.

The one module of `keys/` that uses reportlab (a PDF needs a PDF library; the auditor's checks
never load it): `tally init` prints each scrutineer's sheet, `keys cards make` prints the
cards. Every label is printed Chinese first, English second, through the `keys` catalog.
Text from data (the meeting's title, round titles) is drawn with `drawString`, which draws
characters and reads no markup, after control characters are removed. QR codes are drawn
from the `qrcode` library's own matrix as vector squares, so they scan from paper at any size.
Pure: values in, PDF bytes out; touches no files.
"""
from __future__ import annotations

import gettext
import io
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import qrcode
import qrcode.constants
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfgen.canvas import Canvas

from keys.cards import Card, printed_number

LOCALE_DIR = Path(__file__).with_name("locale")
CJK = "STSong-Light"
MONO = "Courier"
_CONTROL = re.compile(r"[\x00-\x1f\x7f\ud800-\udfff\ufffe\uffff]")


def _zh(message: str) -> str:
    return gettext.translation("keys", localedir=LOCALE_DIR, languages=["zh"], fallback=True).gettext(message)


# The labels the sheets print beside data; `tests/keys/test_translations.py` holds their Chinese.
LABELS = {
    "scrutineer": "Scrutineer", "quorum": "Shares needed to open a round", "meeting": "Meeting",
    "record": "Meeting fingerprint", "round": "Round", "check": "Check code", "signature": "Signature", "date": "Date",
    "list": "Card list fingerprint", "number": "Card number to type",
    "one_per_key": "One share per round key. Keep this file secret; bring it (or your "
    "printed sheet) to the count.",
}
def label(key: str) -> str:
    """One of `LABELS`, Chinese first then English."""
    return both(LABELS[key])


def both(message: str) -> str:
    """A label as the sheet prints it: Chinese first, then the English."""
    zh = _zh(message)
    return message if zh == message else f"{zh}  {message}"


def clean(value: object) -> str:
    """Data as printable text: no control characters."""
    return _CONTROL.sub("", str(value))


def _font() -> None:
    if CJK not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(UnicodeCIDFont(CJK))


def _fit(c: Canvas, text: str, font: str, size: float, width: float) -> float:
    """The largest size up to `size` at which `text` fits in `width`."""
    while size > 5 and pdfmetrics.stringWidth(text, font, size) > width:
        size -= 0.5
    return size


def _line(c: Canvas, x: float, y: float, text: str, size: float, width: float, font: str = CJK) -> None:
    text = clean(text)
    c.setFont(font, _fit(c, text, font, size, width))
    c.drawString(x, y, text)


def draw_qr(c: Canvas, text: str, x: float, y: float, size: float) -> None:
    """A QR code of `text` as vector squares, lower left corner at (x, y), `size` wide."""
    code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=2)
    code.add_data(text)
    code.make(fit=True)
    matrix = code.get_matrix()
    cell = size / len(matrix)
    c.setFillGray(0)
    for row, bits in enumerate(matrix):
        col = 0
        while col < len(bits):
            if not bits[col]:
                col += 1
                continue
            start = col
            while col < len(bits) and bits[col]:
                col += 1
            c.rect(x + start * cell, y + size - (row + 1) * cell, (col - start) * cell, cell, stroke=0, fill=1)


@dataclass(frozen=True)
class ShareItem:
    """One line of a scrutineer's sheet: a round key's share."""

    round_id: str
    round_title: str
    text: str
    check_code: str


def scrutineer_sheet(*, title: str, meeting: str, record_fingerprint: str, index: int, scrutineers: int,
                     quorum: int, items: Sequence[ShareItem]) -> bytes:
    """Scrutineer `index`'s sheet: one QR code and check code per round key, and lines to sign."""
    _font()
    buf = io.BytesIO()
    width, height = A4
    c = Canvas(buf, pagesize=A4, pageCompression=1)
    c.setTitle(label("scrutineer") + f" {index}")
    margin = 15 * mm
    usable = width - 2 * margin
    per_page = 6
    pages = [items[i:i + per_page] for i in range(0, len(items), per_page)] or [[]]
    for number, page in enumerate(pages, start=1):
        y = height - margin - 8 * mm
        _line(c, margin, y, both("Scrutineer's key shares"), 16, usable)
        y -= 9 * mm
        _line(c, margin, y, title, 13, usable)
        y -= 7 * mm
        _line(c, margin, y, label("scrutineer") + f": {index} / {scrutineers}    "
                            + label("quorum") + f": {quorum}", 10, usable)
        y -= 6 * mm
        _line(c, margin, y, label("meeting") + f": {meeting}    " + label("record") + f": {record_fingerprint}",
              9, usable)
        y -= 6 * mm
        _line(c, margin, y, both("Check each code against the chair's console now; keep this sheet safe; "
                                 "bring it to the count."), 9, usable)
        top = y - 6 * mm
        box_w, box_h = usable / 2, 68 * mm
        for i, item in enumerate(page):
            bx = margin + (i % 2) * box_w
            by = top - (i // 2 + 1) * box_h
            c.setStrokeGray(0.6)
            c.rect(bx + 1 * mm, by + 1 * mm, box_w - 2 * mm, box_h - 2 * mm, stroke=1, fill=0)
            draw_qr(c, item.text, bx + 4 * mm, by + 14 * mm, 48 * mm)
            tx = bx + 55 * mm
            tw = box_w - 58 * mm
            _line(c, tx, by + box_h - 12 * mm, label("round") + ":", 8, tw)
            _line(c, tx, by + box_h - 18 * mm, item.round_id, 12, tw, MONO)
            _line(c, tx, by + box_h - 24 * mm, item.round_title, 9, tw)
            _line(c, tx, by + box_h - 34 * mm, label("check") + ":", 8, tw)
            _line(c, tx, by + box_h - 41 * mm, item.check_code, 14, tw, MONO)
            _line(c, bx + 4 * mm, by + 6 * mm, item.text, 7, box_w - 8 * mm, MONO)
        sy = margin + 12 * mm
        _line(c, margin, sy, label("signature") + ": ____________________    " + label("date") + ": ______________", 10, usable)
        _line(c, margin, margin, f"{number} / {len(pages)}", 8, usable)
        c.showPage()
    c.save()
    return buf.getvalue()


def cards_sheet(*, title: str, meeting: str, list_fingerprint: str, cards: Sequence[Card]) -> bytes:
    """Sheets of ballot cards to print, cut and shuffle: 12 to a page, each with its QR code, its
    number (typed on the kiosk when the code cannot be scanned), its check code and the meeting's
    title; the card list's fingerprint on every page."""
    _font()
    buf = io.BytesIO()
    width, height = A4
    c = Canvas(buf, pagesize=A4, pageCompression=1)
    c.setTitle(both("Ballot cards"))
    margin = 10 * mm
    cols, rows = 3, 4
    cw, ch = (width - 2 * margin) / cols, (height - 2 * margin - 8 * mm) / rows
    per_page = cols * rows
    for start in range(0, len(cards), per_page):
        _line(c, margin, height - margin - 4 * mm,
              label("list") + f": {list_fingerprint}    " + label("meeting") + f": {meeting}",
              8, width - 2 * margin)
        for i, card in enumerate(cards[start:start + per_page]):
            x = margin + (i % cols) * cw
            y = height - margin - 8 * mm - (i // cols + 1) * ch
            c.setStrokeGray(0.7)
            c.setDash(2, 2)
            c.rect(x, y, cw, ch, stroke=1, fill=0)
            c.setDash()
            _line(c, x + 4 * mm, y + ch - 8 * mm, title, 9, cw - 8 * mm)
            _line(c, x + 4 * mm, y + ch - 14 * mm, both("Ballot card"), 10, cw - 8 * mm)
            qr = min(cw, ch) - 38 * mm
            draw_qr(c, card.qr_text, x + (cw - qr) / 2, y + 22 * mm, qr)
            # The card's number, what the kiosk's scan screen asks a voter to type when the QR code
            # cannot be read (the check code below only confirms a scan): three lines under the QR.
            head, _, groups = printed_number(card.qr_text).partition(" ")
            words = groups.split(" ")
            _line(c, x + 4 * mm, y + 18.5 * mm, label("number"), 6.5, cw - 8 * mm)
            for k, text in enumerate((head, " ".join(words[:7]), " ".join(words[7:]))):
                _line(c, x + 4 * mm, y + (15 - 3.2 * k) * mm, text, 7.5, cw - 8 * mm, MONO)
            _line(c, x + 4 * mm, y + 4 * mm, label("check") + f": {card.check_code}", 9, cw - 8 * mm)
        c.showPage()
    c.save()
    return buf.getvalue()
