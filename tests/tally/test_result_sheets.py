"""The result model (`tally.show.results`) per kind, and the sheets built from it, over the real app.

- The view keeps the meeting file's order (grades, directions, components), sorts ranked lists
  (score, composite) with 入围 marked, says the rule in words and carries every figure.
- A hostile write-in (markup, a formula) reaches the HTML sheet escaped, the PDF as text and the
  Excel sheet as a text cell; numbers in Excel are numbers and rates percentages.
- The credential list's fingerprint, when a sheet has one, is printed with its QR code.
"""
from __future__ import annotations

import io
from decimal import Decimal
from pathlib import Path

import pytest
from openpyxl import load_workbook

from tally.plan import load_plan
from tally.rules import count_meeting
from tally.show.results import RoundView, round_view
from tests.rules.contract_ballots import contract_ballots

from .conftest import count_body, issue_cards, pair_kiosk, setup_meeting

CONTRACT = Path(__file__).resolve().parents[1] / "rules" / "data" / "contract.yaml"


@pytest.fixture(scope="module")
def views() -> dict[str, RoundView]:
    plan = load_plan(str(CONTRACT))
    doc = count_meeting(plan, enumerate(contract_ballots(), 1))
    return {r["id"]: round_view(r, plan.round(r["id"])) for r in doc["rounds"]}


def cells(view: RoundView, table: int = 0) -> list[tuple[object, ...]]:
    return [r.cells for r in view.tables[table].rows]


def test_recommend_view_sorts_by_votes_and_says_the_pass_mark_over_its_denominator(views):
    v = views["r1"]
    assert [f.key for f in v.figures] == ["expected", "present", "issued", "returned", "valid", "invalid"]
    rows = cells(v)
    assert [r[0] for r in rows][:2] == ["张三", "李四"] and rows[1][2] == "33.33"
    assert rows[1][3] == ("passes",)  # exactly 1/3 passes
    rule = v.tables[0].rules[0]
    assert rule.msgid.startswith("Passes with a rate of at least") and rule.kwargs == {"value": "1/3"}


def test_evaluate_view_keeps_the_grades_order_and_words_the_best_two(views):
    v = views["e1"]
    keys = [c.key for c in v.tables[0].columns]
    assert keys[4:12] == ["count:优秀", "rate:优秀", "count:称职", "rate:称职", "count:基本称职", "rate:基本称职",
                          "count:不称职", "rate:不称职"]
    assert v.tables[0].columns[12].label.kwargs == {"grades": "优秀称职"}
    first = cells(v)[0]
    assert first[:4] == ("张三", 57, 0, 0) and first[12] == "87.72" and first[13] == "85.96"
    assert [t.key for t in v.tables] == ["grades", "directions"] and cells(v, 1)[0][1] == 12


def test_decide_view_marks_deferred_and_says_both_rules(views):
    v = views["d1"]
    assert cells(v)[0] == ("王五", 14, 4, 4, 0, ("deferred",))
    assert [p.msgid.split(" ")[0] for p in v.rules][:2] == ["Passes", "Deferred"]


def test_score_and_composite_views_are_sorted_by_rank_with_the_shortlist_marked(views):
    score = cells(views["s1"])
    assert score[0][:4] == (1, "张三", 30, "88.55") and score[-1][1] == "李四" and score[-1][0] is None
    composite = views["c1"]
    assert [c.label for c in composite.tables[0].columns[2:5]] == ["笔试", "面试", "测评"]
    assert [c.note for c in composite.tables[0].columns[2:5]] == ["40%", "40%", "20%"]
    assert composite.rules[0].kwargs == {"formula": "笔试×40% + 面试×40% + 测评×20%"}


