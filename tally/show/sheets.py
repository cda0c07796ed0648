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
from sqlalchemy import select
from sqlalchemy.orm import Session

from tally.judging import scoring as judging
from tally.errors import ApiError
from tally.setup.meeting import MeetingInfo
from tally.store.models import ContestantResult, Round


def _value(word: str) -> str:
    """Translate a word that comes from data (an outcome, a status), declared in `tally.show.vocab`."""
    return _(word)


def sheet_data(s: Session, info: MeetingInfo, round_id: str) -> dict[str, Any]:
    plan = judging.score_plan(info, round_id)
    rnd = s.get(Round, round_id)
    if rnd is None:
        raise ApiError(404, "unknown_round", "There is no such round in this meeting.")
    results = {r.contestant: json.loads(r.result_json)
               for r in s.scalars(select(ContestantResult).where(ContestantResult.round_id == round_id))}
    ranks = {r["name"]: r["rank"] for r in judging.ranking(s, info, round_id)}
    prog = judging.progress_row(s, round_id)
    order = [c for c in judging.order_of(prog, plan)]
    rows = []
    for name in order:
        res = results.get(name)
        cells: dict[int, dict[str, Any]] = {x["seat"]: x for x in res["scores"]} if res else {}
        rows.append({"name": name, "cells": cells, "mean": res["mean"] if res else None, "rank": ranks.get(name)})
    return {"title": info.title, "round": rnd.title, "judges": plan.judges, "trim": plan.trim, "rows": rows,
            "chain_head": rnd.chain_head, "draw": judging.draw_record(s, round_id)}


def scoresheet_xlsx(s: Session, info: MeetingInfo, round_id: str) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font

    d = sheet_data(s, info, round_id)
    wb = Workbook()
    ws = wb.active
    ws.title = _("Scores")[:31]
    ws.append([d["title"]])
    ws.append([d["round"], _("Drop %(k)s highest and %(k)s lowest", k=d["trim"])])
    header = [_("Contestant")] + [judging.seat_label(n) for n in range(1, d["judges"] + 1)] + [_("Mean"), _("Rank")]
    ws.append(header)
    for c in ws[3]:
        c.font = Font(bold=True)
    for row in d["rows"]:
        values: list[Any] = [row["name"]]
        for n in range(1, d["judges"] + 1):
            cell = row["cells"].get(n)
            values.append(cell["score"] if cell else "")
        values += [row["mean"] or "", row["rank"] or ""]
        ws.append(values)
        r = ws.max_row
        for n in range(1, d["judges"] + 1):
            cell = row["cells"].get(n)
            if cell and cell["struck"]:
                ws.cell(row=r, column=n + 1).font = Font(strike=True, color="B3261E")
        ws.cell(row=r, column=d["judges"] + 2).font = Font(bold=True)
    ws.append([])
    ws.append([_("Struck scores are the dropped highest and lowest.")])
    ws.append([_("Ballot box fingerprint"), d["chain_head"]])
    for col in ws.iter_cols(min_row=3, max_row=3):
        col[0].alignment = Alignment(horizontal="center")
    if d["draw"]:
        dr = wb.create_sheet(_("Draw record")[:31])
        dr.append([_("Seed"), d["draw"]["seed"]])
        dr.append([_("Pool size"), d["draw"]["pool_size"]])
        dr.append([_("Method"), d["draw"]["algorithm"]])
        dr.append([_("Seat"), _("Number"), _("Name"), _("Group")])
        for seat in d["draw"]["seats"]:
            dr.append([seat["label"], seat["number"], seat["name"], seat["group"]])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def scoresheet_pdf(s: Session, info: MeetingInfo, round_id: str) -> bytes:
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4, landscape
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import mm
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.platypus import PageBreak, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle


    d = sheet_data(s, info, round_id)
    pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
    h1 = ParagraphStyle("h1", fontName="STSong-Light", fontSize=16, leading=20)
    p = ParagraphStyle("p", fontName="STSong-Light", fontSize=9, leading=12)
    struck = ParagraphStyle("struck", fontName="STSong-Light", fontSize=6.5, leading=8, textColor=colors.HexColor("#B3261E"))
    cell = ParagraphStyle("cell", fontName="STSong-Light", fontSize=6.5, leading=8)
    buf = io.BytesIO()
    doc = SimpleDocTemplate(buf, pagesize=landscape(A4), leftMargin=8 * mm, rightMargin=8 * mm, topMargin=10 * mm,
                            bottomMargin=10 * mm, title=f"{d['title']} {d['round']}")
    story: list[Any] = [Paragraph(d["title"], h1), Paragraph(f"{d['round']}，" + _("Drop %(k)s highest and %(k)s lowest", k=d["trim"]), p),
                        Spacer(1, 4 * mm)]
    header = [_("Contestant")] + [judging.seat_label(n) for n in range(1, d["judges"] + 1)] + [_("Mean"), _("Rank")]
    data: list[list[Any]] = [[Paragraph(h, cell) for h in header]]
    for row in d["rows"]:
        line: list[Any] = [Paragraph(row["name"], cell)]
        for n in range(1, d["judges"] + 1):
            c = row["cells"].get(n)
            if not c:
                line.append("")
            elif c["struck"]:
                line.append(Paragraph(f"<strike>{c['score']}</strike>", struck))
            else:
                line.append(Paragraph(c["score"], cell))
        line += [Paragraph(f"<b>{row['mean'] or '—'}</b>", cell), Paragraph(str(row["rank"] or "—"), cell)]
        data.append(line)
    name_w, mean_w, rank_w = 22 * mm, 14 * mm, 9 * mm
    seat_w = (landscape(A4)[0] - 16 * mm - name_w - mean_w - rank_w) / d["judges"]
    table = Table(data, colWidths=[name_w] + [seat_w] * d["judges"] + [mean_w, rank_w], repeatRows=1)
    table.setStyle(TableStyle([("GRID", (0, 0), (-1, -1), 0.3, colors.grey),
                               ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#EEEEEE")),
                               ("VALIGN", (0, 0), (-1, -1), "MIDDLE")]))
    story += [table, Spacer(1, 4 * mm), Paragraph(_("Struck scores are the dropped highest and lowest."), p),
              Paragraph(_("Ballot box fingerprint") + f": {d['chain_head']}", p)]
    if d["draw"]:
        story += [PageBreak(), Paragraph(_("Draw record"), h1),
                  Paragraph(f"{_('Seed')}: {d['draw']['seed']}，{_('Pool size')}: {d['draw']['pool_size']}", p),
                  Paragraph(f"{_('Method')}: {d['draw']['algorithm']}", p), Spacer(1, 3 * mm)]
        rows = [[_("Seat"), _("Number"), _("Name"), _("Group")]] + [[x["label"], x["number"], x["name"], x["group"]] for x in d["draw"]["seats"]]
        t = Table([[Paragraph(str(v), p) for v in r] for r in rows], colWidths=[20 * mm, 30 * mm, 40 * mm, 50 * mm])
        t.setStyle(TableStyle([("GRID", (0, 0), (-1, -1), 0.3, colors.grey)]))
        story.append(t)
    doc.build(story)
    return buf.getvalue()


