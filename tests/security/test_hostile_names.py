"""Hostile names everywhere a person can type one, on real processes, seen in real Chromium.

The review found that a write-in such as `</script><script>…` ran on the chair's console after the
count and on the projector after the reveal, and that a kiosk's name ran on the console before
the chair confirmed anything (`|safe` JSON in a `<script>` block, no Content-Security-Policy). Here
the payloads come in every way a stranger, a voter or a kiosk has: the meeting file's title and
names, roster and judge-pool names, kiosk names at pairing (one kiosk stays pending, as a
stranger's would), write-ins cast through the kiosk agent's API and typed on the kiosk screen.
Every screen is then opened while the meeting runs and after count and reveal (the chair counts
in the console's share dialog, two scrutineers typing their lines): no dialog, no request to
another origin, no CSP violation, and the names show as the text they are, the scrutineers'
check-code panel and the card list's fingerprint included. The result sheets, score sheet and
draw record come back through the HTTP endpoints as PDF (pdftotext) and Excel (openpyxl) with
the names as text, and so do the scrutineers' sheets of `tally init` and the card sheet of
`keys cards make`. The tally's and the kiosk's logs carry no ballot content.
"""
from __future__ import annotations

import csv
import io
import json
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
import requests

from keys.canonical import b64e
from keys.identity import Identity
from keys.pairing import PairingOffer
from tests.browser import wait_js
from tests.e2e.conftest import Fleet
from tests.e2e.support import cast_count, wait_for
from tests.harness import KioskProcess, TallyProcess, run_cli

from .conftest import Watch

PRESENT = 8
TITLE = "某镇推荐会</title></script><script>alert('XSS-title')</script>"
NOMINEE = "<b onmouseover=alert('XSS-n')>王五</b>"
CONTESTANT = "<img src=x onerror=alert('XSS-c')>"
KIOSK_NAME = "<img src=x onerror=alert('XSS-k')>"
STRANGER = "</script><script>alert('XSS-pending')</script>"
# Cast through the kiosk agent's API: every one fits the kiosk's 32-character field.
WRITE_INS = [
    "</script><script>alert('XSS1')//",
    "<img src=x onerror=alert('XSS2')",
    "\"><svg onload=alert('XSS3')>",
    "<img src=//evil.test/w.gif>",
    "=HYPERLINK(\"//evil.test\",\"x\")",
    "<b>钱七</b>&amp;",
]
TYPED = "<svg/onload=alert('XSS-typed')>"  # typed on the kiosk screen
ROSTER = ["<script>alert('XSS-roster')</script>", "\"><img src=//evil.test/r.gif>", "=1+2", "+SUM(1,2)",
          "-3+4", "@SUM(A1)", "王　五", "赵六"]
POOL = ["=cmd|'/C calc'!A0", "<b>评委</b>", "+SUM(1,2)", "-2+3", "@SUM(A1)", "<a href=//evil.test>x</a>"]
MEETING = {
    "meeting": {"title": TITLE},
    "rounds": [
        {"id": "r1", "kind": "recommend", "title": "<script>alert('XSS-r1')</script>推荐", "expected": PRESENT,
         "posts": [{"id": "mayor", "title": "镇长<img src=x onerror=alert('XSS-p')>", "seats": 1,
                    "candidates": ["张三", NOMINEE], "write_in": True}]},
        {"id": "d1", "kind": "decide", "title": "任职票决", "expected": PRESENT, "nominees": [NOMINEE, "赵六"]},
        {"id": "s1", "kind": "score", "title": "面试", "judges": 3, "trim": 1, "contestants": [CONTESTANT, "甲"]},
    ],
}
assert all(len(w) <= 32 for w in [*WRITE_INS, TYPED])


def _csv(rows: list[list[str]]) -> bytes:
    buf = io.StringIO()
    csv.writer(buf).writerows(rows)
    return buf.getvalue().encode()


class Hall:
    def __init__(self, tally: TallyProcess, kiosk: KioskProcess, cards: list[str]) -> None:
        self.tally, self.kiosk, self.cards = tally, kiosk, cards

    def state(self, round_id: str) -> dict[str, Any]:
        return next(r for r in self.tally.call("GET", "/api/v1/admin/state")["rounds"] if r["id"] == round_id)

    def counted_and_shown(self) -> None:
        """Close, count and show r1 and d1 (already done when the browser test ran)."""
        for rid in ("d1", "r1"):
            st = self.state(rid)["status"]
            if st == "open":
                self.tally.round(rid, "close")
            if self.state(rid)["status"] == "closed":
                self.tally.count(rid)
            if not self.state(rid).get("revealed"):
                self.tally.round(rid, "reveal")


