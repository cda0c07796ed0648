"""Result sheets of counted rounds (结果报告单) as Excel and PDF: attendance, the table of the
result, the ballot box fingerprint and its QR code, the tally's signature and lines to sign.

PDF text uses reportlab's built-in STSong-Light CID font, so Chinese prints without shipping a
font file. Headings come through the translation layer (Chinese first).
"""
from __future__ import annotations

import io
import json
from typing import Any

from flask_babel import gettext as _
from openpyxl import Workbook
from openpyxl.styles import Font
from reportlab.graphics.barcode.qr import QrCodeWidget
from reportlab.graphics.shapes import Drawing
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle
from sqlalchemy.orm import Session

from tally.errors import ApiError
from tally.hall import cards as credentials
from tally.rules.kinds import RoundKind
from tally.setup.meeting import MeetingInfo
from tally.show.cells import append_row, pdf_text
from tally.store.models import Round


def _value(word: str) -> str:
    """Translate a word that comes from data (an outcome, a status), declared in `tally.show.vocab`."""
    return _(word)


def _result_rows(kind: str, result: dict[str, Any]) -> tuple[list[str], list[list[str]]]:
    """The table of a counted round as header + rows of text, in the words of the sheet."""
    if kind == RoundKind.RECOMMEND:
        header = [_("Post"), _("Name"), _("Votes"), _("Rate"), _("Result")]
        rows = [[p.get("title") or p["id"], c["name"] + (f" ({_('write-in')})" if c.get("write_in") else ""), str(c["votes"]),
                 f"{c['rate']}%" if c.get("rate") is not None else "—", _("passes") if c.get("passes") else _("does not pass")]
                for p in result.get("posts", []) for c in p["candidates"]]
    elif kind == RoundKind.EVALUATE:
        grades = list(result["subjects"][0]["counts"]) if result.get("subjects") else []
        header = [_("Person evaluated"), "N", *grades, _("Competent or above"), _("Score")]
        rows = [[s["name"], str(s["valid"]), *[f"{s['counts'][g]} ({s['rates'][g]}%)" for g in grades],
                 f"{s['rates'].get('competent_or_above')}%", s.get("score") or "—"] for s in result.get("subjects", [])]
    elif kind == RoundKind.DECIDE:
        header = [_("Name"), _("Agree"), _("Disagree"), _("Abstain"), _("Not voted"), _("Result")]
        rows = [[n["name"], str(n["agree"]), str(n["disagree"]), str(n["abstain"]), str(n["not_voted"]), _value(n["outcome"])]
                for n in result.get("nominees", [])]
    elif kind == RoundKind.SCORE:
        header = [_("Rank"), _("Name"), _("Mean")]
        rows = [[str(c.get("rank") or "—"), c["name"], c.get("mean") or _("incomplete")] for c in result.get("contestants", [])]
    else:
        header = [_("Rank"), _("Name"), _("Composite score")]
        rows = [
            [str(c.get("rank") or "—"), c["name"], c.get("composite") or _("incomplete")]
            for c in result.get("candidates", [])
        ]
    return header, rows


def _attendance_line(result: dict[str, Any]) -> str:
    parts = []
    for key, label in (
        ("expected", _("Expected (应到)")),
        ("present", _("Present (实到)")),
        ("issued", _("Issued (发出)")),
        ("returned", _("Returned (收回)")),
    ):
        if result.get(key) is not None:
            parts.append(f"{label} {result[key]}")
    if result.get("status") and result["status"] != "counted":
        parts.append(_value(result["status"]))
    return "，".join(parts)  # a full-width comma: the PDF's CJK font has no middle dot


def _post_lines(kind: str, result: dict[str, Any]) -> list[str]:
    """有效/无效/空白 and the threshold of each post of a recommendation round."""
    if kind != RoundKind.RECOMMEND:
        return []
    return [
        f"{p.get('title') or p['id']}：{_('Valid')} {p['valid']}，{_('Invalid')} {p['invalid']}，"
        f"{_('Blank')} {p['blank']}，{_('Seats')} {p['seats']}，{_('Threshold')} {p['threshold']}"
        for p in result.get("posts", [])
    ]


