"""Every kiosk a watchdog, with real processes and in Chromium: an envelope deleted after the close.

`tally serve` and two `kiosk serve` agents (each checking the published box every second); voters
cast through the agents; the round closes and is counted and exported. A voter finds their
receipt code on the public box page (`/box`, no token) in Chromium. The auditor's offline check
(`keys check-receipts`) passes for each kiosk. Then someone with the tally's database deletes one
accepted envelope from the middle of the chain: the console shows a red alarm for that kiosk naming
the receipt, the kiosk's status page says so, and `keys check-receipts` over a fresh export (every
other row still in it) exits 1 naming it alone, while the other kiosk stays clean. Screenshots go
to test-artifacts/e2e/.
"""
from __future__ import annotations

import sqlite3
import subprocess
from typing import Any

import pytest
import requests

from keys.envelope import receipt_code
from tests.harness import BIN

from .conftest import ARTIFACTS, Fleet
from .support import ENGLISH, wait_drained, wait_for
from .test_browser import Screens

pytestmark = [pytest.mark.slow, pytest.mark.browser]

MEETING = """
meeting:
  title: 票箱核对测试会议
rounds:
  - id: r1
    kind: recommend
    title: 镇长人选会议推荐
    expected: 6
    posts:
      - {id: mayor, title: 镇长, seats: 1, candidates: [张三, 李四, 王五], write_in: true}
"""
CHOICES = [["张三"], [], ["李四"], ["一个很长的另选人姓名写满三十二个字符一二三四五六七八九十甲乙丙丁"]]


def check_receipts(kiosk_dir: Any, export: Any) -> subprocess.CompletedProcess[str]:
    import os

    return subprocess.run([str(BIN / "keys"), "check-receipts", str(kiosk_dir), str(export)],
                          env={**os.environ, **ENGLISH}, capture_output=True, text=True, timeout=60)


def kiosk_box(tally: Any, kiosk_id: str) -> Any:
    state = tally.call("GET", "/api/v1/admin/state")
    return next(k for k in state["kiosks"] if k["id"] == kiosk_id)["box"]


@pytest.fixture
def screens(browser: Any) -> Any:
    s = Screens(browser)
    try:
        yield s
    finally:
        s.close()