# --- result sheets of ballot rounds (结果报告单) -------------------------------------------------

def _result_rows(kind: str, result: dict[str, Any], raw: dict[str, Any]) -> tuple[list[str], list[list[str]]]:
    """The table of a counted round as header + rows of text, in the words of the sheet."""
    if kind == "recommend":
        titles = {p["id"]: p.get("title") or p["id"] for p in raw.get("posts", [])}
        header = [_("Post"), _("Name"), _("Votes"), _("Rate"), _("Result")]
        rows = [[titles.get(p["id"], p["id"]), c["name"] + (f" ({_('write-in')})" if c.get("write_in") else ""), str(c["votes"]),
                 f"{c['rate']}%" if c.get("rate") is not None else "—", _("passes") if c.get("passes") else _("does not pass")]
                for p in result.get("posts", []) for c in p["candidates"]]
    elif kind == "evaluate":
        grades = list(result["subjects"][0]["counts"]) if result.get("subjects") else []
        header = [_("Person evaluated"), "N", *grades, _("Competent or above"), _("Score")]
        rows = [[s["name"], str(s["valid"]), *[f"{s['counts'][g]} ({s['rates'][g]}%)" for g in grades],
                 f"{s['rates'].get('competent_or_above')}%", s.get("score") or "—"] for s in result.get("subjects", [])]
    elif kind == "decide":
        header = [_("Name"), _("Agree"), _("Disagree"), _("Abstain"), _("Not voted"), _("Result")]
        rows = [[n["name"], str(n["agree"]), str(n["disagree"]), str(n["abstain"]), str(n["not_voted"]), _value(n["outcome"])]
                for n in result.get("nominees", [])]
    elif kind == "score":
        header = [_("Rank"), _("Name"), _("Mean")]
        rows = [[str(c.get("rank") or "—"), c["name"], c.get("mean") or _("incomplete")] for c in result.get("contestants", [])]
    else:
        header = [_("Rank"), _("Name"), _("Composite score")]
        rows = [[str(c.get("rank") or "—"), c["name"], c.get("composite") or _("incomplete")] for c in result.get("candidates", [])]
    return header, rows


