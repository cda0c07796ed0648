"""Result sheets of counted rounds (结果报告单): the page the 监票人 and 计票人 sign, as HTML, PDF and Excel.

Every sheet renders the round's `tally.show.results.RoundView` (one model per kind, in the
meeting file's order): the round's title and kind; 应到/实到/发出/收回/有效/无效 (弃权 where it
applies); the rule applied, in words; every figure of the counted result (directions, components
with weights, dropped scores struck by seat, ranks, 通过, 入围, 当选, 暂缓); the ballot box
fingerprint (the chain head) with its QR code, the ballot-card credential list's fingerprint
when the tally has one; the tally's signature; lines for the signatures.

- PDF: reportlab with its built-in STSong-Light CID font (no font file shipped). Portrait A4, or
  landscape when a table is wide; a score round's seat grid (up to 30 judges and more) fits one
  landscape page across, its numbers sized so that none wraps.
- Excel: numbers are numbers (counts as integers, scores as decimals with their places, rates as
  percentages by number format), text is text (`tally.show.cells.append_row`).
Every value from data goes through `tally.show.cells` (`pdf_text`, `pdf_cell`, `append_row`).
Headings come through the translation layer (Chinese first).
"""
from __future__ import annotations

import io
import json
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Any

import qrcode
from flask_babel import gettext
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from reportlab.graphics.barcode.qr import QrCodeWidget
from reportlab.graphics.shapes import Drawing
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.platypus import Flowable, KeepTogether, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle
from sqlalchemy import select
from sqlalchemy.orm import Session

from tally.errors import ApiError
from tally.hall import cards as credentials
from tally.judging.panel import parse_seat_label
from tally.rules import CompositeRound
from tally.setup.meeting import MeetingInfo
from tally.show.cells import append_row, pdf_cell, pdf_text
from tally.show.results import SOURCE, Column, Figure, Label, P, Phrase, RoundView, Row, round_view
from tally.show.results import Table as ViewTable
from tally.store.models import Ballot, Round

FONT = "STSong-Light"
HIGH, LOW = "#B3261E", "#1D5FBF"  # struck scores: dropped high in red, dropped low in blue


@dataclass(frozen=True)
class Sheet:
    """What a result sheet shows: the meeting's title, the round's view, the tally's signature."""

    meeting: str
    view: RoundView
    signature: str


# --- reading a counted round ----------------------------------------------------------------

def counted_round(s: Session, round_id: str) -> tuple[Round, dict[str, Any], dict[str, Any]]:
    rnd = s.get(Round, round_id)
    if rnd is None:
        raise ApiError(404, "unknown_round", "There is no such round in this meeting.")
    if not rnd.result_json:
        raise ApiError(409, "round_not_counted", "Count the round before showing its result.")
    return rnd, json.loads(rnd.result_json), json.loads(rnd.result_sig or "{}")


def seat_scores(s: Session, round_id: str) -> dict[str, dict[int, Decimal]]:
    """A counted score round's lines, by contestant and seat: exactly what was counted."""
    out: dict[str, dict[int, Decimal]] = {}
    for b in s.scalars(select(Ballot).where(Ballot.round_id == round_id)):
        line = json.loads(b.content)
        seat = parse_seat_label(line.get("judge"))
        if seat is not None:
            out.setdefault(line["contestant"], {})[seat] = Decimal(line["score"])
    return out


def credentials_fingerprint(s: Session, rnd: Round) -> str | None:
    """For a round that takes ballot cards: the fingerprint of the scrutineers' card list (the
    credentials its ballots were cast with), when one was imported."""
    if not rnd.round_kind.takes_cards:
        return None
    found = credentials.list_info(s)
    return str(found["fingerprint"]) if found else None


def sheet(s: Session, info: MeetingInfo, round_id: str) -> Sheet:
    """The result sheet of a counted round of any kind."""
    rnd, result, signed = counted_round(s, round_id)
    plan = info.plan.round(round_id)
    seats = seat_scores(s, round_id) if rnd.round_kind.opened_at_intake else None
    sources = []
    if isinstance(plan, CompositeRound):
        for rid in dict.fromkeys(c.round for c in plan.components if c.round is not None):
            src = s.get(Round, rid)
            if src is not None:
                sources.append((src.title, src.chain_head))
    view = round_view(result, plan, chain_head=rnd.chain_head if rnd.round_kind.takes_ballots else None,
                      credentials_fingerprint=credentials_fingerprint(s, rnd), seats=seats, sources=sources)
    if rnd.round_kind.takes_cards:
        # How many of its ballots came by desk unlock (a card the kiosk made, not on the list).
        view = replace(view, figures=(*view.figures, Figure("desk_unlock", credentials.desk_ballots(s, rnd.id))))
    return Sheet(meeting=info.title, view=view, signature=str(signed.get("sig", "")))