def card_lines(s: Session, rnd: Round) -> list[str]:
    """For a round that takes ballot cards: the scrutineers' card list fingerprint, and how many of
    its ballots came from desk unlocks (cards the kiosks made, not on the list)."""
    if not rnd.round_kind.takes_cards:
        return []
    found = credentials.list_info(s)
    lines = [_("Ballot card list fingerprint") + "：" + found["fingerprint"]] if found else []
    lines.append(_("Ballots by desk unlock (a card the kiosk made)") + f"：{credentials.desk_ballots(s, rnd.id)}")
    return lines


def counted_round(s: Session, round_id: str) -> tuple[Round, dict[str, Any], dict[str, Any]]:
    rnd = s.get(Round, round_id)
    if rnd is None:
        raise ApiError(404, "unknown_round", "There is no such round in this meeting.")
    if not rnd.result_json:
        raise ApiError(409, "round_not_counted", "Count the round before showing its result.")
    return rnd, json.loads(rnd.result_json), json.loads(rnd.result_sig or "{}")


def result_sheet_xlsx(s: Session, info: MeetingInfo, round_id: str) -> bytes:
    rnd, result, signed = counted_round(s, round_id)
    header, rows = _result_rows(rnd.kind, result)
    wb = Workbook()
    ws = wb.active
    ws.title = _("Result sheet")[:31]
    append_row(ws, [info.title])
    append_row(ws, [rnd.title])
    append_row(ws, [_attendance_line(result)])
    for line in _post_lines(rnd.kind, result):
        append_row(ws, [line])
    append_row(ws, header)
    for c in ws[ws.max_row]:
        c.font = Font(bold=True)
    for r in rows:
        append_row(ws, r)
    append_row(ws, [])
    append_row(ws, [_("Ballot box fingerprint"), rnd.chain_head])
    for line in card_lines(s, rnd):
        append_row(ws, [line])
    append_row(ws, [_("Signed by the tally"), signed.get("sig", "")])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def result_sheet_pdf(s: Session, info: MeetingInfo, round_id: str) -> bytes:
    rnd, result, signed = counted_round(s, round_id)
    header, rows = _result_rows(rnd.kind, result)
    pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
    h1 = ParagraphStyle("h1", fontName="STSong-Light", fontSize=17, leading=22)
    h2 = ParagraphStyle("h2", fontName="STSong-Light", fontSize=13, leading=17)
    p = ParagraphStyle("p", fontName="STSong-Light", fontSize=9.5, leading=13)
    mono = ParagraphStyle("mono", fontName="Courier", fontSize=7.5, leading=9)
    buf = io.BytesIO()
    doc = SimpleDocTemplate(
        buf,
        pagesize=A4,
        leftMargin=15 * mm,
        rightMargin=15 * mm,
        topMargin=15 * mm,
        bottomMargin=15 * mm,
        title=f"{info.title} {rnd.title}",
    )
    cells = [[Paragraph(pdf_text(h), p) for h in header]] + [[Paragraph(pdf_text(c), p) for c in r] for r in rows]
    table = Table(cells, repeatRows=1)
    table.setStyle(
        TableStyle(
            [("GRID", (0, 0), (-1, -1), 0.4, colors.grey), ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#EEEEEE"))]
        )
    )
    qr = QrCodeWidget(rnd.chain_head)
    x0, y0, x1, y1 = qr.getBounds()
    size = 32 * mm
    drawing = Drawing(size, size, transform=[size / (x1 - x0), 0, 0, size / (y1 - y0), 0, 0])
    drawing.add(qr)
    facts = [Paragraph(pdf_text(line), p) for line in _post_lines(rnd.kind, result)]
    story = [
        Paragraph(pdf_text(info.title), h1),
        Paragraph(pdf_text(rnd.title), h2),
        Spacer(1, 2 * mm),
        Paragraph(pdf_text(_attendance_line(result)), p),
        *facts,
        Spacer(1, 4 * mm),
        table,
        Spacer(1, 6 * mm),
        Paragraph(pdf_text(_("Ballot box fingerprint")), p),
        Paragraph(pdf_text(rnd.chain_head), mono),
        drawing,
        *[Paragraph(pdf_text(line), p) for line in card_lines(s, rnd)],
        Paragraph(pdf_text(_("Signed by the tally")), p),
        Paragraph(pdf_text(signed.get("sig", "")), mono),
        Spacer(1, 10 * mm),
        Paragraph(pdf_text(
            f"{_('Chair')}：______________　　{_('Scrutineer')}：______________　　{_('Counter')}：______________"), p
        ),
    ]
    doc.build(story)
    return buf.getvalue()
