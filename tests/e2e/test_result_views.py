"""What people sign and see, for every round kind, from the five seed examples (issue 11).

One real tally process serves one meeting made of every round of docs/examples/*.yaml
(`seed_meeting`): hundreds of ballots through simulated kiosks (`kiosk.simulate`), three judge
panels (7, 7 and 30 seats) through simulated judge kiosks, every round counted. Then:
- the projector in Chromium at 1920×1080 and 1280×720 shows each round (re-shown from the command
  line after the console): the round's own 应到/实到 in the header, grades, directions and
  components in the meeting file's order, ranked lists sorted with 入围/当选 marked, the rule in
  words, no text under 28 px at 1080p (a long result pages instead), nothing cut off;
- the HTML sheet, the PDF (pdftoppm → PNG, pdftotext) and the Excel sheet of every round say the
  same, with numbers as numbers in Excel;
- `tally results --json --round …` equals `tally count --json` over the round's export byte for
  byte, for every round (a composite exports with the rounds it draws on);
- `tally sheet` writes every kind's sheet.
Screenshots go to test-artifacts/e2e/views-*.png.
"""
from __future__ import annotations

import io
import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from tests.browser import wait_js
from tests.harness import TallyProcess

from . import seed_meeting
from .conftest import ARTIFACTS, Fleet

pytestmark = [pytest.mark.browser, pytest.mark.slow]
BALLOT_KINDS = ("recommend", "evaluate", "decide")


@pytest.fixture(scope="module")
def hall(module_fleet: Fleet) -> TallyProcess:
    """The seed meeting, every round counted."""
    return run_meeting(module_fleet)


def run_meeting(fleet: Fleet) -> TallyProcess:
    from kiosk.simulate import simulate
    from kiosk.simulate_judges import simulate_judges

    ballots = seed_meeting.ballots()
    per_round: dict[str, int] = {}
    for b in ballots:
        per_round[b["round"]] = per_round.get(b["round"], 0) + 1
    tally = fleet.tally(seed_meeting.meeting_yaml(), name="seeds", cards=max(per_round.values()))
    roster, present = seed_meeting.roster()
    tally.call("POST", "/api/v1/admin/roster", files={"file": ("roster.csv", io.BytesIO(roster.encode()))})
    tally.call("POST", "/api/v1/desk/signin", {"numbers": present})
    plan = seed_meeting.rounds()
    for r in plan:
        if r["kind"] in BALLOT_KINDS:
            tally.round(r["id"], "open")
    summary = simulate(tally.offers(6), tally.cards(max(per_round.values())), ballots)
    assert summary["accepted"] == len(ballots) and summary["rejected"] == {}, summary
    for r in plan:
        if r["kind"] in BALLOT_KINDS:
            tally.round(r["id"], "close")
            tally.count(r["id"])

    pool = "编号,姓名,类别\n" + "".join(f"P{i:03d},评委{i},{'人大代表' if i % 2 else '政协委员'}\n" for i in range(1, 41))
    tally.call("POST", "/api/v1/admin/judges/pool", files={"file": ("pool.csv", io.BytesIO(pool.encode()))})
    for rid, lines in seed_meeting.score_lines().items():
        tally.round(rid, "draw", {"seed": rid})
        cards = {c["label"]: c["qr_text"] for c in tally.round(rid, "judge-cards")["cards"]}
        tally.round(rid, "open")
        tally.round(rid, "order", {"order": list(dict.fromkeys(x["contestant"] for x in lines))})

        def open_next(name: str, rid: str = rid) -> None:
            if tally.call("GET", f"/api/v1/admin/rounds/{rid}/judging")["phase"] == "scoring":
                tally.round(rid, "show")  # a panel short of judges is shown by the chair
            tally.round(rid, "next", {"contestant": name})

        out = simulate_judges(tally.offers(10), cards, lines, open_next=open_next)
        assert out["accepted"] == len(lines) and out["rejected"] == {}, out
        if tally.call("GET", f"/api/v1/admin/rounds/{rid}/judging")["phase"] == "scoring":
            tally.round(rid, "show")
        tally.round(rid, "close")
        tally.round(rid, "count")
    tally.round("s002-total", "count")
    return tally


