"""Score sheets (评分汇总表) as Excel and PDF: contestants by seat, struck scores, means, ranks,
the draw record and the ballot box chain head. Built from the frozen revealed results.

PDF text uses reportlab's built-in STSong-Light CID font, so Chinese prints without shipping a
font file. Headings come through the translation layer (Chinese first).
"""
from __future__ import annotations

import io
import json
from typing import Any

from flask_babel import gettext as _
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.platypus import PageBreak, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle
from sqlalchemy import select
from sqlalchemy.orm import Session

from tally.errors import ApiError
from tally.judging import panel, scoring, standings
from tally.setup.meeting import MeetingInfo
from tally.show.cells import append_row, pdf_text
from tally.store.models import ContestantResult, Round


def sheet_data(s: Session, info: MeetingInfo, round_id: str) -> dict[str, Any]:
    plan = panel.score_plan(info, round_id)
    rnd = s.get(Round, round_id)
    if rnd is None:
        raise ApiError(404, "unknown_round", "There is no such round in this meeting.")
    results = {r.contestant: json.loads(r.result_json)
               for r in s.scalars(select(ContestantResult).where(ContestantResult.round_id == round_id))}
    ranks = {r["name"]: r["rank"] for r in standings.ranking(s, info, round_id)}
    prog = scoring.progress_row(s, round_id)
    order = [c for c in scoring.order_of(prog, plan)]
    rows = []
    for name in order:
        res = results.get(name)
        cells: dict[int, dict[str, Any]] = {x["seat"]: x for x in res["scores"]} if res else {}
        rows.append({"name": name, "cells": cells, "mean": res["mean"] if res else None, "rank": ranks.get(name)})
    return {"title": info.title, "round": rnd.title, "judges": plan.judges, "trim": plan.trim, "rows": rows,
            "chain_head": rnd.chain_head, "draw": panel.draw_record(s, round_id)}