@pytest.fixture(scope="module")
def hall(module_fleet: Fleet) -> Hall:
    tally = module_fleet.tally("# a meeting file in JSON, which is YAML too\n" + json.dumps(MEETING, ensure_ascii=False))
    tally.call("POST", "/api/v1/admin/roster", files={"file": ("roster.csv", io.BytesIO(_csv(
        [["编号", "姓名", "类别"], *[[f"{i:03d}", n, "<i>代表</i>"] for i, n in enumerate(ROSTER, 1)]])))})
    tally.call("POST", "/api/v1/desk/signin", {"all": True})
    tally.call("POST", "/api/v1/admin/judges/pool", files={"file": ("pool.csv", io.BytesIO(_csv(
        [["编号", "姓名"], *[[f"P{i}", n] for i, n in enumerate(POOL, 1)]])))})
    tally.call("POST", "/api/v1/admin/rounds/s1/draw", {"seed": "<script>alert('XSS-seed')</script>"[:64]})
    kiosk = module_fleet.kiosk("kiosk", receipt_seconds=2)
    assert kiosk.pair(tally.offers(1)[0], KIOSK_NAME) == "active"
    kiosk.start()
    # A stranger's kiosk pairs with a hostile name and stays pending: the chair confirms nothing.
    offer = PairingOffer.parse(tally.call("POST", "/api/v1/admin/offers", {"count": 1})["offers"][0])
    r = requests.post(tally.url + "/api/v1/kiosks/pair", timeout=10, json={
        "code": offer.code, "public_key": b64e(Identity.generate().public_bytes()), "name": STRANGER})
    assert r.status_code == 201 and r.json()["status"] == "pending"
    tally.round("r1", "open")
    tally.round("d1", "open")
    cards = tally.cards(PRESENT)
    wait_for(lambda: kiosk.call("GET", "/api/state")[1]["rounds"] == 2, "the kiosk to see r1 and d1", 30)
    for card, name in zip(cards, WRITE_INS, strict=False):
        kiosk.vote(card, {"r1": {"sections": {"mayor": [name]}}, "d1": {"votes": {NOMINEE: "agree"}}})
    # The kiosk's sender delivers from its outbox in the background: wait until the tally holds them all.
    wait_for(lambda: cast_count(tally, "r1") == len(WRITE_INS), "the write-ins to reach the tally", 60)
    return Hall(tally, kiosk, cards[len(WRITE_INS):])


def _login(watch: Watch, tally: TallyProcess) -> Any:
    page = watch.page(watch.context(), confirm=True)
    page.goto(tally.url + "/console")
    page.fill('input[name="token"]', (tally.data / "secrets" / "admin-token").read_text().strip())
    page.click('button[type="submit"]')
    page.wait_for_selector("#rounds")
    page.wait_for_selector('body[data-ready="1"]')  # every handler attached: a click is not lost
    return page


def _cells(page: Any, selector: str) -> list[str]:
    return [t.strip() for t in page.locator(selector).all_inner_texts()]


def test_names_that_are_not_text_are_refused_where_they_enter(hall: Hall) -> None:
    tally = hall.tally
    bad = ["\u202e王五", "王\x00五", "王\u200b五", "王\n五"]
    for name in bad:
        body = _csv([["编号", "姓名"], ["900", name]])
        r = tally.http.post(tally.url + "/api/v1/admin/judges/pool", files={"file": ("p.csv", io.BytesIO(body))},
                            timeout=10)
        assert r.status_code == 400 and r.json()["error"]["code"] in ("bad_roster", "panel_drawn"), r.text
    offer = PairingOffer.parse(tally.call("POST", "/api/v1/admin/offers", {"count": 1})["offers"][0])
    for name in [*bad, "k" * 65]:
        r = requests.post(tally.url + "/api/v1/kiosks/pair", timeout=10, json={
            "code": offer.code, "public_key": b64e(Identity.generate().public_bytes()), "name": name})
        assert r.status_code == 400 and r.json()["error"]["code"] in ("bad_name", "bad_text"), (name, r.text)
    # The kiosk agent refuses them as write-ins (the screen, too: see the browser test's rule).
    status, session = hall.kiosk.call("POST", "/api/card", {"card": hall.cards[-1]})
    assert status == 200, session
    for name in bad:
        st, out = hall.kiosk.call("POST", "/api/cast", {"session": session["session"],
                                                       "rounds": {"r1": {"sections": {"mayor": [name]}}, "d1": {}}})
        assert st == 400 and out["error"]["code"] in ("bad_name", "bad_text"), (name, out)
    hall.kiosk.call("POST", "/api/cancel", {"session": session["session"]})


