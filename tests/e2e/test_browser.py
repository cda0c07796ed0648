"""The hall's screens in Debian's Chromium, against a real tally process and a real kiosk agent.

A voter types a card code on the kiosk page, chooses, reviews and casts; the projector, open
at the same time, goes from turnout 0/N to 1/N by itself (no reload) and shows no count while
the round is open; after close, count and reveal it shows the result table. Then the chair
runs a round from the console page: sign in with the token, "开始投票", a voter casts,
"结束投票", "计票" with two scrutineers' shares typed, "投影公布", and the projector shows it.
Screenshots of every screen a person sees go to test-artifacts/e2e/.
"""
from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest

from tests.browser import wait_js
from tests.harness import KioskProcess

from .conftest import ARTIFACTS, Fleet
from .support import wait_for

pytestmark = pytest.mark.browser
PRESENT = 8
MEETING = f"""
meeting:
  title: 界面测试镇干部推荐会
rounds:
  - id: r1
    kind: recommend
    title: 镇长人选会议推荐
    expected: {PRESENT}
    posts:
      - {{id: mayor, title: 镇长, seats: 1, candidates: [张三, 李四, 王五], write_in: true}}
      - {{id: deputy, title: 副镇长, seats: 2, candidates: [赵六, 钱七, 孙八]}}
  - id: d1
    kind: decide
    title: 任职票决
    expected: {PRESENT}
    nominees: [王五, 赵六]
    defer_rule: ">30%"
"""
CANDIDATES = ("张三", "李四", "王五", "赵六", "钱七", "孙八")



class Screens:
    """Pages of one browser, each in its own context (as on separate devices), with their script
    errors, failed requests and the English words seen on each screenshot."""

    def __init__(self, browser: Any) -> None:
        self.browser = browser
        self.contexts: list[Any] = []
        self.errors: list[str] = []
        self.english: dict[str, list[str]] = {}

    def page(self, width: int, height: int, *, not_checked: str = "") -> Any:
        """A page; `not_checked` names elements left out of the English check."""
        ctx = self.browser.new_context(viewport={"width": width, "height": height}, locale="zh-CN")
        self.contexts.append(ctx)
        pg = ctx.new_page()
        pg.set_default_timeout(15000)
        pg.not_checked = ", ".join(filter(None, ["script, style, code, .fingerprint", not_checked]))
        pg.on("pageerror", lambda e: self.errors.append(f"{pg.url}: {e}"))
        pg.on("response", lambda r: r.status >= 400 and self.errors.append(f"{r.status} {r.url}"))
        pg.wait_for_function = lambda expression, timeout=15000: wait_js(pg, expression, timeout / 1000)
        return pg

    def shot(self, page: Any, name: str, *, full_page: bool = False) -> None:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=full_page)
        words = english_on(page, page.not_checked)
        if words:
            self.english[name] = words

    def close(self) -> None:
        for ctx in self.contexts:
            ctx.close()



@pytest.fixture
def screens(browser: Any) -> Iterator[Screens]:
    s = Screens(browser)
    try:
        yield s
    finally:
        s.close()


def turnout(page: Any) -> tuple[str, str]:
    return page.inner_text("#stage .turnout .cast"), page.inner_text("#stage .turnout .of")


def no_counts_on(projector: Any) -> None:
    """While a round is open the hall sees turnout only: no result table, no candidate at all."""
    assert projector.locator("#stage table").count() == 0
    text = projector.inner_text("body")
    assert not any(name in text for name in CANDIDATES), text


# Names that stay as they are in Chinese text, commands quoted in it, and the language switch.
# SCR: the prefix of a card's number (SCR1…), which the kiosk asks for by name.
NOT_ENGLISH = {"English", "Scrutineer", "CSV", "Excel", "PDF", "USB", "tally", "init", "make", "run", "SCR"}
VISIBLE_TEXT = """(skip) => {
  const out = [];
  const walk = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  while (walk.nextNode()) {
    const p = walk.currentNode.parentElement;
    if (p && !p.closest(skip) && p.checkVisibility()) out.push(walk.currentNode.textContent);
  }
  return out.join(" ");
}"""


# Whether a round's block (or a part of it) is inside the projector's stage, which clips what overflows.
ON_SCREEN = """([title, inner]) => {
  const sec = [...document.querySelectorAll('#stage section')].find(s => s.querySelector('h2')?.textContent === title);
  const el = sec && (inner ? sec.querySelector(inner) : sec);
  if (!el) return false;
  const r = el.getBoundingClientRect(), stage = document.getElementById('stage').getBoundingClientRect();
  return r.height > 0 && r.top >= stage.top && r.bottom <= Math.min(stage.bottom, window.innerHeight);
}"""