def results(tally: TallyProcess) -> dict[str, dict[str, Any]]:
    return {r["id"]: r for r in tally.call("GET", "/api/v1/admin/results")["rounds"]}


# --- the numbers and the order, everywhere ----------------------------------------------------

def test_results_json_equals_the_recount_of_each_export_byte_for_byte(hall: TallyProcess, tmp_path: Path) -> None:
    from tally.cli import main as tally_cli
    from tally.cli.meeting import write_export

    live = results(hall)
    assert len(live) == len(seed_meeting.rounds())
    # The order is the meeting file's: grades, directions, components as written, not sorted.
    assert list(live["s001-evaluation"]["subjects"][0]["counts"]) == ["优秀", "称职", "基本称职", "不称职"]
    assert list(live["s003-evaluation"]["subjects"][0]["directions"]) == ["提拔", "留任", "交流", "改非"]
    assert list(live["s002-total"]["candidates"][0]["components"]) == ["笔试", "面试", "民主测评"]
    runner = CliRunner()
    for rid in live:
        export = hall.call("GET", f"/api/v1/admin/rounds/{rid}/export")
        out = tmp_path / rid
        write_export(export, out)
        recount = runner.invoke(tally_cli, ["count", str(out / "meeting.yaml"), str(out / "ballots.jsonl"), "--json"])
        assert recount.exit_code == 0, recount.output
        included = [r["id"] for r in json.loads(recount.stdout_bytes)["rounds"]]
        shown = hall.cli("results", "--data", str(hall.data), "--json", *(a for i in included for a in ("--round", i)))
        assert shown.encode() == recount.stdout_bytes, rid
    # A composite exports with the rounds it draws on, so the recount recomputes it.
    assert included_of(hall, "s002-total") == ["s002-interview", "s002-evaluation", "s002-total"]


def included_of(tally: TallyProcess, rid: str) -> list[str]:
    meeting = tally.call("GET", f"/api/v1/admin/rounds/{rid}/export")["files"]["meeting.yaml"]
    return re.findall(r"^- id: (\S+)", meeting, re.M)


def test_the_counting_fixes_reach_the_live_results(hall: TallyProcess) -> None:
    live = results(hall)
    assert live["s001-full-committee"]["nominees"][0]["outcome"] == "deferred"  # 20 of 35, 11 against
    standing = {n["name"]: n for n in live["s001-standing-committee"]["nominees"]}
    assert standing["李四"]["elected"] is True and standing["王五"]["outcome"] == "not_passed"
    speech = {c["name"]: c for c in live["s003-speech"]["contestants"]}
    assert speech["郑六"]["mean"] == "88.55" and speech["王七"]["count"] == 28


# --- sheets ------------------------------------------------------------------------------------

# What each round's sheet (and projector) must say, in order where the order matters.
EXPECTED: dict[str, list[str]] = {
    "s000-unit-recommend": ["市电子政务建设管理办公室主任", "得票率不低于1/3", "刘一", "陈二", "杨三", "黄四"],
    "s001-recommend": ["市某局局长（差额推荐）", "得票率不低于1/3", "张三", "李四", "33.63%",
                       "市直某部门副职（等额推荐）", "得票率超过1/2", "赵六"],
    "s001-evaluation": ["不称职率不低于1/3", "优秀", "称职", "基本称职", "不称职", "李四", "建议调整"],
    "s001-full-committee": ["同意票超过应到会人数半数", "超过应到会人数30%", "张三", "暂缓"],
    "s001-standing-committee": ["同意票超过应到会人数半数", "李四", "当选", "王五", "不通过"],
    "s002-evaluation": ["优秀100、称职80、基本称职60、不称职0", "甲", "91.25"],
    "s002-interview": ["去掉1个最高分和1个最低分", "丙", "甲", "丁", "乙"],
    "s002-total": ["笔试×40%", "面试×40%", "民主测评×20%", "前2名入围", "丙", "入围", "甲", "入围", "乙", "丁"],
    "s003-evaluation": ["优秀称职率超过90%", "陈一", "通过", "提拔", "留任", "交流", "改非"],
    "s003-speech": ["去掉5个最高分和5个最低分", "王七", "28/30", "入围"],
    "s000-interview": ["前3名入围", "候选人01", "候选人02", "候选人03", "入围", "候选人04", "入围"],
    "s004-party-group": ["钱一", "通过"],
    "x-many-posts": ["镇党委书记", "镇长", "镇党委副书记", "镇人大主席"],
}