@pytest.mark.browser
def test_no_payload_runs_on_any_screen_and_every_screen_still_works(hall: Hall, browser: Any) -> None:
    tally, kiosk = hall.tally, hall.kiosk
    watch = Watch(browser, [tally.url, kiosk.url])
    try:
        # The kiosk screen: the meeting's names as buttons, a payload typed as a write-in.
        pg = watch.page(watch.context())
        pg.goto(kiosk.url + "/")
        pg.wait_for_selector('#app[data-ready="1"]')
        pg.click('#screen-welcome [data-state="ready"] [data-action="start"]')
        pg.fill("#card-input", hall.cards[0])
        pg.press("#card-input", "Enter")
        pg.wait_for_selector("#round-r1:not([hidden])")
        assert pg.inner_text('#round-r1 legend').startswith("镇长<img src=x onerror=alert('XSS-p')>")
        assert NOMINEE in _cells(pg, "#round-r1 .choices .toggle")
        # The screen holds a write-in to the agent's rule: a bidi override is refused, with a word why.
        pg.fill('#round-r1 .write-in input', "\u202e七钱")
        pg.click('#round-r1 [data-action="add-write-in"]')
        assert pg.inner_text("#round-r1 .message") == "姓名只能包含可打印的文字。"
        assert pg.locator("#round-r1 .toggle.written").count() == 0
        pg.fill('#round-r1 .write-in input', TYPED)
        pg.click('#round-r1 [data-action="add-write-in"]')
        pg.click('#round-r1 [data-action="next"]')
        pg.wait_for_selector("#round-d1:not([hidden])")
        assert pg.inner_text('#round-d1 legend >> nth=0') == NOMINEE
        pg.click('#round-d1 fieldset >> nth=0 >> [data-vote="disagree"]')
        pg.click('#round-d1 [data-action="next"]')
        pg.wait_for_selector("#screen-review:not([hidden])")
        review = pg.inner_text("#review-list")
        assert TYPED in review and NOMINEE in review
        watch.shot(pg, "kiosk-review-hostile-names")
        pg.click('[data-action="cast"]')
        pg.wait_for_selector("#screen-done:not([hidden])")
        pg.wait_for_selector("#screen-welcome:not([hidden])", timeout=20000)
        status = watch.page(watch.context())
        status.goto(kiosk.url + "/status")
        assert KIOSK_NAME in status.inner_text("table.counts")
        watch.nothing_ran()

        # The typed ballot leaves the kiosk's outbox in the background: the tally holds it before the close.
        wait_for(lambda: cast_count(tally, "r1") == len(WRITE_INS) + 1, "the typed ballot to reach the tally", 60)
        # The console, with a stranger's kiosk pending under a hostile name: nothing runs.
        console = _login(watch, tally)
        watch.nothing_ran()  # the payloads in a pending kiosk's name, the title, the round names
        kiosks = console.inner_text("#kiosks table")
        assert STRANGER in kiosks and KIOSK_NAME in kiosks
        assert console.title().startswith("主持人控制台 · 某镇推荐会</title>")
        # The scrutineers' check-code panel and the card list's fingerprint (issue 9): titles as text.
        custody = console.inner_text("#custody")
        assert MEETING["rounds"][0]["title"] in custody and "任职票决" in custody
        assert console.locator("#custody table.check-codes tbody tr").count() >= 2
        fingerprint = tally.call("GET", "/api/v1/admin/state")["card_list"]["fingerprint"]
        assert console.inner_text("#card-list-fp") == fingerprint
        watch.shot(console, "console-pending-hostile-kiosk")

        projector = watch.page(watch.context())
        projector.goto(tally.call("GET", "/api/v1/admin/links")["projector"])
        watch.nothing_ran()
        projector.wait_for_selector("#conn.up")
        assert projector.inner_text("#meeting-title") == TITLE
        assert projector.inner_text("#card-list .fingerprint") == fingerprint

        # The chair closes, counts and shows d1, then r1, with the console's own buttons.
        for rid in ("d1", "r1"):
            row = console.locator(f'tr[data-round="{rid}"]')
            row.get_by_role("button", name="结束投票").click()
            console.wait_for_selector(f'tr[data-round="{rid}"] .status[data-status="closed"]')
            row.get_by_role("button", name="计票").click()
            console.wait_for_selector("#count-dialog[open]")
            assert console.inner_text("#count-round") == next(r["title"] for r in MEETING["rounds"] if r["id"] == rid)
            for line in tally.shares_for(rid):  # two scrutineers type their lines (a quorum of 2 of 3)
                console.fill("#share-input", line)
                console.press("#share-input", "Enter")
                console.wait_for_selector(f'#share-given li[data-scrutineer="{line.split(".")[3]}"].given')
            if rid == "r1":
                watch.shot(console, "console-count-dialog-hostile-round-title")
            console.click('#count-dialog button[value="ok"]')
            console.wait_for_selector(f'tr[data-round="{rid}"] .status[data-status="counted"]')
            row.get_by_role("button", name="投影公布").click()
            title = next(r["title"] for r in MEETING["rounds"] if r["id"] == rid)
            wait_js(console, f"document.querySelector('#result-preview h3')?.textContent === {json.dumps(title)}")
        rows = {c.split("\t")[0]: c.split("\t")[-1] for c in _cells(console, "#result-preview table tbody tr")}
        for w in [*WRITE_INS, TYPED]:
            assert "另推" in rows[w], w  # the name as typed; 另推 (write-in) in its result column
        watch.shot(console, "console-result-hostile-write-ins")
        wait_js(projector, "[...document.querySelectorAll('#stage h2')].some(h => h.textContent.endsWith('推荐'))")
        projector.wait_for_selector("#stage table.result")
        # Every page of the result (a long one is paged at full size, never shrunk).
        shown = ""
        for _ in range(int(projector.get_attribute("#stage", "data-pages") or 1)):
            shown += projector.inner_text("#stage")
            projector.keyboard.press("ArrowRight")
        assert all(w in shown for w in WRITE_INS) and NOMINEE in shown
        watch.shot(projector, "projector-result-hostile-write-ins")

        # 亮分 screens: a hostile contestant is being scored.
        tally.round("s1", "open")
        tally.call("POST", "/api/v1/admin/rounds/s1/order", {"order": [CONTESTANT, "甲"]})
        console.locator('section.judging [data-jact="next"]').click()
        wait_js(projector, f"document.querySelector('#stage .contestant')?.textContent === {json.dumps(CONTESTANT)}")
        wait_js(console, f"document.querySelector('section.judging .jstatus')?.textContent.includes({json.dumps(CONTESTANT)})")
        watch.shot(projector, "projector-hostile-contestant")

        # The check-in desk finds a hostile roster name and shows it as text.
        desk = watch.page(watch.context())
        desk.goto(tally.call("GET", "/api/v1/admin/links")["desk"])
        desk.fill("#q", "script")
        desk.press("#q", "Enter")
        desk.wait_for_selector("#found tbody tr")
        assert ROSTER[0] in desk.inner_text("#found")
        watch.shot(desk, "desk-hostile-roster-name")

        # The printable pages of the console: result sheet, draw record, audit log.
        for path, expected in (("/console/rounds/r1/sheet", WRITE_INS[0]), ("/console/rounds/s1/draw", POOL[0]),
                               ("/console/audit", "XSS-seed")):
            sheet = watch.page(console.context)
            sheet.goto(tally.url + path)
            assert expected in sheet.inner_text("main"), path
            watch.shot(sheet, "page-" + re.sub(r"\W+", "-", path).strip("-"))
        watch.nothing_ran()
    finally:
        watch.close()