def on_screen(projector: Any, title: str, inner: str) -> bool:
    return bool(projector.evaluate(ON_SCREEN, [title, inner]))


def english_on(page: Any, skip: str) -> list[str]:
    """Visible English words on a Chinese screen (fingerprints, hex chain heads and names aside)."""
    words = re.findall(r"[A-Za-z]{3,}", page.evaluate(VISIBLE_TEXT, skip))
    return [w for w in words if w not in NOT_ENGLISH and not re.fullmatch(r"[a-f]+", w)]


def test_kiosk_projector_and_console_in_chromium(screens: Screens, fleet: Fleet) -> None:
    tally = fleet.tally(MEETING)
    tally.roster(PRESENT)
    kiosk: KioskProcess = fleet.kiosk("kiosk", receipt_seconds=3)
    assert kiosk.pair(tally.offers(1)[0], "大厅1号") == "active"
    kiosk.start()
    tally.round("r1", "open")
    cards = tally.cards(2)
    wait_for(lambda: kiosk.call("GET", "/api/state")[1]["rounds"] == 1, "the kiosk to see round r1", 30)

    projector = screens.page(1920, 1080)
    projector.goto(tally.call("GET", "/api/v1/admin/links")["projector"])
    projector.wait_for_selector("#conn.up")  # the live feed is connected
    # The scrutineers' card list fingerprint, fixed before voting, is on the projector for all to compare.
    listed = tally.call("GET", "/api/v1/admin/state")["card_list"]
    assert listed["fingerprint"] in projector.inner_text("#card-list")
    assert turnout(projector) == ("0", str(PRESENT))
    no_counts_on(projector)
    assert on_screen(projector, "镇长人选会议推荐", ".turnout")
    projector.evaluate("window.__sameDocument = true")  # gone if the page reloads
    screens.shot(projector, "projector-1-voting-open")

    pg = screens.page(1280, 800, not_checked="#check-code, #receipts")  # codes in base32
    vote(screens, pg, kiosk, cards[0], "kiosk-1", r1=True)

    projector.wait_for_function("document.querySelector('#stage .turnout .cast')?.textContent === '1'")
    assert projector.evaluate("window.__sameDocument") is True
    assert turnout(projector) == ("1", str(PRESENT))
    no_counts_on(projector)
    screens.shot(projector, "projector-2-one-ballot-cast")

    tally.round("r1", "close")
    projector.wait_for_function("!document.querySelector('#stage .turnout')")
    no_counts_on(projector)  # closed, not yet counted: still nothing
    tally.count("r1")
    no_counts_on(projector)  # counted, not yet shown: still nothing
    tally.round("r1", "reveal")
    projector.wait_for_selector("#stage table.result")
    rows = {r[0]: r[1:] for r in (row.split("\t") for row in
                                  projector.locator("#stage table.result tbody tr").all_inner_texts())}
    assert rows["张三"][0] == "1" and rows["李四"][0] == "0" and rows["钱七"][0] == "1"
    assert projector.evaluate("window.__sameDocument") is True
    screens.shot(projector, "projector-3-result-shown")

    # The chair runs round d1 from the console.
    # The result preview after 计票 is the round's view, in Chinese like every other screen.
    console = screens.page(1366, 768)
    console.on("dialog", lambda d: d.accept())  # "close this round?" confirmations
    console.goto(tally.url + "/console")
    console.wait_for_selector('input[name="token"]')
    screens.shot(console, "console-1-sign-in", full_page=True)
    console.fill('input[name="token"]', (tally.data / "secrets" / "admin-token").read_text().strip())
    console.click('button[type="submit"]')
    row = console.locator('tr[data-round="d1"]')
    row.wait_for()
    console.wait_for_selector('body[data-ready="1"]')  # the page's handlers are attached
    row.get_by_role("button", name="开始投票").click()
    console.wait_for_selector('tr[data-round="d1"] .status[data-status="open"]')
    screens.shot(console, "console-2-d1-open", full_page=True)
    projector.wait_for_function("[...document.querySelectorAll('#stage h2')].some(h => h.textContent === '任职票决')")
    assert projector.evaluate("window.__sameDocument") is True

    wait_for(lambda: kiosk.call("GET", "/api/state")[1]["rounds"] == 1
             and (kiosk.data / "ballot.json").read_text(encoding="utf-8").count('"d1"') > 0,
             "the kiosk to see round d1", 30)
    vote(screens, pg, kiosk, cards[1], "kiosk-2", r1=False)
    projector.wait_for_function("document.querySelector('#stage .turnout .cast')?.textContent === '1'")
    screens.shot(projector, "projector-4-d1-voting")
    assert projector.locator("#stage section", has_text="任职票决").locator("table").count() == 0
    unseen = [] if on_screen(projector, "任职票决", ".turnout") else ["d1 turnout while voting"]
    assert "1 / 8" in console.inner_text('tr[data-round="d1"] .turnout')

    row.get_by_role("button", name="结束投票").click()
    console.wait_for_selector('tr[data-round="d1"] .status[data-status="closed"]')
    row.get_by_role("button", name="计票").click()
    console.wait_for_selector("#count-dialog[open]")
    for line in tally.shares_for("d1", (1, 3)):  # typed, as a person or a USB scanner would
        console.fill("#share-input", line)
        console.press("#share-input", "Enter")
    console.wait_for_selector("#share-count:not([disabled])")
    screens.shot(console, "console-3-shares", full_page=True)
    console.click('#count-dialog button[value="ok"]')
    console.wait_for_selector('tr[data-round="d1"] .status[data-status="counted"]')
    screens.shot(console, "console-4-counted", full_page=True)
    row.get_by_role("button", name="投影公布").click()
    projector.wait_for_function("[...document.querySelectorAll('#stage section')].some("
                                "s => s.querySelector('h2')?.textContent === '任职票决' && s.querySelector('table.result'))")
    screens.shot(projector, "projector-5-d1-result-shown")
    if not on_screen(projector, "任职票决", "table.result"):
        unseen.append("d1 result after 投影公布")
    screens.shot(console, "console-5-shown", full_page=True)
    d1 = projector.locator("#stage section", has_text="任职票决")
    rows = {r[0]: r[1:] for r in (row_text.split("\t") for row_text in
                                  d1.locator("table.result tbody tr").all_inner_texts())}
    assert rows["王五"][:4] == ["1", "0", "0", str(PRESENT - 1)]  # 同意 不同意 弃权 未表态
    assert rows["赵六"][:4] == ["0", "1", "0", str(PRESENT - 1)]

    assert screens.errors == []
    assert screens.english == {}, "English words on Chinese screens"
    # Last, so that everything above is checked too: the hall must see the round in progress
    # and the result just shown, not have them clipped below an earlier round's result.
    assert unseen == [], f"outside the projector's visible stage: {unseen}"