# --- words and cells, the same for every renderer ----------------------------------------------

def say(label: Label | None) -> str:
    """A label in the reader's language: a Phrase is translated, the meeting's own words are not."""
    if label is None:
        return ""
    if isinstance(label, Phrase):
        return gettext(label.msgid, **label.kwargs) if label.params else gettext(label.msgid)
    return label


def column_title(col: Column) -> str:
    text = say(col.label)
    if col.note:
        text += f" {col.note}"
    if col.total is not None:
        text += f" /{col.total}"
    return text


def cell_text(col: Column, value: Any) -> str:
    """A value as people read it: "—" for none, 48.33%, 28/30, words translated and joined."""
    if value is None:
        return "—"
    if col.format == "percent":
        return f"{value}%"
    if col.format == "marks":
        return "、".join(gettext(m) for m in value)
    if col.format == "word":
        return gettext(value)
    if col.format == "count" and col.total is not None:
        return f"{value}/{col.total}"
    return str(value)


@dataclass(frozen=True)
class Cell:
    text: str
    numeric: bool
    struck: str | None = None
    name: bool = False  # the meeting's words (names): may wrap; numbers never do


def compact(table: ViewTable) -> tuple[list[str], list[tuple[Row, list[Cell]]], list[Column]]:
    """Headers and rows for a printed page or a screen: a joined column goes in the cell before it
    ("30 (52.63%)"); Excel keeps every column on its own."""
    shown = [i for i, c in enumerate(table.columns) if not c.joins]
    joined = {i - 1: i for i, c in enumerate(table.columns) if c.joins}
    headers = [column_title(table.columns[i]) for i in shown]
    rows = []
    for row in table.rows:
        cells = []
        for i in shown:
            col = table.columns[i]
            text = cell_text(col, row.cells[i])
            if i in joined and row.cells[joined[i]] is not None:
                text += f" ({cell_text(table.columns[joined[i]], row.cells[joined[i]])})"
            cells.append(Cell(text, col.format in ("count", "decimal", "percent"), row.strike(i), col.format == "text"))
        rows.append((row, cells))
    return headers, rows, [table.columns[i] for i in shown]


def figures_line(figures: Any) -> str:
    return "　".join(f"{gettext(f.label)} {f.value}" for f in figures)


def qr_path(text: str) -> tuple[int, str]:
    """A QR code as one SVG path (size, d): for the HTML sheet, as an attribute, never as markup."""
    q = qrcode.QRCode(border=0, error_correction=qrcode.constants.ERROR_CORRECT_M)
    q.add_data(text)
    q.make(fit=True)
    matrix = q.get_matrix()
    parts = [f"M{x},{y}h1v1h-1z" for y, line in enumerate(matrix) for x, dark in enumerate(line) if dark]
    return len(matrix), "".join(parts)


# --- PDF -----------------------------------------------------------------------------------

def styles() -> dict[str, ParagraphStyle]:
    pdfmetrics.registerFont(UnicodeCIDFont(FONT))
    base = {"fontName": FONT, "splitLongWords": 0}
    return {
        "h1": ParagraphStyle("h1", fontSize=16, leading=21, **base),
        "h2": ParagraphStyle("h2", fontSize=12.5, leading=17, **base),
        "h3": ParagraphStyle("h3", fontSize=11, leading=15, spaceBefore=6, **base),
        "p": ParagraphStyle("p", fontSize=10, leading=14, **base),
        "rule": ParagraphStyle("rule", fontSize=9.5, leading=13, leftIndent=8, **base),
        "alert": ParagraphStyle("alert", fontSize=10.5, leading=14, textColor=colors.HexColor(HIGH), **base),
        "mono": ParagraphStyle("mono", fontName="Courier", fontSize=7.5, leading=9, splitLongWords=1),
        "small": ParagraphStyle("small", fontSize=8, leading=10, **base),
    }


def rule_lines(rules: Any, st: dict[str, ParagraphStyle]) -> list[Flowable]:
    """The rules applied, in words, numbered (the CID font has no middle dot for a bullet)."""
    return [Paragraph(pdf_text(f"{i}. {say(r)}"), st["rule"]) for i, r in enumerate(rules, start=1)]


