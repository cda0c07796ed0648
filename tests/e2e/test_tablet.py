"""The kiosk on a 1280×800 tablet, the chair's console and the check-in desk, with the seed meeting.

One real tally serves the meeting of `seed_meeting` (every round of docs/examples/*.yaml and a
four-post slate); a real kiosk agent serves the voter's page to Chromium at 1280×800:
- every choice and every warning of every round is on screen without scrolling (a long ballot is
  split into pages under the sticky 下一步 bar), and the review starts with what was left blank;
- the console folds kiosks not heard from, states cast/实到 before closing and counting, shows
  each electorate's 实到, keeps 投影公布 for a second showing, and 下一位选手 is not the primary
  button before its round opens; the desk shows each electorate's 实到.
Screenshots go to test-artifacts/e2e/tablet-*.png and console-*.png.
"""
from __future__ import annotations

import io
from typing import Any

import pytest

from tests.harness import KioskProcess, TallyProcess

from . import seed_meeting
from .conftest import ARTIFACTS, Fleet
from .support import wait_for

pytestmark = [pytest.mark.browser, pytest.mark.slow]
# The longest ballots of the seeds: four posts, a write-in list, people with grades and directions.
OPEN = ["x-many-posts", "s000-unit-recommend", "s003-evaluation", "s002-evaluation", "s001-standing-committee"]



@pytest.fixture(scope="module")
def meeting(module_fleet: Fleet) -> tuple[TallyProcess, KioskProcess]:
    tally = module_fleet.tally(seed_meeting.meeting_yaml(), name="tablet", cards=12)
    roster, present = seed_meeting.roster()
    tally.call("POST", "/api/v1/admin/roster", files={"file": ("roster.csv", io.BytesIO(roster.encode()))})
    tally.call("POST", "/api/v1/desk/signin", {"numbers": present})
    kiosk = module_fleet.kiosk("kiosk", receipt_seconds=3)
    assert kiosk.pair(tally.offers(1)[0], "大厅1号") == "active"
    kiosk.start()
    for rid in OPEN:
        tally.round(rid, "open")
    wait_for(lambda: kiosk.call("GET", "/api/state")[1]["rounds"] == len(OPEN), "the kiosk to see the rounds", 30)
    return tally, kiosk


# Whether anything a voter must see on this screen lies under the sticky bar or below the window.
HIDDEN = """() => {
  const screen = [...document.querySelectorAll('.screen')].find(s => !s.hidden);
  const bar = screen.querySelector('.steps');
  const limit = Math.min(window.innerHeight, bar ? bar.getBoundingClientRect().top : window.innerHeight);
  const out = [];
  const must = '.toggle, .write-in input, .write-in button, .message:not(:empty), .notice:not([hidden]), #review-unmarked';
  for (const e of screen.querySelectorAll(must)) {
    if (!e.checkVisibility()) continue;
    const r = e.getBoundingClientRect();
    const what = e.dataset.name || e.dataset.grade || e.dataset.vote || e.id || e.className;
    if (r.bottom > limit + 1 || r.top < 0) out.push(what + '@' + Math.round(r.bottom));
  }
  return out;
}"""


def test_no_choice_or_warning_is_hidden_below_the_fold_on_a_1280x800_tablet(meeting: Any, browser: Any) -> None:
    tally, kiosk = meeting
    card = tally.cards(1)[0]
    pg = browser.new_context(viewport={"width": 1280, "height": 800}, locale="zh-CN").new_page()
    pg.goto(kiosk.url + "/")
    pg.wait_for_selector('#screen-welcome [data-state="ready"]:not([hidden])')
    pg.click('[data-action="start"]')
    # The scan screen asks for what the card prints (its number, starting SCR1), not the check code.
    assert "SCR1" in pg.inner_text('label[for="card-input"]')
    pg.fill("#card-input", card)
    pg.press("#card-input", "Enter")
    seen: list[str] = []
    shot = 0
    while True:
        pg.wait_for_selector(".screen[data-screen='round']:not([hidden]), #screen-review:not([hidden])")
        current = pg.evaluate("[...document.querySelectorAll('.screen')].find(s => !s.hidden).id")
        shot += 1
        pg.screenshot(path=str(ARTIFACTS / f"tablet-{shot:02d}-{current}.png"))
        assert pg.evaluate("window.scrollY") == 0
        assert pg.evaluate(HIDDEN) == [], f"{current}: hidden below the fold"
        if current == "screen-review":
            break
        seen.append(current + " " + pg.inner_text(f"#{current} .step"))
        # Mark the first choice of each group on the page, leaving the rest blank.
        if current == "round-x-many-posts":
            for f in pg.locator(f"#{current} fieldset:visible").all():
                f.locator(".toggle").first.click()
        if current == "round-s003-evaluation":
            pg.locator(f"#{current} fieldset:visible").first.locator(".grades .toggle").first.click()
        pg.click(f"#{current} [data-action='next']")
    # Long ballots were split into pages: the four posts, the people with grades and directions.
    assert any("x-many-posts" in s and "页" in s for s in seen), seen
    # The review starts with what is blank or ungraded, above everything that could scroll.
    summary = pg.locator("#review-unmarked")
    lines = summary.inner_text().splitlines()
    assert "镇班子成员届末民主测评：林二、黄三" in lines  # 陈一 was graded
    assert "民主测评（量化计分）：甲、乙、丙、丁" in lines and not any("镇领导班子换届推荐" in x for x in lines)
    box = summary.bounding_box()
    assert box is not None and box["y"] + box["height"] < 800 / 2
    pg.click('[data-action="cast"]')
    pg.wait_for_selector("#screen-done:not([hidden])")
    pg.screenshot(path=str(ARTIFACTS / "tablet-99-receipt.png"))
    pg.context.close()


