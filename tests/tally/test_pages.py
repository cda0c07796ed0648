"""Every page renders for the people who use it, in Chinese first and in English, and refuses strangers."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from .conftest import count_body, issue_cards, load_forms, pair_kiosk, setup_meeting


def login(client, admin):  # type: ignore[no-untyped-def]
    r = client.post("/console/login", data={"token": admin["Authorization"][7:]})
    assert r.status_code == 302


def csrf_of(html: str) -> str:
    return re.search(r'name="csrf" content="([^"]+)"', html).group(1)


def test_console_login_is_required_and_wrong_token_refused(client):
    r = client.get("/console")
    assert r.status_code == 302 and "/console/login" in r.headers["Location"]
    r = client.post("/console/login", data={"token": "nope"})
    assert r.status_code == 401 and "口令不正确" in r.get_data(as_text=True)


@pytest.mark.parametrize("lang, words", [("zh", ["投票轮次", "出席", "投票平板"]), ("en", ["Rounds", "Attendance", "Kiosks"])])
def test_console_in_both_languages(client, admin_headers, lang, words):
    login(client, admin_headers)
    html = client.get(f"/console?lang={lang}").get_data(as_text=True)
    for w in words:
        assert w in html
    # The language choice is remembered.
    again = client.get("/console").get_data(as_text=True)
    assert words[0] in again


def test_console_shows_the_check_codes_the_scrutineers_compare(client, admin_headers, meeting_dir):
    """At set-up each scrutineer compares their sheet's check codes with the console's table."""
    from .conftest import shares_dir

    login(client, admin_headers)
    html = client.get("/console").get_data(as_text=True)
    assert client.post("/console/cards/print", data={"count": "3"}).status_code in (403, 404, 405)  # gone
    custody = client.get("/api/v1/admin/custody", headers=admin_headers).get_json()
    assert (custody["scrutineers"], custody["quorum"]) == (3, 2)
    assert [k["round"] for k in custody["keys"]] == ["r1", "e1", "d1", "spare-1", "spare-2", "spare-3"]
    assert custody["record_fingerprint"] in html
    for i in (1, 2, 3):
        sheet = (shares_dir(meeting_dir) / f"scrutineer-{i}.txt").read_text(encoding="utf-8")
        assert custody["record_fingerprint"] in sheet
        for k in custody["keys"]:
            code = k["codes"][i - 1]
            assert f"# {k['round']} " in sheet and code in sheet and f"<code>{code}</code>" in html
    # The printed sheet says the same: title, fingerprint, each round's check code, Chinese first.
    import shutil
    import subprocess

    if shutil.which("pdftotext"):
        pdf = subprocess.run(["pdftotext", str(shares_dir(meeting_dir) / "scrutineer-2.pdf"), "-"],
                             capture_output=True, text=True).stdout.replace("\n", " ")
        assert "测试镇推荐会议" in pdf and custody["record_fingerprint"] in pdf and "签名" in pdf
        assert all(k["codes"][1] in pdf for k in custody["keys"])
        assert pdf.index("监票人") < pdf.index("Scrutineer")
    # Nothing secret on the console: no share line, no share value.
    assert "SCRS1" not in html


def test_card_sheet_desk_and_result_sheet(client, app, admin_headers):
    login(client, admin_headers)
    desk_url = client.get("/api/v1/admin/links", headers=admin_headers).get_json()["desk"]
    desk = app.test_client()
    assert desk.get("/desk").status_code == 401
    r = desk.get(desk_url.split("localhost")[1])
    page = r.get_data(as_text=True)
    assert r.status_code == 200 and "签到台" in page
    # Cards are counted out, not scanned; no unlock unless the chair allows it.
    assert 'id="card"' not in page and 'id="unlock"' not in page
    client.post("/api/v1/admin/settings", json={"desk_unlock": True}, headers=admin_headers)
    assert 'id="unlock"' in desk.get("/desk").get_data(as_text=True)
    # The desk session can sign people in with the page's CSRF token, but is not the chair.
    setup_meeting(client, admin_headers, sign_in=0, open_rounds=())
    token = csrf_of(r.get_data(as_text=True))
    s = desk.post("/api/v1/desk/signin", json={"number": "001"}, headers={"X-CSRF-Token": token})
    assert s.status_code == 200 and s.get_json()["totals"]["present"] == 1
    assert desk.post("/api/v1/desk/signin", json={"number": "001"}, headers={"X-CSRF-Token": "bad"}).status_code == 403
    assert desk.post("/api/v1/admin/rounds/r1/open", json={}, headers={"X-CSRF-Token": token}).status_code == 401
    # A counted round's printable sheet carries the chain head.
    for n in range(2, 7):
        client.post("/api/v1/desk/signin", json={"number": f"{n:03d}"}, headers=admin_headers)
    client.post("/api/v1/admin/rounds/r1/open", json={}, headers=admin_headers)
    kiosk = pair_kiosk(client, admin_headers)
    load_forms(client, kiosk)
    cards = issue_cards(client, admin_headers, kiosk.meeting, 1)
    client.post("/api/v1/envelopes", json=kiosk.envelope(cards[0], {"round": "r1", "sections": {"mayor": ["张三"]}}))
    client.post("/api/v1/admin/rounds/r1/close", json={}, headers=admin_headers)
    client.post("/api/v1/admin/rounds/r1/count", json=count_body(client, "r1"), headers=admin_headers)
    sheet = client.get("/console/rounds/r1/sheet")
    text = sheet.get_data(as_text=True)
    state = client.get("/api/v1/admin/state", headers=admin_headers).get_json()
    head = next(r for r in state["rounds"] if r["id"] == "r1")["chain_head"]
    # Its QR code is an SVG path in an attribute: a picture drawn from the head, no markup from data.
    assert sheet.status_code == 200 and head in text and "张三" in text and '<svg class="qr"' in text


def test_unknown_pages_and_methods_answer_in_the_error_shape(client):
    r = client.get("/api/v1/nothing")
    assert r.status_code == 404 and r.get_json()["error"]["code"] == "not_found"
    r = client.get("/api/v1/envelopes")
    assert r.status_code == 405 and r.get_json()["error"]["code"] == "method_not_allowed"
    r = client.get("/nothing", headers={"Accept": "text/html"})
    assert r.status_code == 404 and "没有这个页面" in r.get_data(as_text=True)


def test_result_sheets_as_pdf_and_excel(client, admin_headers, tmp_path):
    import io
    import subprocess

    from openpyxl import load_workbook

    setup_meeting(client, admin_headers)
    kiosk = pair_kiosk(client, admin_headers)
    load_forms(client, kiosk)
    cards = issue_cards(client, admin_headers, kiosk.meeting, 2)
    for c, n in zip(cards, ["张三", "李四"], strict=False):
        client.post("/api/v1/envelopes", json=kiosk.envelope(c, {"round": "r1", "sections": {"mayor": [n]}}))
    assert client.get("/api/v1/admin/rounds/r1/sheet.pdf", headers=admin_headers).status_code == 409
    client.post("/api/v1/admin/rounds/r1/close", json={}, headers=admin_headers)
    client.post("/api/v1/admin/rounds/r1/count", json=count_body(client, "r1"), headers=admin_headers)
    head = next(
        r for r in client.get("/api/v1/admin/state", headers=admin_headers).get_json()["rounds"] if r["id"] == "r1"
    )["chain_head"]
    x = client.get("/api/v1/admin/rounds/r1/sheet.xlsx", headers=admin_headers)
    ws = load_workbook(io.BytesIO(x.data)).active
    cells = [c.value for row in ws.iter_rows() for c in row if c.value is not None]
    assert head in cells and "张三" in cells and "镇长人选会议推荐" in cells
    pdf = client.get("/api/v1/admin/rounds/r1/sheet.pdf", headers=admin_headers)
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")
    (tmp_path / "r1.pdf").write_bytes(pdf.data)
    import os

    if os.environ.get("SCRUTINEER_ARTIFACTS"):
        (Path(os.environ["SCRUTINEER_ARTIFACTS"]) / "result-sheet-r1.pdf").write_bytes(pdf.data)
    text = subprocess.run(["pdftotext", str(tmp_path / "r1.pdf"), "-"], capture_output=True, text=True)
    if text.returncode == 0:
        assert head in text.stdout.replace("\n", "") and "张三" in text.stdout
        # The scrutineers' card list fingerprint, and the ballots that came by desk unlock (none here).
        fp = client.get("/api/v1/admin/state", headers=admin_headers).get_json()["card_list"]["fingerprint"]
        flat = text.stdout.replace("\n", "")
        # (the count is one of the round's figures, printed "label value" like 应到 6)
        assert "选票卡清单指纹" in flat and fp in flat and re.search(r"签到台解锁的选票（平板自制凭证）\s*0", flat)
    assert any(str(fp_line).startswith("选票卡清单指纹") for fp_line in cells)  # numbers are numbers now


def test_audit_log_records_the_chairs_actions_and_never_ballots(client, admin_headers):
    setup_meeting(client, admin_headers)
    kiosk = pair_kiosk(client, admin_headers)
    load_forms(client, kiosk)
    cards = issue_cards(client, admin_headers, kiosk.meeting, 1)
    client.post("/api/v1/envelopes", json=kiosk.envelope(cards[0], {"round": "r1", "sections": {"mayor": ["王五"]}}))
    client.post("/api/v1/admin/rounds/r1/close", json={}, headers=admin_headers)
    entries = client.get("/api/v1/admin/audit", headers=admin_headers).get_json()["entries"]
    actions = [e["action"] for e in entries]
    assert actions[:2] == ["card_list_imported", "roster_imported"]
    assert "round_opened" in actions and actions[-1] == "round_closed"
    assert entries[-1]["detail"]["accepted"] == 1 and len(entries[-1]["detail"]["chain_head"]) == 64
    assert "王五" not in str(entries)
    login(client, admin_headers)
    page = client.get("/console/audit").get_data(as_text=True)
    assert "开始投票" in page and "结束投票" in page and "王五" not in page