class StruckNumber(Flowable):
    """A dropped score: the number with a line through its middle (reportlab's <strike> sits too
    low in the CJK font), in red (dropped high) or blue (dropped low), right-aligned, one line."""

    def __init__(self, text: str, size: float, colour: str) -> None:
        super().__init__()
        self.text, self.size, self.colour = text, size, colour

    def wrap(self, avail_width: float, avail_height: float) -> tuple[float, float]:
        self.width = avail_width
        return avail_width, self.size * 1.2

    def draw(self) -> None:
        c = self.canv
        w = pdfmetrics.stringWidth(self.text, FONT, self.size)
        c.setFillColor(colors.HexColor(self.colour))
        c.setStrokeColor(colors.HexColor(self.colour))
        c.setFont(FONT, self.size)
        x = self.width - w
        c.drawString(x, self.size * 0.2, self.text)
        c.setLineWidth(max(0.6, self.size / 12))
        c.line(x - 0.5, self.size * 0.5, self.width + 0.5, self.size * 0.5)


def wide(view: RoundView) -> bool:
    """Landscape for a panel of more than 12 seats or a table of more than 8 columns."""
    return any(sum(1 for c in t.columns if c.seat) > 12 or sum(1 for c in t.columns if not c.joins and not c.seat) > 8
               for t in view.paper_tables())


SEAT_MIN = 7 * mm  # a seat's score ("100.0") at 8.5 pt on one line


def _widths(cols: list[Column], total: float, grid: bool, names: list[str] | None = None) -> list[float]:
    if grid:
        fixed = {"rank": 9 * mm, "name": 24 * mm, "judged": 13 * mm, "mean": 14 * mm, "result": 12 * mm}
        seats = [c for c in cols if c.seat]
        # The name column grows for long names (up to what the seats leave), so a name wraps less.
        widest = max((pdfmetrics.stringWidth(n, FONT, 8.5) for n in names or []), default=0) + 4
        room = total - sum(v for k, v in fixed.items() if k != "name" and any(c.key == k for c in cols))
        fixed["name"] = min(max(fixed["name"], widest), max(fixed["name"], room - SEAT_MIN * len(seats)))
        rest = total - sum(fixed.get(c.key, 0) for c in cols if not c.seat)
        return [rest / len(seats) if c.seat else fixed.get(c.key, 12 * mm) for c in cols]
    weight = {"text": 2.4, "marks": 2.2}
    weights = [weight.get(c.format, 1.3 if any(t.joins for t in cols) else 1.0) for c in cols]
    return [total * w / sum(weights) for w in weights]


def _fit(texts: list[str], width: float, largest: float = 9.5, smallest: float = 6.5) -> float:
    """The largest font size at which every text fits the width on one line (never wrapped)."""
    widest = max((pdfmetrics.stringWidth(t, FONT, 1) for t in texts), default=1)
    return max(smallest, min(largest, width / widest if widest else largest))


def pdf_table(table: ViewTable, total_width: float) -> Table:
    headers, rows, cols = compact(table)
    grid = table.key == "grid"
    widths = _widths(cols, total_width, grid, [c.text for _r, cells in rows for c in cells if c.name])
    pad = 1.5 if grid else 4
    numbers = [c.text for _r, cells in rows for c in cells if c.numeric]
    narrowest = min((w for w, c in zip(widths, cols, strict=True) if c.format in ("count", "decimal", "percent")),
                    default=total_width)
    size = _fit(numbers, narrowest - 2 * pad - 1, 10 if not grid else 9.5)
    head = ParagraphStyle("head", fontName=FONT, fontSize=min(8.5, size), leading=min(8.5, size) + 2, splitLongWords=0)
    # Names may wrap (a long one breaks inside a word rather than run over the next cell); numbers never do.
    text = ParagraphStyle("text", fontName=FONT, fontSize=size, leading=size + 3, splitLongWords=1)
    # Seat labels (J01…) in Helvetica: the CJK font's J is hard to read at this size.
    latin = ParagraphStyle("latin", parent=head, fontName="Helvetica", alignment=1)
    data: list[list[Any]] = [[Paragraph(pdf_text(h), latin if c.seat else head) for h, c in zip(headers, cols, strict=True)]]
    style = [
        ("GRID", (0, 0), (-1, -1), 0.4, colors.grey), ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#EEEEEE")),
        ("FONTNAME", (0, 0), (-1, -1), FONT), ("FONTSIZE", (0, 1), (-1, -1), size),
        ("VALIGN", (0, 0), (-1, -1), "MIDDLE"), ("LEFTPADDING", (0, 0), (-1, -1), pad),
        ("RIGHTPADDING", (0, 0), (-1, -1), pad), ("TOPPADDING", (0, 0), (-1, -1), 2.5),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 2.5),
    ]
    for r, (row, cells) in enumerate(rows, start=1):
        line: list[Any] = []
        for c, cell in enumerate(cells):
            if cell.struck:
                line.append(StruckNumber(pdf_cell(cell.text), size, HIGH if cell.struck == "high" else LOW))
            elif cell.numeric:
                line.append(pdf_cell(cell.text))
                style.append(("ALIGN", (c, r), (c, r), "RIGHT"))
            else:
                line.append(Paragraph(pdf_text(cell.text), text))
        if row.highlight:
            style.append(("BACKGROUND", (0, r), (-1, r), colors.HexColor("#E7F4EA")))
        data.append(line)
    out = Table(data, colWidths=widths, repeatRows=1)
    out.setStyle(TableStyle(style))
    return out


