"""The voter screens in a real Chromium: on-screen limits, review, cast, receipt, and nothing left behind.

The kiosk app is served on loopback with its tally unreachable (it votes from its cached form,
as in an outage). Screenshots at the two tablet sizes go to test-artifacts/kiosk/.
"""
from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from werkzeug.serving import make_server

from keys.cards import Card
from keys.envelope import open_envelope, parse_envelope, receipt_code
from kiosk.agent import Agent
from kiosk.app import create_app

from .conftest import Hall

pytestmark = pytest.mark.browser
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "kiosk"


@pytest.fixture
def kiosk_url(agent: Agent) -> Iterator[str]:
    agent.receipt_seconds = 2
    server = make_server("127.0.0.1", 0, create_app(agent), threaded=True)
    threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()



@pytest.fixture
def page(browser: Any, request: pytest.FixtureRequest) -> Iterator[Any]:
    width, height = getattr(request, "param", (1280, 800))
    context = browser.new_context(viewport={"width": width, "height": height})
    pg = context.new_page()
    pg.errors = []
    pg.on("pageerror", lambda e: pg.errors.append(str(e)))
    yield pg
    context.close()


def shot(page: Any, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    size = page.viewport_size
    page.screenshot(path=str(ARTIFACTS / f"{name}-{size['width']}x{size['height']}.png"))


@pytest.mark.parametrize("page", [(1280, 800), (1920, 1080)], ids=["1280x800", "1920x1080"], indirect=True)
def test_vote_review_cast_and_forget(page: Any, kiosk_url: str, agent: Agent, card: Card, hall: Hall) -> None:
    pg: Any = page
    pg.goto(kiosk_url + "/")
    shot(pg, "welcome")
    pg.click('[data-action="start"]')
    pg.fill("#card-input", card.qr_text)
    pg.press("#card-input", "Enter")
    pg.wait_for_selector("#round-r1:not([hidden])")
    assert pg.inner_text("#check-code") == card.check_code

    r1 = "#round-r1 "
    pg.click(r1 + '[data-post="mayor"] [data-name="张三"]')
    pg.click(r1 + '[data-post="mayor"] [data-name="李四"]')  # over-vote: refused on screen
    assert pg.inner_text(r1 + ".message") == "最多可选 1 人。"
    assert pg.get_attribute(r1 + '[data-name="李四"]', "aria-pressed") == "false"
    assert pg.inner_text(r1 + '[data-post="mayor"] .counter') == "已选 1/1"
    assert pg.locator(r1 + '[data-post="deputy"] .write-in').count() == 0
    shot(pg, "recommend")
    pg.click(r1 + '[data-action="next"]')

    e1 = "#round-e1 "
    pg.click(e1 + '[data-subject="张三"] [data-grade="优秀"]')
    pg.click(e1 + '[data-subject="李四"] [data-grade="优秀"]')  # quota of one 优秀
    assert "最多 1 人" in pg.inner_text(e1 + ".message")
    pg.click(e1 + '[data-subject="张三"] [data-direction="提拔"]')
    shot(pg, "evaluate")
    pg.click(e1 + '[data-action="next"]')

    d1 = "#round-d1 "
    pg.click(d1 + '[data-nominee="王五"] [data-vote="agree"]')
    pg.click(d1 + '[data-nominee="赵六"] [data-vote="agree"]')  # one seat: a second 同意 is refused
    assert pg.get_attribute(d1 + '[data-nominee="赵六"] [data-vote="agree"]', "aria-pressed") == "false"
    pg.click(d1 + '[data-nominee="赵六"] [data-vote="disagree"]')
    shot(pg, "decide")
    pg.click(d1 + '[data-action="next"]')

    review = pg.inner_text("#review-list")
    assert "张三" in review and "空白（未选择）" in review and "未评（弃权）" in review and "未表态" in review
    assert pg.is_hidden("#review-blank")
    shot(pg, "review")
    pg.click('[data-action="cast"]')
    pg.wait_for_selector("#screen-done:not([hidden])")
    shot(pg, "receipt")

    shown = pg.inner_text("#receipts").split()
    items = agent.outbox.pending()
    assert sorted(shown) == sorted(receipt_code(i.envelope_hash) for i in items)
    # Choices are gone from the page the moment the receipt shows, and were never stored.
    assert pg.locator('[aria-pressed="true"]').count() == 0
    assert pg.inner_text("#review-list") == ""
    assert pg.evaluate("[localStorage.length, sessionStorage.length, document.cookie]") == [0, 0, ""]
    pg.wait_for_selector("#screen-welcome:not([hidden])", timeout=15000)  # the receipt clears itself
    assert pg.errors == []

    opened = {i.round_id: open_envelope(parse_envelope(i.body), hall.round_keys[i.round_id]) for i in items}
    assert opened == {
        "r1": {"round": "r1", "sections": {"mayor": ["张三"], "deputy": []}},
        "e1": {"round": "e1", "grades": {"张三": "优秀"}, "directions": {"张三": "提拔"}},
        "d1": {"round": "d1", "votes": {"王五": "agree", "赵六": "disagree"}},
    }


def test_blank_ballot_is_announced_and_a_spent_card_is_refused(page: Any, kiosk_url: str, card: Card) -> None:
    pg: Any = page
    pg.goto(kiosk_url + "/?lang=en")
    pg.click('[data-action="start"]')
    pg.fill("#card-input", card.qr_text)
    pg.click('[data-action="submit-card"]')
    for rid in ("r1", "e1", "d1"):
        pg.click(f'#round-{rid} [data-action="next"]')
    assert pg.inner_text("#review-blank") == "This ballot is entirely blank. You may still cast it."
    pg.click('[data-action="cast"]')
    pg.wait_for_selector("#screen-done:not([hidden])")
    with pg.expect_navigation():  # "Done" reloads the page: nothing of this voter survives
        pg.click('#screen-done [data-action="finish"]')
    pg.wait_for_selector("#app[data-ready]")  # the new page listens for the scanner
    # A USB scanner types the same card again on the welcome screen.
    pg.keyboard.type(card.qr_text + "\n")
    pg.wait_for_selector("#screen-error:not([hidden])")
    assert pg.inner_text("#error-message") == "This card has already been used."
    shot(pg, "spent-card")