def test_console_and_desk_state_the_figures_a_chair_decides_on(meeting: Any, browser: Any) -> None:
    from kiosk.simulate import simulate

    tally, _kiosk = meeting
    # Six simulated kiosks pair, cast and fall silent: on the console they fold into a count.
    ballots = [{"round": "s001-standing-committee", "votes": {"李四": "agree"}} for _ in range(3)]
    out = simulate(tally.offers(6), tally.cards(3), ballots)
    assert out["accepted"] == 3
    token = (tally.data / "secrets" / "admin-token").read_text().strip()
    ctx = browser.new_context(viewport={"width": 1366, "height": 900}, locale="zh-CN")
    console = ctx.new_page()
    console.goto(tally.url + "/console")
    console.fill('input[name="token"]', token)
    console.click('button[type="submit"]')
    console.wait_for_selector("#kiosks")
    folded = wait_for(lambda: console.inner_text("#kiosks-folded .n") or None, "the silent kiosks to fold", 20)
    assert "6 台" in folded and console.locator("#kiosks tbody tr").count() == 1
    console.click("#kiosks-folded button")
    assert console.locator("#kiosks tbody tr").count() == 7
    # Each electorate's 实到 (a unit of a meeting of several units).
    groups = {r.split("\t")[0]: r.split("\t")[1:] for r in console.locator("#electorates tbody tr").all_inner_texts()}
    assert groups["s000-86-80"] == ["86", "80"] and groups["x-60-56"] == ["60", "56"]
    # 下一位选手 is not the primary button while its round is a draft.
    nxt = console.locator('section.judging[data-round="s003-speech"] button[data-jact="next"]')
    assert "primary" not in (nxt.get_attribute("class") or "")
    # A composite takes no ballots: it cannot be opened.
    assert console.locator('tr[data-round="s002-total"] button[data-act="open"]').is_disabled()
    console.screenshot(path=str(ARTIFACTS / "console-tablet-1.png"), full_page=True)
    # Closing states cast/实到 for this round; so does the count dialog.
    said: list[str] = []
    console.on("dialog", lambda d: (said.append(d.message), d.accept()))
    row = console.locator('tr[data-round="s001-standing-committee"]')
    cast = next(r["cast"] for r in tally.call("GET", "/api/v1/admin/state")["rounds"] if r["id"] == OPEN[-1])
    assert cast == 3 + 1  # the simulated kiosks' and the tablet's voter's
    row.get_by_role("button", name="结束投票").click()
    console.wait_for_selector('tr[data-round="s001-standing-committee"] .status[data-status="closed"]')
    assert f"市委常委会差额票决：已收回 {cast} 张，实到 11 人。" in said[0]
    row.get_by_role("button", name="计票").click()
    console.wait_for_selector("#count-dialog[open]")
    assert console.inner_text("#count-turnout") == f"市委常委会差额票决：已收回 {cast} 张，实到 11 人。"
    for share in tally.shares_for(OPEN[-1]):  # two scrutineers type their share of this round
        console.fill("#share-input", share)
        console.press("#share-input", "Enter")
    wait_for(lambda: console.locator("#share-count").is_enabled() or None, "two shares to be taken", 10)
    console.screenshot(path=str(ARTIFACTS / "console-tablet-2-count.png"))
    console.click('#count-dialog button[value="ok"]')
    console.wait_for_selector('tr[data-round="s001-standing-committee"] .status[data-status="counted"]')
    # The preview is the same view as the projector's: the rule in words, 当选.
    assert "同意票超过应到会人数半数" in console.inner_text("#result-preview")
    # 投影公布, then again: the button stays, as `tally rounds reveal` re-shows.
    reveal = row.locator('button[data-act="reveal"]')
    reveal.click()
    wait_for(lambda: reveal.inner_text() == "再次投影" or None, "the button to offer a second showing", 10)
    assert reveal.is_enabled()
    before = len(tally.call("GET", "/api/v1/admin/audit")["entries"])
    reveal.click()
    wait_for(lambda: len(tally.call("GET", "/api/v1/admin/audit")["entries"]) > before or None, "the second showing", 10)
    console.screenshot(path=str(ARTIFACTS / "console-tablet-3-shown.png"), full_page=True)
    # The desk: each electorate's 实到 too.
    desk = ctx.new_page()
    desk.goto(tally.call("GET", "/api/v1/admin/links")["desk"])
    desk_groups = {r.split("\t")[0]: r.split("\t")[1:] for r in desk.locator("#electorates tbody tr").all_inner_texts()}
    assert desk_groups == groups
    desk.screenshot(path=str(ARTIFACTS / "desk-electorates.png"), full_page=True)
    ctx.close()