def qr_drawing(text: str, size: float) -> Drawing:
    qr = QrCodeWidget(text)
    x0, y0, x1, y1 = qr.getBounds()
    drawing = Drawing(size, size, transform=[size / (x1 - x0), 0, 0, size / (y1 - y0), 0, 0])
    drawing.add(qr)
    return drawing


def _fingerprints(view: RoundView, st: dict[str, ParagraphStyle], width: float) -> list[Flowable]:
    """Each fingerprint on a row of its own, its QR code beside it, the value on one line."""
    items = []
    if view.chain_head:
        items.append((gettext("Ballot box fingerprint"), view.chain_head))
    if view.credentials_fingerprint:
        items.append((gettext("Ballot card list fingerprint"), view.credentials_fingerprint))
    if not items:
        return []
    rows = [[qr_drawing(value, 24 * mm), [Paragraph(pdf_text(label), st["p"]), Paragraph(pdf_text(value), st["mono"])]]
            for label, value in items]
    t = Table(rows, colWidths=[27 * mm, width - 27 * mm], hAlign="LEFT")
    t.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "MIDDLE"), ("LEFTPADDING", (0, 0), (-1, -1), 0)]))
    return [t]


def result_sheet_pdf(sh: Sheet) -> bytes:
    view = sh.view
    st = styles()
    page = landscape(A4) if wide(view) else A4
    margin = 10 * mm if page != A4 else 15 * mm
    width = page[0] - 2 * margin
    buf = io.BytesIO()
    doc = SimpleDocTemplate(buf, pagesize=page, leftMargin=margin, rightMargin=margin, topMargin=12 * mm,
                            bottomMargin=12 * mm, title=f"{sh.meeting} {view.title}")
    story: list[Flowable] = [
        Paragraph(pdf_text(sh.meeting), st["h1"]),
        Paragraph(pdf_text(f"{view.title}　（{gettext(view.kind)}）{gettext('Result sheet')}"), st["h2"]),
    ]
    if view.figures:
        story.append(Paragraph(pdf_text(figures_line(view.figures)), st["p"]))
    story += [Paragraph(pdf_text(say(a)), st["alert"]) for a in view.alerts]
    story += rule_lines(view.rules, st)
    for table in view.paper_tables():
        head: list[Flowable] = [Spacer(1, 2 * mm)]
        title = " · ".join(x for x in (table.title, say(table.heading)) if x)
        if title:
            head.append(Paragraph(pdf_text(title), st["h3"]))
        if table.figures:
            head.append(Paragraph(pdf_text(figures_line(table.figures)), st["p"]))
        head += rule_lines(table.rules, st)
        story.append(KeepTogether([*head, pdf_table(table, width)]))
    signature = [Paragraph(pdf_text(gettext("Signed by the tally")), st["small"]),
                 Paragraph(pdf_text(sh.signature), st["mono"]), Spacer(1, 6 * mm),
                 Paragraph(pdf_text("　　".join(f"{gettext(w)}（{gettext('signature')}）：____________________"
                                               for w in ("Scrutineer", "Counter"))), st["p"]),
                 Spacer(1, 4 * mm),
                 Paragraph(pdf_text(f"{gettext('Date')}：____________________"), st["p"])]
    sources = [Paragraph(pdf_text(say(P(SOURCE, title=t, head=h))), st["small"]) for t, h in view.sources]
    story += [Spacer(1, 5 * mm), KeepTogether([*_fingerprints(view, st, width), *sources, Spacer(1, 2 * mm), *signature])]
    doc.build(story)
    return buf.getvalue()