def _attendance_line(result: dict[str, Any]) -> str:
    parts = []
    for key, label in (("expected", _("Expected (应到)")), ("present", _("Present (实到)")),
                       ("issued", _("Issued (发出)")), ("returned", _("Returned (收回)"))):
        if result.get(key) is not None:
            parts.append(f"{label} {result[key]}")
    if result.get("status") and result["status"] != "counted":
        parts.append(_value(result["status"]))
    return "，".join(parts)  # a full-width comma: the PDF's CJK font has no middle dot


def _post_lines(kind: str, result: dict[str, Any], raw: dict[str, Any]) -> list[str]:
    """有效/无效/空白 and the threshold of each post of a recommendation round."""
    if kind != "recommend":
        return []
    titles = {p["id"]: p.get("title") or p["id"] for p in raw.get("posts", [])}
    return [f"{titles.get(p['id'], p['id'])}：{_('Valid')} {p['valid']}，{_('Invalid')} {p['invalid']}，"
            f"{_('Blank')} {p['blank']}，{_('Seats')} {p['seats']}，{_('Threshold')} {p['threshold']}"
            for p in result.get("posts", [])]


def counted_round(s: Session, round_id: str) -> tuple[Round, dict[str, Any], dict[str, Any]]:
    rnd = s.get(Round, round_id)
    if rnd is None:
        raise ApiError(404, "unknown_round", "There is no such round in this meeting.")
    if not rnd.result_json:
        raise ApiError(409, "round_not_counted", "Count the round before showing its result.")
    return rnd, json.loads(rnd.result_json), json.loads(rnd.result_sig or "{}")


def result_sheet_xlsx(s: Session, info: MeetingInfo, round_id: str) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    rnd, result, signed = counted_round(s, round_id)
    header, rows = _result_rows(rnd.kind, result, info.round_raw(round_id))
    wb = Workbook()
    ws = wb.active
    ws.title = _("Result sheet")[:31]
    ws.append([info.title])
    ws.append([rnd.title])
    ws.append([_attendance_line(result)])
    for line in _post_lines(rnd.kind, result, info.round_raw(round_id)):
        ws.append([line])
    ws.append(header)
    for c in ws[ws.max_row]:
        c.font = Font(bold=True)
    for r in rows:
        ws.append(r)
    ws.append([])
    ws.append([_("Ballot box fingerprint"), rnd.chain_head])
    ws.append([_("Signed by the tally"), signed.get("sig", "")])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def result_sheet_pdf(s: Session, info: MeetingInfo, round_id: str) -> bytes:
    from reportlab.graphics.barcode.qr import QrCodeWidget
    from reportlab.graphics.shapes import Drawing
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import mm
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

    rnd, result, signed = counted_round(s, round_id)
    header, rows = _result_rows(rnd.kind, result, info.round_raw(round_id))
    pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
    h1 = ParagraphStyle("h1", fontName="STSong-Light", fontSize=17, leading=22)
    h2 = ParagraphStyle("h2", fontName="STSong-Light", fontSize=13, leading=17)
    p = ParagraphStyle("p", fontName="STSong-Light", fontSize=9.5, leading=13)
    mono = ParagraphStyle("mono", fontName="Courier", fontSize=7.5, leading=9)
    buf = io.BytesIO()
    doc = SimpleDocTemplate(buf, pagesize=A4, leftMargin=15 * mm, rightMargin=15 * mm, topMargin=15 * mm,
                            bottomMargin=15 * mm, title=f"{info.title} {rnd.title}")
    table = Table([[Paragraph(h, p) for h in header]] + [[Paragraph(c, p) for c in r] for r in rows], repeatRows=1)
    table.setStyle(TableStyle([("GRID", (0, 0), (-1, -1), 0.4, colors.grey),
                               ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#EEEEEE"))]))
    qr = QrCodeWidget(rnd.chain_head)
    x0, y0, x1, y1 = qr.getBounds()
    size = 32 * mm
    drawing = Drawing(size, size, transform=[size / (x1 - x0), 0, 0, size / (y1 - y0), 0, 0])
    drawing.add(qr)
    facts = [Paragraph(line, p) for line in _post_lines(rnd.kind, result, info.round_raw(round_id))]
    story = [Paragraph(info.title, h1), Paragraph(rnd.title, h2), Spacer(1, 2 * mm), Paragraph(_attendance_line(result), p),
             *facts, Spacer(1, 4 * mm), table, Spacer(1, 6 * mm), Paragraph(_("Ballot box fingerprint"), p),
             Paragraph(rnd.chain_head, mono), drawing, Paragraph(_("Signed by the tally"), p),
             Paragraph(signed.get("sig", ""), mono), Spacer(1, 10 * mm),
             Paragraph(f"{_('Chair')}：______________　　{_('Scrutineer')}：______________　　{_('Counter')}：______________", p)]
    doc.build(story)
    return buf.getvalue()
