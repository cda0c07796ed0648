"""Text from data into sheets, as text: what a voter, a kiosk or a roster typed never becomes markup or a formula.

- `pdf_text(value)`: reportlab's `Paragraph` reads a small XML markup (`<b>`, `<a href>`, `<img>`…);
  every value from data goes through this first, so `<b>` prints as the four characters it is.
- `pdf_cell(value)`: a value for a reportlab `Table` cell given as a plain string (drawn as it is,
  never parsed as markup and never wrapped: numbers, so that "84.4" never breaks over two lines).
- `append_row(ws, values)`: one Excel row; text cells are stored as text (a name starting with
  `=`, `+`, `-`, `@`, a tab or a CR is not a formula, and shows without an apostrophe), control
  characters Excel cannot hold are dropped, numbers stay numbers.
Pure functions of their input; no database, no request.
"""
from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any
from xml.sax.saxutils import escape

from openpyxl.worksheet.worksheet import Worksheet

# C0 controls but tab and LF (a tab is still neutralised at the start of a cell), CR (an .xlsx
# file reads it back as LF), and the other characters an XML 1.0 document cannot carry.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f\ud800-\udfff\ufffe\uffff]")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def clean(value: object) -> str:
    """A value as printable text: control characters and lone surrogates removed."""
    return _CONTROL.sub("", str(value))


def pdf_text(value: object) -> str:
    """A value for a reportlab Paragraph: printable text with &, < and > escaped."""
    return escape(clean(value))


def pdf_cell(value: object) -> str:
    """A value drawn as a plain string in a reportlab Table cell: printable text, no markup parsing."""
    return clean(value)


def append_row(ws: Worksheet, values: Iterable[Any]) -> None:
    """Append one row; every str cell is stored as text, never as a formula."""
    values = list(values)
    ws.append([clean(v) if isinstance(v, str) else v for v in values])
    for cell, raw in zip(ws[ws.max_row], values, strict=False):
        if isinstance(raw, str):
            text = clean(raw)
            cell.value = text
            cell.data_type = "s"
            if text.startswith(_FORMULA_START):
                cell.quotePrefix = True  # shown as typed, and still text if someone edits it