def in_order(text: str, words: list[str]) -> bool:
    at = 0
    for w in words:
        at = text.find(w, at)
        if at < 0:
            return False
        at += len(w)
    return True


def test_every_round_has_its_sheet_as_html_pdf_and_excel(hall: TallyProcess, tmp_path: Path) -> None:
    from openpyxl import load_workbook

    if shutil.which("pdftotext") is None:
        pytest.skip("poppler-utils (pdftotext) is not installed")
    for r in seed_meeting.rounds():
        rid = r["id"]
        html = hall.http.get(f"{hall.url}/api/v1/admin/rounds/{rid}/sheet.html").text
        assert "<pre" not in html and "监票人" in html and "计票人" in html, rid
        pdf = tmp_path / f"{rid}.pdf"
        if r["kind"] == "composite":  # the command line writes the same sheet (once per format here)
            hall.cli("sheet", "--data", str(hall.data), rid, "--format", "pdf", "--out", str(pdf))
        else:
            pdf.write_bytes(hall.http.get(f"{hall.url}/api/v1/admin/rounds/{rid}/sheet.pdf").content)
        text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
        flat = re.sub(r"\s+", "", text)
        for where, body in (("html", re.sub(r"<[^>]+>|\s+", "", html)), ("pdf", flat)):
            assert in_order(body, [w.replace(" ", "") for w in EXPECTED.get(rid, [])]), (rid, where)
            assert "监票人" in body and "计票人" in body
            if r["kind"] in BALLOT_KINDS:
                assert all(w in body for w in ("应到", "实到", "发出", "收回", "有效", "无效")), (rid, where)
                assert "票箱指纹" in body, (rid, where)
        xlsx = tmp_path / f"{rid}.xlsx"
        xlsx.write_bytes(hall.http.get(f"{hall.url}/api/v1/admin/rounds/{rid}/sheet.xlsx").content)
        cells = [c for row in load_workbook(xlsx).active.iter_rows() for c in row if c.value is not None]
        assert not [c.value for c in cells if isinstance(c.value, str) and re.fullmatch(r"-?\d+(\.\d+)?%?", c.value)], rid
    # Rates are percentages by number format; counts are integers.
    hall.cli("sheet", "--data", str(hall.data), "s001-recommend", "--format", "xlsx", "--out", str(tmp_path / "r.xlsx"))
    ws = load_workbook(tmp_path / "r.xlsx").active
    row = next(r for r in ws.iter_rows() if r[0].value == "李四")
    assert row[1].value == 76 and row[2].number_format == "0.00%" and round(float(row[2].value), 4) == 0.3363
    # A round that is not counted, or not there, is a one-line refusal.
    with pytest.raises(RuntimeError, match="unknown_round"):
        hall.cli("sheet", "--data", str(hall.data), "nope", "--format", "pdf", "--out", str(tmp_path / "x.pdf"))
    # The HTML sheet saved by `tally sheet` stands alone (its style inside).
    out = tmp_path / "s.html"
    hall.cli("sheet", "--data", str(hall.data), "s002-total", "--format", "html", "--out", str(out))
    assert "<style>" in out.read_text(encoding="utf-8")


# --- in Chromium ---------------------------------------------------------------------------------


MIN_FONT = """() => {
  let min = 1e9, where = '';
  for (const e of document.querySelectorAll('header *, #stage *, footer *')) {
    if (!e.checkVisibility() || ![...e.childNodes].some(n => n.nodeType === 3 && n.textContent.trim())) continue;
    const px = parseFloat(getComputedStyle(e).fontSize);
    if (px < min) { min = px; where = e.tagName + '.' + e.className + ': ' + e.textContent.slice(0, 30); }
  }
  return [min, where];
}"""
FITS = "() => { const s = document.getElementById('stage'); return s.scrollHeight <= s.clientHeight + 1; }"
# Rounds shown on the projector: every kind, the longest results, the seed examples' hardest cases.
SHOWN = ["x-many-posts", "s001-recommend", "s003-full-slate", "s000-unit-recommend", "s003-evaluation", "s002-evaluation",
         "s001-full-committee", "s001-standing-committee", "s000-interview", "s003-speech", "s002-total"]