def test_a_deleted_envelope_is_named_on_the_console_and_by_the_offline_check(fleet: Fleet, screens: Screens,
                                                                              tmp_path: Any) -> None:
    tally = fleet.tally(MEETING)
    tally.roster(6)
    tally.round("r1", "open")
    cards = tally.cards(4)
    kiosks = []
    for name in ("a", "b"):
        k = fleet.kiosk(f"kiosk-{name}", box_check_seconds=1)
        assert k.pair(tally.offers(1)[0], f"大厅{name}") == "active"
        kiosks.append(k.start())
    for k in kiosks:
        wait_for(lambda k=k: k.call("GET", "/api/state")[1]["rounds"] == 1, "the kiosks to show r1", 30)
    codes: list[list[str]] = [[], []]
    for i, (card, names) in enumerate(zip(cards, CHOICES, strict=True)):
        codes[i % 2] += kiosks[i % 2].vote(card, {"r1": {"sections": {"mayor": names}}})
    for k in kiosks:
        wait_drained(k, sent=2)
    tally.round("r1", "close")
    # Each kiosk finds its receipts in the box and tells the console.
    for k, mine in zip(kiosks, codes, strict=True):
        wait_for(lambda k=k, mine=mine: (kiosk_box(tally, k.kiosk_id) or {}).get("rounds", {}).get("r1", {}).get("held")
                 == len(mine), "each kiosk to report its receipts found", 30)
        assert kiosk_box(tally, k.kiosk_id)["alarm"] is False
    tally.count("r1")
    export = tmp_path / "export"
    tally.cli("export", "--data", str(tally.data), "r1", "--out", str(export))
    for k in kiosks:
        ok = check_receipts(k.data, export)
        assert ok.returncode == 0 and "Every receipt this kiosk holds is in the box." in ok.stdout, ok.stdout + ok.stderr

    # A voter looks up their code on the public page (no token), on a phone.
    phone = screens.page(412, 915, not_checked="#answer, .codes")
    phone.goto(tally.url + "/box")
    phone.fill("#code", codes[0][0].lower().replace("-", " "))
    phone.wait_for_selector("#answer.ok")
    assert "镇长人选会议推荐" in phone.inner_text("#answer")
    screens.shot(phone, "box-1-receipt-found", full_page=True)
    phone.fill("#code", "AAAA-AAAA")
    phone.wait_for_selector("#answer.bad")
    screens.shot(phone, "box-2-receipt-not-found", full_page=True)

    # Someone with the database deletes an envelope from the middle of the chain. The export still
    # writes every other row (those after the gap marked outside the chain), so only its receipt
    # is missing, and the other kiosk's receipts after the gap are all found.
    con = sqlite3.connect(tally.data / "tally.db", timeout=30)
    victim, owner = con.execute("SELECT e.envelope_hash, e.kiosk_id FROM envelopes e JOIN rounds r ON r.id = e.round_id "
                                "WHERE e.entry_hash != r.chain_head AND e.prev_hash IN (SELECT entry_hash FROM envelopes) "
                                "ORDER BY e.envelope_hash LIMIT 1").fetchone()
    with con:
        con.execute("DELETE FROM envelopes WHERE envelope_hash = ?", (victim,))
    con.close()
    gone = receipt_code(victim)
    kiosks.sort(key=lambda k: k.kiosk_id != owner)  # the victim's kiosk first, the other second
    codes.sort(key=lambda mine: gone not in mine)

    wait_for(lambda: kiosk_box(tally, kiosks[0].kiosk_id)["alarm"], "the console to raise the kiosk's alarm", 30)
    assert kiosk_box(tally, kiosks[0].kiosk_id)["rounds"]["r1"]["missing"] == [gone]
    assert kiosk_box(tally, kiosks[1].kiosk_id)["alarm"] is False
    console = screens.page(1366, 900, not_checked="#result-preview")
    console.goto(tally.url + "/console")
    console.fill('input[name="token"]', (tally.data / "secrets" / "admin-token").read_text().strip())
    console.click('button[type="submit"]')
    alarm = console.locator(f'tr[data-kiosk="{kiosks[0].kiosk_id}"] td.boxwatch.box-alarm')
    alarm.wait_for()
    assert gone in alarm.inner_text() and "不在票箱中" in alarm.inner_text()
    clean = console.locator(f'tr[data-kiosk="{kiosks[1].kiosk_id}"] td.boxwatch')
    assert "box-alarm" not in (clean.get_attribute("class") or "")
    console.locator("#kiosks").scroll_into_view_if_needed()
    screens.shot(console, "console-6-box-alarm", full_page=True)
    status = screens.page(1280, 800, not_checked=".missing")
    status.goto(kiosks[0].url + "/status")
    assert gone in status.inner_text("#box-watch .alarm")
    screens.shot(status, "kiosk-status-box-alarm", full_page=True)
    assert screens.errors == []
    assert screens.english == {}, "English words on Chinese screens"

    again = tmp_path / "export-after"
    tally.cli("export", "--data", str(tally.data), "r1", "--out", str(again))
    bad = check_receipts(kiosks[0].data, again)
    assert bad.returncode == 1 and f"MISSING: round r1 receipt {gone} (envelope {victim}" in bad.stderr
    assert bad.stderr.count("MISSING:") == 1, bad.stderr
    assert check_receipts(kiosks[1].data, again).returncode == 0
    assert '"outside": true' in (again / "envelopes.jsonl").read_text()
    assert requests.get(f"{tally.url}/api/v1/box/r1", timeout=10).json()["count"] == 4  # the tally's own count says 4
    assert ARTIFACTS.exists()
