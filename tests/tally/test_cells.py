"""Text from data goes into sheets as text: no reportlab markup, no Excel formula, no control character."""
from __future__ import annotations

import io

import pytest
from openpyxl import Workbook, load_workbook
from reportlab.lib.styles import ParagraphStyle
from reportlab.platypus import Paragraph, SimpleDocTemplate

from tally.show.cells import append_row, clean, pdf_text

HOSTILE = ["<b>张三</b>", '<a href="http://x">x</a>', "<img src=x>", "a & b", "=HYPERLINK(\"http://x\",\"点我\")",
           "+1+1", "-2+3", "@SUM(A1)", "\tTAB", "\rCR", "NUL\x00here", "bell\x07", "张三"]


@pytest.mark.parametrize("value", HOSTILE)
def test_a_pdf_paragraph_prints_the_value_as_text(value):
    para = Paragraph(pdf_text(value), ParagraphStyle("p", fontName="Helvetica"))
    assert "".join(f.text for f in para.frags).split() == clean(value).split()  # reportlab folds white space
    assert {f.fontName for f in para.frags} == {"Helvetica"}  # no <b> took effect, no link, no image
    SimpleDocTemplate(io.BytesIO()).build([para])


def test_an_excel_row_keeps_text_as_text_and_numbers_as_numbers():
    wb = Workbook()
    ws = wb.active
    append_row(ws, [*HOSTILE, 31, "88.55"])
    buf = io.BytesIO()
    wb.save(buf)
    back = load_workbook(io.BytesIO(buf.getvalue())).active
    cells = next(back.iter_rows(values_only=False))
    assert [c.value for c in cells] == [*(clean(v) for v in HOSTILE), 31, "88.55"]
    assert all(c.data_type == "s" for c in cells[:len(HOSTILE)])  # never a formula ("f")
    assert cells[len(HOSTILE)].data_type == "n"
    assert all(cells[i].quotePrefix for i in (4, 5, 6, 7, 8))  # =, +, -, @, tab at the start