def scoresheet_xlsx(s: Session, info: MeetingInfo, round_id: str) -> bytes:
    d = sheet_data(s, info, round_id)
    wb = Workbook()
    ws = wb.active
    ws.title = _("Scores")[:31]
    append_row(ws, [d["title"]])
    append_row(ws, [d["round"], _("Drop %(k)s highest and %(k)s lowest", k=d["trim"])])
    header = [_("Contestant")] + [panel.seat_label(n) for n in range(1, d["judges"] + 1)] + [_("Mean"), _("Rank")]
    append_row(ws, header)
    for c in ws[3]:
        c.font = Font(bold=True)
    for row in d["rows"]:
        values: list[Any] = [row["name"]]
        for n in range(1, d["judges"] + 1):
            cell = row["cells"].get(n)
            values.append(cell["score"] if cell else "")
        values += [row["mean"] or "", row["rank"] or ""]
        append_row(ws, values)
        r = ws.max_row
        for n in range(1, d["judges"] + 1):
            cell = row["cells"].get(n)
            if cell and cell["struck"]:
                ws.cell(row=r, column=n + 1).font = Font(strike=True, color="B3261E")
        ws.cell(row=r, column=d["judges"] + 2).font = Font(bold=True)
    append_row(ws, [])
    append_row(ws, [_("Struck scores are the dropped highest and lowest.")])
    append_row(ws, [_("Ballot box fingerprint"), d["chain_head"]])
    for col in ws.iter_cols(min_row=3, max_row=3):
        col[0].alignment = Alignment(horizontal="center")
    if d["draw"]:
        dr = wb.create_sheet(_("Draw record")[:31])
        append_row(dr, [_("Seed"), d["draw"]["seed"]])
        append_row(dr, [_("Pool size"), d["draw"]["pool_size"]])
        append_row(dr, [_("Method"), d["draw"]["algorithm"]])
        append_row(dr, [_("Seat"), _("Number"), _("Name"), _("Group")])
        for seat in d["draw"]["seats"]:  # judge-pool names as text, never formulas
            append_row(dr, [seat["label"], seat["number"], seat["name"], seat["group"]])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def scoresheet_pdf(s: Session, info: MeetingInfo, round_id: str) -> bytes:
    d = sheet_data(s, info, round_id)
    pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
    h1 = ParagraphStyle("h1", fontName="STSong-Light", fontSize=16, leading=20)
    p = ParagraphStyle("p", fontName="STSong-Light", fontSize=9, leading=12)
    struck = ParagraphStyle("struck", fontName="STSong-Light", fontSize=6.5, leading=8, textColor=colors.HexColor("#B3261E"))
    cell = ParagraphStyle("cell", fontName="STSong-Light", fontSize=6.5, leading=8)
    buf = io.BytesIO()
    doc = SimpleDocTemplate(buf, pagesize=landscape(A4), leftMargin=8 * mm, rightMargin=8 * mm, topMargin=10 * mm,
                            bottomMargin=10 * mm, title=f"{d['title']} {d['round']}")
    story: list[Any] = [
        Paragraph(pdf_text(d["title"]), h1),
        Paragraph(pdf_text(f"{d['round']}，" + _("Drop %(k)s highest and %(k)s lowest", k=d["trim"])), p),
        Spacer(1, 4 * mm),
    ]
    header = [_("Contestant")] + [panel.seat_label(n) for n in range(1, d["judges"] + 1)] + [_("Mean"), _("Rank")]
    data: list[list[Any]] = [[Paragraph(pdf_text(h), cell) for h in header]]
    for row in d["rows"]:
        line: list[Any] = [Paragraph(pdf_text(row["name"]), cell)]
        for n in range(1, d["judges"] + 1):
            c = row["cells"].get(n)
            if not c:
                line.append("")
            elif c["struck"]:
                line.append(Paragraph(f"<strike>{pdf_text(c['score'])}</strike>", struck))
            else:
                line.append(Paragraph(pdf_text(c["score"]), cell))
        line += [Paragraph(f"<b>{pdf_text(row['mean'] or '—')}</b>", cell), Paragraph(pdf_text(str(row["rank"] or "—")), cell)]
        data.append(line)
    name_w, mean_w, rank_w = 22 * mm, 14 * mm, 9 * mm
    seat_w = (landscape(A4)[0] - 16 * mm - name_w - mean_w - rank_w) / d["judges"]
    table = Table(data, colWidths=[name_w] + [seat_w] * d["judges"] + [mean_w, rank_w], repeatRows=1)
    table.setStyle(
        TableStyle(
            [
                ("GRID", (0, 0), (-1, -1), 0.3, colors.grey),
                ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#EEEEEE")),
                ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
            ]
        )
    )
    story += [
        table,
        Spacer(1, 4 * mm),
        Paragraph(pdf_text(_("Struck scores are the dropped highest and lowest.")), p),
        Paragraph(pdf_text(_("Ballot box fingerprint") + f": {d['chain_head']}"), p),
    ]
    if d["draw"]:
        story += [
            PageBreak(),
            Paragraph(pdf_text(_("Draw record")), h1),
            Paragraph(pdf_text(f"{_('Seed')}: {d['draw']['seed']}，{_('Pool size')}: {d['draw']['pool_size']}"), p),
            Paragraph(pdf_text(f"{_('Method')}: {d['draw']['algorithm']}"), p),
            Spacer(1, 3 * mm),
        ]
        rows = [[_("Seat"), _("Number"), _("Name"), _("Group")]] + [
            [x["label"], x["number"], x["name"], x["group"]] for x in d["draw"]["seats"]
        ]
        t = Table([[Paragraph(pdf_text(str(v)), p) for v in r] for r in rows], colWidths=[20 * mm, 30 * mm, 40 * mm, 50 * mm])
        t.setStyle(TableStyle([("GRID", (0, 0), (-1, -1), 0.3, colors.grey)]))
        story.append(t)
    doc.build(story)
    return buf.getvalue()