def vote(screens: Screens, pg: Any, kiosk: KioskProcess, card: str, prefix: str, *, r1: bool) -> None:
    """One voter at the kiosk page: welcome, card typed in, choices, review, cast, receipt."""
    pg.goto(kiosk.url + "/")
    pg.wait_for_selector('#app[data-ready="1"]')
    pg.wait_for_selector('#screen-welcome [data-state="ready"]:not([hidden])')
    screens.shot(pg, f"{prefix}-1-welcome")
    pg.click('[data-action="start"]')
    pg.fill("#card-input", card)
    screens.shot(pg, f"{prefix}-2-card")
    pg.press("#card-input", "Enter")
    if r1:
        pg.wait_for_selector("#round-r1:not([hidden])")
        pg.click('#round-r1 [data-post="mayor"] [data-name="张三"]')
        pg.click('#round-r1 [data-post="deputy"] [data-name="赵六"]')
        pg.click('#round-r1 [data-post="deputy"] [data-name="钱七"]')
        assert pg.inner_text('#round-r1 [data-post="deputy"] .counter') == "已选 2/2"
        screens.shot(pg, f"{prefix}-3-choosing")
        pg.click('#round-r1 [data-action="next"]')
    else:
        pg.wait_for_selector("#round-d1:not([hidden])")
        pg.click('#round-d1 [data-nominee="王五"] [data-vote="agree"]')
        pg.click('#round-d1 [data-nominee="赵六"] [data-vote="disagree"]')
        screens.shot(pg, f"{prefix}-3-choosing")
        pg.click('#round-d1 [data-action="next"]')
    pg.wait_for_selector("#screen-review:not([hidden])")
    screens.shot(pg, f"{prefix}-4-review")
    pg.click('[data-action="cast"]')
    pg.wait_for_selector("#screen-done:not([hidden])")
    assert len(pg.locator("#receipts li").all_inner_texts()) == 1
    screens.shot(pg, f"{prefix}-5-receipt")
    pg.wait_for_selector("#screen-welcome:not([hidden])", timeout=20000)  # the receipt clears itself