def test_a_score_grid_strikes_by_seat_from_the_rules_engine(views):
    plan = load_plan(str(CONTRACT))
    doc = count_meeting(plan, enumerate(contract_ballots(), 1))
    s1 = next(r for r in doc["rounds"] if r["id"] == "s1")
    seats = {"张三": {i: Decimal(v) for i, v in enumerate([88, 92, 85, 90, 87, 91, 86, 89, 93, 84, 90, 88, 87, 95, 82, 89,
                                                           90, 86, 88, 91, 94, 83, 87, 89, 90, 85, 88, 92, 96, 81], 1)}}
    grid = round_view(s1, plan.round("s1"), seats=seats).tables[-1]
    assert grid.key == "grid" and not grid.screen
    row = grid.rows[0]
    struck = {grid.columns[i].label: end for i, end in row.struck}
    # One of the two 85s (seat 3) and one of the two 92s (seat 28): by value, then seat.
    assert struck == {"J29": "high", "J14": "high", "J21": "high", "J09": "high", "J28": "high",
                      "J30": "low", "J15": "low", "J22": "low", "J10": "low", "J03": "low"}


HOSTILE = ["<img src=x onerror=alert(1)>", "=HYPERLINK(\"http://x\",\"点我\")"]


def test_hostile_write_ins_stay_text_on_every_sheet(client, admin_headers, app):
    setup_meeting(client, admin_headers)
    kiosk = pair_kiosk(client, admin_headers)
    kiosk.forms = {r["id"]: r for r in client.get("/api/v1/ballot").get_json()["rounds"]}
    cards = issue_cards(client, admin_headers, kiosk.meeting, 3)
    for card, name in zip(cards, [*HOSTILE, "张三"], strict=True):
        resp = client.post("/api/v1/envelopes", json=kiosk.envelope(card, {"round": "r1", "sections": {"mayor": [name]}}))
        assert resp.status_code == 201, resp.get_json()
    client.post("/api/v1/admin/rounds/r1/close", json={}, headers=admin_headers)
    assert client.post("/api/v1/admin/rounds/r1/count", json=count_body(client, "r1"),
                       headers=admin_headers).status_code == 200
    html = client.get("/api/v1/admin/rounds/r1/sheet.html", headers=admin_headers).get_data(as_text=True)
    assert "<img src=x" not in html and "&lt;img src=x onerror=alert(1)&gt;" in html
    assert "<pre" not in html and "另推" in html
    pdf = client.get("/api/v1/admin/rounds/r1/sheet.pdf", headers=admin_headers)
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")
    ws = load_workbook(io.BytesIO(client.get("/api/v1/admin/rounds/r1/sheet.xlsx", headers=admin_headers).data)).active
    names = {c.value: c for row in ws.iter_rows() for c in row if c.value in HOSTILE}
    assert set(names) == set(HOSTILE) and all(c.data_type == "s" for c in names.values())
    votes = [row[1].value for row in ws.iter_rows() if row[0].value in HOSTILE]
    assert votes == [1, 1]  # numbers as numbers
    rate = next(row[2] for row in ws.iter_rows() if row[0].value == "张三")
    assert rate.number_format == "0.00%" and abs(float(rate.value) - 1 / 6) < 1e-4


def test_the_credential_list_fingerprint_prints_when_present(app, client, admin_headers):
    from dataclasses import replace

    from tally.show import sheets

    plan = load_plan(str(CONTRACT))
    doc = count_meeting(plan, enumerate(contract_ballots(), 1))
    view = round_view(doc["rounds"][0], plan.round("r1"), chain_head="ab" * 32)
    with app.test_request_context("/"):
        bare = sheets.result_sheet_pdf(sheets.Sheet("会议", view, "sig"))
        fp = "CRED FING ERPR INT0 0000 0000 0000 0000"
        both = sheets.result_sheet_pdf(sheets.Sheet("会议", replace(view, credentials_fingerprint=fp), "sig"))
        book = load_workbook(io.BytesIO(sheets.result_sheet_xlsx(sheets.Sheet("会议", replace(
            view, credentials_fingerprint=fp), "sig")))).active
    assert len(both) > len(bare)  # a second QR code and its fingerprint
    assert any(c.value == fp for row in book.iter_rows() for c in row)
