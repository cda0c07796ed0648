"""Score sheets (评分汇总表) as Excel and PDF, during and after a judges' round: every seat's score
with the dropped ones struck (the rules engine's marks, by seat), each contestant's panel (28/30),
mean and rank, sorted by rank, 入围 once everyone has been shown; the draw record in words; the
ballot box chain head. Built from the frozen revealed results.

The table is a `tally.show.results.Table` rendered by `tally.show.sheets` (the result sheets'
renderers): on a landscape A4 page a panel of 30 fits across, each score on one line.
"""
from __future__ import annotations

import io
import json
from typing import Any

from flask_babel import gettext
from openpyxl import Workbook
from openpyxl.styles import Font
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.units import mm
from reportlab.platypus import Flowable, PageBreak, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle
from sqlalchemy import select
from sqlalchemy.orm import Session

from tally.errors import ApiError
from tally.judging import panel, scoring, standings
from tally.setup.meeting import MeetingInfo
from tally.show import results
from tally.show.cells import append_row, pdf_text
from tally.show.results import COLUMNS, MARKS, Column, P, Row
from tally.show.results import Table as ViewTable
from tally.show.sheets import column_widths, pdf_table, rule_lines, styles, write_table
from tally.show.vocab import draw_method
from tally.store.models import ContestantResult, Round


def sheet_data(s: Session, info: MeetingInfo, round_id: str) -> dict[str, Any]:
    """The round's score table (by rank, then speaking order) and what goes around it."""
    plan = panel.score_plan(info, round_id)
    rnd = s.get(Round, round_id)
    if rnd is None:
        raise ApiError(404, "unknown_round", "There is no such round in this meeting.")
    revealed = {r.contestant: json.loads(r.result_json)
                for r in s.scalars(select(ContestantResult).where(ContestantResult.round_id == round_id))}
    ranking = {r["name"]: r for r in standings.ranking(s, info, round_id)}
    order = scoring.order_of(scoring.progress_row(s, round_id), plan)
    ordered = sorted(order, key=lambda n: (ranking.get(n, {}).get("rank") is None,
                                           ranking.get(n, {}).get("rank") or 0, order.index(n)))
    n = plan.judges
    columns = [Column("rank", COLUMNS["rank"], "count"), Column("name", COLUMNS["contestant"], "text"),
               *(Column(f"seat:{i}", panel.seat_label(i), "decimal", seat=True) for i in range(1, n + 1)),
               Column("judged", COLUMNS["judged"], "count", total=n), Column("mean", COLUMNS["mean"], "decimal")]
    if plan.shortlist is not None:
        columns.append(Column("result", COLUMNS["result"], "marks"))
    rows = []
    for name in ordered:
        res = revealed.get(name)
        by_seat = {x["seat"]: x for x in res["scores"]} if res else {}
        cells: list[Any] = [ranking.get(name, {}).get("rank"), name]
        struck = []
        for i in range(1, n + 1):
            x = by_seat.get(i)
            cells.append(x["score"] if x else None)
            if x and x.get("struck"):
                struck.append((len(cells) - 1, x["struck"]))
        short = bool(ranking.get(name, {}).get("shortlisted"))
        cells += [res["count"] if res else None, res["mean"] if res else None]
        if plan.shortlist is not None:
            cells.append((MARKS["shortlisted"],) if short else ())
        rows.append(Row(tuple(cells), highlight=short, struck=tuple(struck)))
    rules = (*results.score_rules(plan), P(results.STRUCK))
    table = ViewTable("grid", tuple(columns), tuple(rows), rules=rules)
    return {"title": info.title, "round": rnd.title, "table": table, "chain_head": rnd.chain_head,
            "draw": panel.draw_record(s, round_id)}


def _draw_rows(draw: dict[str, Any]) -> list[list[str]]:
    return [[gettext("Seat"), gettext("Number"), gettext("Name"), gettext("Group")]] + [
        [x["label"], x["number"], x["name"], x["group"]] for x in draw["seats"]]


def scoresheet_xlsx(s: Session, info: MeetingInfo, round_id: str) -> bytes:
    d = sheet_data(s, info, round_id)
    wb = Workbook()
    ws = wb.active
    ws.title = gettext("Scores")[:31]
    append_row(ws, [d["title"]])
    ws.cell(row=1, column=1).font = Font(bold=True, size=14)
    append_row(ws, [d["round"], gettext("Score sheet")])
    widest = write_table(ws, d["table"])
    append_row(ws, [])
    append_row(ws, [gettext("Ballot box fingerprint"), d["chain_head"]])
    column_widths(ws, widest, first=8)
    ws.column_dimensions["B"].width = 16
    if d["draw"]:
        dr = wb.create_sheet(gettext("Draw record")[:31])
        append_row(dr, [gettext("Seed"), d["draw"]["seed"]])
        append_row(dr, [gettext("Pool size"), d["draw"]["pool_size"]])
        append_row(dr, [gettext("Method"), draw_method(d["draw"])])
        append_row(dr, [gettext("Method (as run)"), d["draw"]["algorithm"]])
        for line in _draw_rows(d["draw"]):
            append_row(dr, line)
        column_widths(dr, 4, first=14)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def scoresheet_pdf(s: Session, info: MeetingInfo, round_id: str) -> bytes:
    d = sheet_data(s, info, round_id)
    st = styles()
    page = landscape(A4)
    margin = 8 * mm
    width = page[0] - 2 * margin
    buf = io.BytesIO()
    doc = SimpleDocTemplate(buf, pagesize=page, leftMargin=margin, rightMargin=margin, topMargin=10 * mm,
                            bottomMargin=10 * mm, title=f"{d['title']} {d['round']}")
    story: list[Flowable] = [
        Paragraph(pdf_text(d["title"]), st["h1"]),
        Paragraph(pdf_text(f"{d['round']}　{gettext('Score sheet')}"), st["h2"]),
        *rule_lines(d["table"].rules, st),
        Spacer(1, 3 * mm),
        pdf_table(d["table"], width),
        Spacer(1, 3 * mm),
        Paragraph(pdf_text(f"{gettext('Ballot box fingerprint')}: {d['chain_head']}"), st["p"]),
    ]
    if d["draw"]:
        story += [
            PageBreak(),
            Paragraph(pdf_text(gettext("Draw record")), st["h1"]),
            Paragraph(pdf_text(f"{gettext('Seed')}: {d['draw']['seed']}　{gettext('Pool size')}: {d['draw']['pool_size']}"),
                      st["p"]),
            Paragraph(pdf_text(f"{gettext('Method')}: {draw_method(d['draw'])}"), st["p"]),
            Paragraph(pdf_text(d["draw"]["algorithm"]), st["mono"]),
            Spacer(1, 3 * mm),
        ]
        # One landscape page holds a panel of 30 with its header (small rows, left-aligned).
        t = Table([[Paragraph(pdf_text(str(v)), st["small"]) for v in r] for r in _draw_rows(d["draw"])],
                  colWidths=[20 * mm, 30 * mm, 40 * mm, 50 * mm], repeatRows=1, hAlign="LEFT")
        t.setStyle(TableStyle([("GRID", (0, 0), (-1, -1), 0.3, "#999999"), ("TOPPADDING", (0, 0), (-1, -1), 1.2),
                               ("BOTTOMPADDING", (0, 0), (-1, -1), 1.2)]))
        story.append(t)
    doc.build(story)
    return buf.getvalue()
