"""The console's count dialog in Debian's Chromium: shares scanned by the camera, by a USB scanner, or typed.

A real tally process; the chair signs in and presses "计票" on a closed round. Scrutineer 2's
QR code (made from their share file) is what the camera sees (Chromium's fake capture device
plays a Y4M picture of it), scrutineer 1's share is typed, and for the second round a USB
scanner "types" scrutineer 3's share followed by Enter. The dialog shows whose shares are in,
never a share; a damaged share is named; when the count ends the page holds no share anywhere
(DOM, field, localStorage, sessionStorage). Screenshots go to test-artifacts/e2e/.
"""
from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import qrcode
import qrcode.constants

from tests.browser import launched, require_chromium, wait_js
from tests.harness import TallyProcess

from .conftest import ARTIFACTS, Fleet
from .support import round_state, wait_for

pytestmark = [pytest.mark.browser, pytest.mark.slow]
MEETING = """
meeting:
  title: 监票人开箱测试
rounds:
  - id: r1
    kind: decide
    title: 任职票决
    expected: 4
    nominees: [王五]
  - id: d2
    kind: decide
    title: 第二轮票决
    expected: 4
    nominees: [赵六]
"""


def y4m_of_qr(text: str, path: Path, width: int = 640, height: int = 480) -> Path:
    """A one-frame Y4M video of `text`'s QR code, black on white, for Chromium's fake camera."""
    code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=4)
    code.add_data(text)
    code.make(fit=True)
    matrix = code.get_matrix()
    cell = min(width, height) * 8 // 10 // len(matrix)
    left, top = (width - cell * len(matrix)) // 2, (height - cell * len(matrix)) // 2
    luma = bytearray(b"\xff" * (width * height))
    for r, row in enumerate(matrix):
        for c, dark in enumerate(row):
            if dark:
                for y in range(top + r * cell, top + (r + 1) * cell):
                    luma[y * width + left + c * cell:y * width + left + (c + 1) * cell] = b"\x00" * cell
    chroma = b"\x80" * (width // 2 * height // 2)
    path.write_bytes(f"YUV4MPEG2 W{width} H{height} F5:1 Ip A1:1 C420jpeg\n".encode() + b"FRAME\n"
                     + bytes(luma) + chroma + chroma)
    return path


@pytest.fixture
def tally(fleet: Fleet) -> TallyProcess:
    t = fleet.tally(MEETING)
    t.roster(4)
    for r in ("r1", "d2"):
        t.round(r, "open")
        t.round(r, "close")
    return t


@pytest.fixture
def console(tally: TallyProcess, tmp_path: Path) -> Iterator[Any]:
    require_chromium()

    camera = y4m_of_qr(tally.shares_for("r1", (2,))[0], tmp_path / "scrutineer-2-r1.y4m")
    with launched("--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream",
                  f"--use-file-for-fake-video-capture={camera}") as browser:
        ctx = browser.new_context(viewport={"width": 1366, "height": 900}, locale="zh-CN")
        ctx.grant_permissions(["camera"], origin=tally.url)
        page = ctx.new_page()
        page.set_default_timeout(20000)
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(tally.url + "/console")
        page.fill('input[name="token"]', (tally.data / "secrets" / "admin-token").read_text().strip())
        page.click('button[type="submit"]')
        page.wait_for_selector('tr[data-round="r1"] .status[data-status="closed"]')
        page.wait_for_selector('body[data-ready="1"]')
        page.errors = errors
        yield page
        ctx.close()
        browser.close()


def shot(page: Any, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=False)


def no_share_left(page: Any, shares: list[str]) -> None:
    assert page.input_value("#share-input") == ""
    assert page.evaluate("localStorage.length + sessionStorage.length") == 0
    html = page.content()
    assert "SCRS1" not in html and not any(s.split(".")[-1] in html for s in shares)


def test_shares_by_camera_usb_scanner_and_typing(tally: TallyProcess, console: Any) -> None:
    page = console
    r1 = {i: tally.shares_for("r1", (i,))[0] for i in (1, 2, 3)}
    page.locator('tr[data-round="r1"]').get_by_role("button", name="计票").click()
    page.wait_for_selector("#count-dialog[open]")
    assert page.inner_text("#share-need").endswith("0 / 2")

    # A damaged share is named and not taken.
    damaged = r1[1][:-6] + ("A" if r1[1][-6] != "A" else "B") + r1[1][-5:]
    page.fill("#share-input", damaged)
    page.press("#share-input", "Enter")
    wait_js(page, "document.getElementById('share-msg').textContent.includes('监票人 1')")
    assert "不符" in page.inner_text("#share-msg") and page.is_disabled("#share-count")
    shot(page, "console-shares-1-damaged")

    # Scrutineer 2 holds the sheet up to the camera.
    page.click("#share-camera")
    page.wait_for_selector('#share-given li[data-scrutineer="2"].given', timeout=30000)
    assert "blur" in page.evaluate("getComputedStyle(document.getElementById('share-video')).filter")
    shot(page, "console-shares-2-camera")
    # Scrutineer 1 types the line (a password field: nothing typed is shown).
    page.fill("#share-input", r1[1])
    page.press("#share-input", "Enter")
    page.wait_for_selector('#share-given li[data-scrutineer="1"].given')
    assert page.inner_text("#share-need").endswith("2 / 2") and not page.is_disabled("#share-count")
    assert page.get_attribute("#share-input", "type") == "password"
    shot(page, "console-shares-3-ready")
    no_share_left(page, list(r1.values()))
    page.click('#count-dialog button[value="ok"]')
    page.wait_for_selector('tr[data-round="r1"] .status[data-status="counted"]')
    assert round_state(tally, "r1")["status"] == "counted"
    no_share_left(page, list(r1.values()))
    assert page.evaluate("document.getElementById('share-video').srcObject") is None  # the camera is off
    shot(page, "console-shares-4-counted")

    # Round d2: a USB scanner types scrutineer 3's share and Enter; scrutineer 1 types theirs.
    d2 = tally.shares_for("d2", (3, 1))
    page.locator('tr[data-round="d2"]').get_by_role("button", name="计票").click()
    page.wait_for_selector("#count-dialog[open]")
    assert page.inner_text("#share-need").endswith("0 / 2")  # the last count's shares were forgotten
    page.focus("#share-input")
    page.keyboard.type(d2[0] + "\n", delay=2)
    page.wait_for_selector('#share-given li[data-scrutineer="3"].given')
    assert page.get_attribute("#count-dialog", "open") is not None  # the scanner's Enter did not submit
    # Scrutineer 3 scanning twice is still one share.
    page.keyboard.type(d2[0] + "\n", delay=2)
    page.wait_for_timeout(300)
    assert page.is_disabled("#share-count")
    # Cancel forgets them; nothing is counted.
    page.click('#count-dialog button[value="cancel"]')
    assert round_state(tally, "d2")["status"] == "closed"
    no_share_left(page, d2)
    page.locator('tr[data-round="d2"]').get_by_role("button", name="计票").click()
    page.wait_for_selector("#count-dialog[open]")
    for line in d2:
        page.focus("#share-input")
        page.keyboard.type(line + "\n", delay=2)
    wait_for(lambda: not page.is_disabled("#share-count"), "two shares in", 20)
    page.click('#count-dialog button[value="ok"]')
    page.wait_for_selector('tr[data-round="d2"] .status[data-status="counted"]')
    no_share_left(page, d2)
    assert page.errors == []


def test_the_count_dialog_never_sends_a_share_of_another_round(fleet: Fleet, tmp_path: Path) -> None:
    """A scrutineer holds their sheet up to the camera at the count of r1, and the camera reads
    the QR code of round d2 (six to a page): the page sent it to the tally as an offered share
    (refused there as another round's, but received: a tally that kept it holds d2's share).
    Now a share of another round or meeting never leaves the page; r1's shares still count.
    (Red team of key custody, issue 9.)"""
    require_chromium()
    tally = fleet.tally(MEETING, name="sheet")
    tally.roster(4)
    tally.round("r1", "open")
    tally.round("r1", "close")
    d2 = tally.shares_for("d2", (2,))[0]
    camera = y4m_of_qr(d2, tmp_path / "scrutineer-2-d2.y4m")
    with launched("--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream",
                  f"--use-file-for-fake-video-capture={camera}") as browser:
        ctx = browser.new_context(viewport={"width": 1366, "height": 900}, locale="zh-CN")
        ctx.grant_permissions(["camera"], origin=tally.url)
        page = ctx.new_page()
        sent: list[str] = []
        page.on("request", lambda r: sent.append(r.post_data or "") if "/rounds/" in r.url else None)
        page.goto(tally.url + "/console")
        page.fill('input[name="token"]', (tally.data / "secrets" / "admin-token").read_text().strip())
        page.click('button[type="submit"]')
        page.wait_for_selector('body[data-ready="1"]')
        page.locator('tr[data-round="r1"]').get_by_role("button", name="计票").click()
        page.wait_for_selector("#count-dialog[open]")
        page.click("#share-camera")
        wait_js(page, "document.getElementById('share-msg').textContent.includes('另一个轮次')")
        # Typed too, and another meeting's: refused on the page.
        other = d2.split(".")
        other[1] = "0123456789abcdef" if other[1] != "0123456789abcdef" else "fedcba9876543210"
        page.fill("#share-input", ".".join([*other[:2], "r1", *other[3:]]))
        page.press("#share-input", "Enter")
        wait_js(page, "document.getElementById('share-msg').textContent.includes('另一次会议')")
        assert not any(d2.split(".")[-1] in body for body in sent), sent
        assert page.inner_text("#share-need").endswith("0 / 2")
        shot(page, "console-shares-4-another-round")
        for line in tally.shares_for("r1", (1, 3)):
            page.fill("#share-input", line)
            page.press("#share-input", "Enter")
        page.wait_for_selector('#share-given li[data-scrutineer="3"].given')
        page.click('#count-dialog button[value="ok"]')
        page.wait_for_selector('tr[data-round="r1"] .status[data-status="counted"]')
        assert not any(d2.split(".")[-1] in body for body in sent), sent
        ctx.close()
        browser.close()


def test_a_count_refused_as_tampered_is_shown_in_red_and_changes_nothing(tally: TallyProcess, console: Any) -> None:
    """Someone with the database makes d2's row claim a ballot its box does not hold: the chair's
    count is refused (box_tampered) and the console says why, in Chinese, under the rounds."""
    import sqlite3

    con = sqlite3.connect(tally.data / "tally.db", timeout=30)
    with con:
        con.execute("UPDATE rounds SET accepted = 1 WHERE id = 'd2'")
    con.close()
    page = console
    page.locator('tr[data-round="d2"]').get_by_role("button", name="计票").click()
    page.wait_for_selector("#count-dialog[open]")
    for line in tally.shares_for("d2", (1, 2)):
        page.fill("#share-input", line)
        page.press("#share-input", "Enter")
    wait_for(lambda: not page.is_disabled("#share-count"), "two shares in", 20)
    page.click('#count-dialog button[value="ok"]')
    page.wait_for_selector("#box-refusal:not([hidden])")
    text = page.inner_text("#box-refusal")
    assert "计票已中止：此票箱不是该轮次封箱时的票箱" in text
    assert "轮次 d2 的票箱与封箱时的记录不符：未计票。" in text
    assert "轮次记录为 1 个信封" in page.inner_text("#box-refusal-list") and "封箱记录为 0 个" in text
    assert round_state(tally, "d2")["status"] == "closed"
    page.locator("#box-refusal").scroll_into_view_if_needed()
    shot(page, "console-count-refused-box-tampered")
    no_share_left(page, tally.shares_for("d2", (1, 2)))
    assert page.errors == []