def projector_pages(page: Any, rid: str, name: str) -> str:
    """Every page of what the projector shows for a round (screenshots), its text in reading order."""
    page.wait_for_selector(f'#stage section[data-round="{rid}"]')
    pages = int(page.get_attribute("#stage", "data-pages"))
    texts = []
    for n in range(1, pages + 1):
        wait_js(page, f"document.getElementById('stage').dataset.page === '{n}'")
        page.screenshot(path=str(ARTIFACTS / f"views-{name}-p{n}.png"))
        assert page.evaluate(FITS), f"{name} page {n} is cut off"
        texts.append(page.inner_text("#stage"))
        if n < pages:
            page.keyboard.press("ArrowRight")
    return "\n".join(texts)


def test_every_kind_on_the_projector_and_the_sheets_in_chromium(hall: TallyProcess, browser: Any, tmp_path: Path) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    link = hall.call("GET", "/api/v1/admin/links")["projector"]
    big = browser.new_context(viewport={"width": 1920, "height": 1080}, locale="zh-CN").new_page()
    small = browser.new_context(viewport={"width": 1280, "height": 720}, locale="zh-CN").new_page()
    for pg in (big, small):
        pg.goto(link)
        pg.wait_for_selector("#conn.up")
    live = results(hall)
    for rid in SHOWN:
        hall.cli("rounds", "reveal", "--data", str(hall.data), rid)
        text = projector_pages(big, rid, f"{rid}-1080")
        smallest, where = big.evaluate(MIN_FONT)
        assert smallest >= 28, f"{rid}: {smallest}px at 1080p ({where})"
        if rid == "x-many-posts":  # four posts page by post at full size instead of shrinking
            assert int(big.get_attribute("#stage", "data-pages")) >= 2
        projector_pages(small, rid, f"{rid}-720")
        flat = re.sub(r"\s+", "", text)
        assert in_order(flat, [w.replace(" ", "") for w in EXPECTED.get(rid, [])]), (rid, text)
        res = live[rid]
        if "expected" in res:  # the header shows this round's 应到/实到, not the meeting's
            assert big.inner_text("#att-expected") == str(res["expected"]), rid
            assert big.inner_text("#att-present") == str(res["present"]), rid
        else:
            assert big.locator("header .att").is_hidden(), rid
    # Ranked lists are sorted and mark 入围: the 10-contestant interview's cut is a tie at 3rd.
    hall.cli("rounds", "reveal", "--data", str(hall.data), "s000-interview")
    text = projector_pages(big, "s000-interview", "s000-interview-again")
    ranks = [int(m) for m in re.findall(r"^(\d+)\t", text, re.M)]
    assert ranks == sorted(ranks) and ranks[:4] == [1, 2, 3, 3]
    assert text.count("入围") >= 4 + 1  # four shortlisted rows (and the rule)
    # Every sheet in the browser, and every PDF as pictures.
    chair = browser.new_context(viewport={"width": 1240, "height": 1754}, locale="zh-CN",
                                extra_http_headers={"Authorization": "Bearer " + admin_token(hall)}).new_page()
    have_pdftoppm = shutil.which("pdftoppm") is not None
    for r in seed_meeting.rounds():
        rid = r["id"]
        chair.goto(f"{hall.url}/api/v1/admin/rounds/{rid}/sheet.html")
        chair.screenshot(path=str(ARTIFACTS / f"views-{rid}-sheet.png"), full_page=True)
        assert chair.locator("table.result").count() >= 1
        if have_pdftoppm:
            pdf = tmp_path / f"{rid}.pdf"
            pdf.write_bytes(hall.http.get(f"{hall.url}/api/v1/admin/rounds/{rid}/sheet.pdf").content)
            subprocess.run(["pdftoppm", "-png", "-r", "60", str(pdf), str(ARTIFACTS / f"views-{rid}-pdf")], check=True)
    for pg in (big, small, chair):
        pg.context.close()


def admin_token(tally: TallyProcess) -> str:
    return (tally.data / "secrets" / "admin-token").read_text().strip()
