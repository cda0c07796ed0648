"""The judge's pad in a real Chromium at tablet size (1280×800): scan the judge card, wait, type a score
on the pad (refused off the step), confirm, locked; the chair returns the score and the pad comes
back; leave judge mode. The kiosk agent runs its real sender and heartbeat against the real tally.
Screenshots go to test-artifacts/kiosk/judge-*.png.
"""
from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect
from werkzeug.serving import make_server

from kiosk.agent import Agent
from kiosk.app import create_app

from .conftest import LiveJudging, paired_agent

pytestmark = pytest.mark.browser
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "kiosk"
PANEL = '.judge-panel[data-panel="{}"]:not([hidden])'


@pytest.fixture
def judge_kiosk(tmp_path: Path, judging_tally: LiveJudging) -> Iterator[tuple[str, Agent]]:
    agent = paired_agent(tmp_path / "kiosk", judging_tally)
    agent.heartbeat_seconds = 1.0
    agent.start()
    server = make_server("127.0.0.1", 0, create_app(agent), threaded=True)
    threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}", agent
    server.shutdown()
    server.server_close()
    agent.stop()
    agent.outbox.close()


@pytest.fixture
def tablet(chromium: Any) -> Iterator[Any]:
    context = chromium.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    page.errors = []
    page.on("pageerror", lambda e: page.errors.append(str(e)))
    yield page
    context.close()


def keys(page: Any, text: str) -> None:
    for ch in text:
        page.click(f'.key[data-key="{ch}"]')


def shot(page: Any, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"judge-{name}.png"))


def test_the_judge_pad_from_scan_to_locked(tablet: Any, judge_kiosk: tuple[str, Agent],
                                           judging_tally: LiveJudging) -> None:
    url, agent = judge_kiosk
    page = tablet
    page.goto(url + "/")
    page.wait_for_selector('#app[data-ready="1"]')
    page.click('#screen-welcome .state:not([hidden]) [data-action="start"]')
    page.fill("#card-input", judging_tally.judge_cards["J07"])
    page.click('[data-action="submit-card"]')
    page.wait_for_selector(PANEL.format("waiting"))
    assert page.inner_text("#judge-label") == "J07"
    assert "评委席" in page.inner_text(".seat-badge") and page.inner_text("#judge-round") == "结构化面试"
    assert "等待主持人开始下一位选手" in page.inner_text(PANEL.format("waiting"))
    shot(page, "waiting")

    judging_tally.chair("next")
    page.wait_for_selector(PANEL.format("pad"), timeout=5000)
    assert page.inner_text("#pad-contestant") == "甲"
    assert page.inner_text("#pad-range") == "0–100，最小单位 0.5"
    keys(page, "88.3")
    page.click('[data-action="judge-review"]')
    assert page.inner_text(PANEL.format("pad") + " .message") == "评分须为 0.5 的整数倍。"
    shot(page, "pad-error")
    page.click('.key[data-key="clear"]')
    keys(page, "88.5")
    page.click('.key[data-key="5"]')  # a second decimal is refused on screen
    assert page.inner_text("#pad-display") == "88.5"
    assert page.inner_text(PANEL.format("pad") + " .message") == "最多 1 位小数。"
    shot(page, "pad")

    page.click('[data-action="judge-review"]')
    page.wait_for_selector(PANEL.format("confirm"))
    assert page.inner_text("#confirm-text") == "确认为 甲 打分 88.5？"
    shot(page, "confirm")
    page.click('[data-action="judge-back"]')  # 返回修改 keeps what was typed
    assert page.inner_text("#pad-display") == "88.5"
    page.click('[data-action="judge-review"]')
    page.click('[data-action="judge-confirm"]')
    page.wait_for_selector(PANEL.format("locked"))
    assert "已提交，等待亮分" in page.inner_text(PANEL.format("locked"))
    assert page.inner_text("#locked-echo") == "您的评分：88.5"
    shot(page, "locked")
    # The sender delivers it; the page says so, and the value is gone from the page for good.
    # (expect() polls without eval: the page's CSP forbids it)
    expect(page.locator("#locked-detail")).to_have_text("计票服务器已收到您的评分。", timeout=10000)
    expect(page.locator("#locked-echo")).to_have_text("", timeout=10000)
    assert "88.5" not in page.content()
    assert judging_tally.console()["scored_seats"] == [7]

    # The chair returns the score: the pad comes back with a notice.
    judging_tally.chair("void", {"seat": 7, "reason": "评委示意按错"})
    page.wait_for_selector(PANEL.format("pad"), timeout=5000)
    assert page.inner_text(PANEL.format("pad") + " .judge-notice") == "主持人已退回您的评分，请重新打分"
    assert page.inner_text("#pad-display") == "—"
    shot(page, "returned")

    # Leaving judge mode takes two taps.
    page.click('[data-action="judge-exit"]')
    assert page.inner_text('[data-action="judge-exit"]') == "再按一次退出评委模式"
    page.click('[data-action="judge-exit"]')
    page.wait_for_selector('#screen-welcome:not([hidden])')
    assert not agent.judges.bound
    assert page.errors == []