def test_sheets_from_hostile_names_open_and_show_the_names_as_text(hall: Hall, tmp_path: Path) -> None:
    from openpyxl import load_workbook

    hall.counted_and_shown()
    tally = hall.tally
    sheets = {
        "r1.xlsx": "/api/v1/admin/rounds/r1/sheet.xlsx", "r1.pdf": "/api/v1/admin/rounds/r1/sheet.pdf",
        "d1.xlsx": "/api/v1/admin/rounds/d1/sheet.xlsx", "d1.pdf": "/api/v1/admin/rounds/d1/sheet.pdf",
        "s1.xlsx": "/api/v1/admin/rounds/s1/scoresheet.xlsx", "s1.pdf": "/api/v1/admin/rounds/s1/scoresheet.pdf",
    }
    got: dict[str, bytes] = {}
    for name, path in sheets.items():
        r = tally.http.get(tally.url + path, timeout=60)
        assert r.status_code == 200, (path, r.status_code, r.text[:300])
        got[name] = r.content

    def cells(data: bytes) -> dict[str, str]:
        """Every text cell of every sheet, with its type: 's' (text), never 'f' (a formula)."""
        wb = load_workbook(io.BytesIO(data))
        out = {}
        for ws in wb.worksheets:
            for row in ws.iter_rows():
                for c in row:
                    if isinstance(c.value, str):
                        out[c.value] = c.data_type
        return out

    r1 = cells(got["r1.xlsx"])
    for w in WRITE_INS:
        assert any(v.startswith(w) for v in r1), w
    assert set(r1.values()) == {"s"}, "a cell became a formula"
    s1 = cells(got["s1.xlsx"])  # the score sheet and its draw record: judge-pool names
    assert CONTESTANT in s1 and set(s1.values()) == {"s"}
    drawn = [n for n in POOL if n in s1]
    assert len(drawn) == 3  # the panel's three seats, whoever was drawn
    wb = load_workbook(io.BytesIO(got["s1.xlsx"]))
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for c in row:
                if isinstance(c.value, str) and c.value[:1] in "=+-@":
                    assert c.quotePrefix, c.value  # shown as typed, still text when edited

    def pdf_text(name: str) -> str:
        """The PDF's text with all white space removed (cells wrap long names onto two lines)."""
        (tmp_path / name).write_bytes(got[name])
        out = subprocess.run(["pdftotext", str(tmp_path / name), "-"], capture_output=True, text=True, check=True)
        return squash(out.stdout)

    def squash(text: str) -> str:
        return re.sub(r"\s+", "", text)

    r1_text = pdf_text("r1.pdf")
    for w in ["</script><script>alert('XSS1')//", "<img src=x onerror=alert('XSS2')", "<b>钱七</b>&amp;"]:
        assert squash(w) in r1_text, w
    assert squash(TITLE) in r1_text
    assert squash(NOMINEE) in pdf_text("d1.pdf")
    s1_text = pdf_text("s1.pdf")
    assert squash(CONTESTANT) in s1_text and any(squash(n) in s1_text for n in drawn)
    # The scrutineers' sheets (`tally init`) and a sheet of ballot cards (`keys cards make`, on the
    # scrutineers' machine, from the public meeting record): the title and round titles as text.
    run_cli(["keys", "cards", "make", "--meeting-record", str(tally.data / "public" / "meeting.json"),
             "--count", "2", "--out", str(tmp_path / "cards")], tally.env)
    for pdf in (tally.shares / "scrutineer-1.pdf", tmp_path / "cards" / "cards.pdf"):
        text = squash(subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True).stdout)
        assert squash(TITLE) in text, pdf.name
    sheet_text = squash(subprocess.run(["pdftotext", str(tally.shares / "scrutineer-1.pdf"), "-"],
                                       capture_output=True, text=True, check=True).stdout)
    assert squash(MEETING["rounds"][0]["title"]) in sheet_text
    # The PDFs render (a page image), so no markup broke them.
    subprocess.run(["pdftoppm", "-r", "40", "-png", "-singlefile", str(tmp_path / "r1.pdf"), str(tmp_path / "r1")],
                   check=True, capture_output=True)
    assert (tmp_path / "r1.png").stat().st_size > 1000


def test_logs_carry_no_ballot_content(hall: Hall) -> None:
    hall.counted_and_shown()
    for log in (hall.tally.data / "serve.log", hall.kiosk.data / "serve.log"):
        text = log.read_text(encoding="utf-8", errors="replace")
        for w in [*WRITE_INS, TYPED, "XSS"]:
            assert w not in text, (log.name, w)
