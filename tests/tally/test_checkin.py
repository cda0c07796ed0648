"""Check-in: the roster from CSV (UTF-8 or GB18030), Excel or JSON rows; bad rosters refused
whole with the line named; signing in and 实到."""
from __future__ import annotations

import io

import pytest
from openpyxl import Workbook


def post_file(client, admin, name, data):  # type: ignore[no-untyped-def]
    return client.post("/api/v1/admin/roster", data={"file": (io.BytesIO(data), name)}, headers=admin)


def totals(client, admin):  # type: ignore[no-untyped-def]
    return client.get("/api/v1/admin/state", headers=admin).get_json()["attendance"]


def test_csv_in_gb18030_excel_and_json_rows(client, admin_headers):
    r = post_file(client, admin_headers, "r.csv", "编号,姓名,类别\n1,张三,代表\n2,李四,委员\n".encode("gb18030"))
    assert r.status_code == 200 and r.get_json()["imported"] == 2
    wb = Workbook()
    ws = wb.active
    ws.append(["序号", "姓名"])
    for i in range(1, 4):
        ws.append([i, f"代表{i}"])
    buf = io.BytesIO()
    wb.save(buf)
    assert post_file(client, admin_headers, "r.xlsx", buf.getvalue()).get_json()["imported"] == 3
    r = client.post(
        "/api/v1/admin/roster",
        json={"rows": [["number", "name", "group"], ["A1", "王五", "成员"]]},
        headers=admin_headers,
    )
    assert r.get_json()["imported"] == 1
    assert totals(client, admin_headers) == {"expected": 1, "present": 0}


@pytest.mark.parametrize(
    "data, words",
    [
        ("姓名\n张三\n".encode(), "编号"),
        ("编号,姓名\n1,张三\n1,李四\n".encode(), "第 3 行"),
        ("编号,姓名\n1,\n".encode(), "第 2 行"),
        (b"", "\u4e3a\u7a7a"),
        (b"\xff\xfe\x00garbage\x81", "编码"),
    ],
)
def test_bad_rosters_are_refused_whole(client, admin_headers, data, words):
    post_file(client, admin_headers, "ok.csv", "编号,姓名\n9,赵六\n".encode())
    r = post_file(client, admin_headers, "bad.csv", data)
    assert r.status_code == 400 and r.get_json()["error"]["code"] == "bad_roster"
    assert words in r.get_json()["error"]["message"]
    assert totals(client, admin_headers)["expected"] == 1  # the previous roster stands


def test_sign_in_twice_and_roster_locked_once_check_in_started(client, admin_headers):
    post_file(client, admin_headers, "r.csv", "编号,姓名\n1,张三\n2,李四\n".encode())
    assert client.post("/api/v1/desk/signin", json={"number": "1"}, headers=admin_headers).status_code == 200
    r = client.post("/api/v1/desk/signin", json={"number": "1"}, headers=admin_headers)
    assert r.status_code == 409 and r.get_json()["error"]["code"] == "already_signed_in"
    r = client.post("/api/v1/desk/signin", json={"number": "9"}, headers=admin_headers)
    assert r.status_code == 404
    assert totals(client, admin_headers) == {"expected": 2, "present": 1}
    r = post_file(client, admin_headers, "r.csv", "编号,姓名\n1,张三\n".encode())
    assert r.status_code == 409 and r.get_json()["error"]["code"] == "checkin_started"
    found = client.get("/api/v1/desk/search?q=李", headers=admin_headers).get_json()["attendees"]
    assert [a["name"] for a in found] == ["李四"] and found[0]["checked_in"] is False