# --- Excel ---------------------------------------------------------------------------------

def _number(col: Column, value: Any) -> tuple[Any, str | None]:
    """A cell value and its number format: numbers as numbers, rates as percentages."""
    if value is None:
        return None, None
    if col.format == "count":
        return int(value), "0"
    if col.format in ("decimal", "percent"):
        d = Decimal(str(value))
        exponent = d.as_tuple().exponent
        places = -exponent if isinstance(exponent, int) and exponent < 0 else 0
        zeros = "0." + "0" * places if places else "0"
        if col.format == "percent":
            return d / 100, zeros + "%"
        return d, zeros
    if col.format == "marks":
        return "、".join(gettext(m) for m in value), None
    if col.format == "word":
        return gettext(value), None
    return str(value), None


def write_table(ws: Any, table: ViewTable) -> int:
    """One table into a worksheet: its heading, figures and rules, a bold header row, then a row per
    entry with numbers as numbers, rates as percentages, struck scores struck. Returns its width."""
    bold = Font(bold=True)
    title = " · ".join(x for x in (table.title, say(table.heading)) if x)
    if title:
        append_row(ws, [title])
        ws.cell(row=ws.max_row, column=1).font = bold
    if table.figures:
        append_row(ws, [v for f in table.figures for v in (gettext(f.label), f.value)])
    for r in table.rules:
        append_row(ws, [say(r)])
    append_row(ws, [column_title(c) for c in table.columns])
    for c in ws[ws.max_row]:
        c.font = bold
        c.alignment = Alignment(wrap_text=True, vertical="center")
    for row in table.rows:
        values, formats = zip(*(_number(c, v) for c, v in zip(table.columns, row.cells, strict=True)), strict=True)
        append_row(ws, list(values))
        line = ws.max_row
        for i, fmt in enumerate(formats, start=1):
            cell = ws.cell(row=line, column=i)
            if fmt:
                cell.number_format = fmt
            end = row.strike(i - 1)
            if end:
                cell.font = Font(strike=True, color=(HIGH if end == "high" else LOW).lstrip("#"))
        if row.highlight:
            for i in range(1, len(values) + 1):
                ws.cell(row=line, column=i).fill = PatternFill("solid", fgColor="E7F4EA")
    return len(table.columns)


def column_widths(ws: Any, widest: int, first: float = 22) -> None:
    ws.column_dimensions["A"].width = first
    for i in range(2, widest + 1):
        ws.column_dimensions[get_column_letter(i)].width = 11


def result_sheet_xlsx(sh: Sheet) -> bytes:
    view = sh.view
    wb = Workbook()
    ws = wb.active
    ws.title = gettext("Result sheet")[:31]
    append_row(ws, [sh.meeting])
    ws.cell(row=ws.max_row, column=1).font = Font(bold=True, size=14)
    append_row(ws, [view.title, gettext(view.kind)])
    ws.cell(row=ws.max_row, column=1).font = Font(bold=True)
    if view.figures:
        append_row(ws, [v for f in view.figures for v in (gettext(f.label), f.value)])
    for a in view.alerts:
        append_row(ws, [say(a)])
        ws.cell(row=ws.max_row, column=1).font = Font(bold=True, color="B3261E")
    for r in view.rules:
        append_row(ws, [say(r)])
    widest = 1
    for table in view.paper_tables():
        append_row(ws, [])
        widest = max(widest, write_table(ws, table))
    append_row(ws, [])
    if view.chain_head:
        append_row(ws, [gettext("Ballot box fingerprint"), view.chain_head])
    if view.credentials_fingerprint:
        append_row(ws, [gettext("Ballot card list fingerprint"), view.credentials_fingerprint])
    for t, h in view.sources:
        append_row(ws, [say(P(SOURCE, title=t, head=h))])
    append_row(ws, [gettext("Signed by the tally"), sh.signature])
    append_row(ws, [])
    append_row(ws, [f"{gettext('Scrutineer')}（{gettext('signature')}）", "", f"{gettext('Counter')}（{gettext('signature')}）"])
    column_widths(ws, widest)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()
