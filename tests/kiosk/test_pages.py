"""The kiosk's pages through Flask's test client: Chinese first, English on request, nothing cached."""
from __future__ import annotations

import re

from flask.testing import FlaskClient

from keys.cards import Card
from kiosk.agent import Agent
from kiosk.assets import static_dir

from .conftest import open_session

# The kiosk page's own scripts, in the order they must load (after the vendored jsQR).
SCRIPTS = tuple(f"/static/kiosk/{name}.js" for name in ("common", "voter", "judge", "main"))


def test_welcome_and_ballot_screens_are_in_chinese_by_default(client: FlaskClient) -> None:
    resp = client.get("/")
    assert resp.status_code == 200
    page = resp.get_data(as_text=True)
    assert 'lang="zh-CN"' in page
    for text in ("欢迎", "扫描选票凭证卡", "核对选票", "投出", "已选 {n}/{m}", "另推他人", "同意", "不同意", "弃权"):
        assert text in page, text
    # The round forms come from the (cached) ballot form.
    for text in ("镇长人选会议推荐", "副镇长", "孙八", "民主测评", "基本称职", "提拔", "差额票决", "周九"):
        assert text in page, text
    assert "Welcome" not in page


def test_english_on_request_and_remembered(client: FlaskClient) -> None:
    page = client.get("/?lang=en").get_data(as_text=True)
    assert 'lang="en"' in page and "Welcome" in page and "Check your ballot" in page
    assert "欢迎" not in page
    again = client.get("/").get_data(as_text=True)  # the cookie remembers the choice
    assert "Welcome" in again
    back = client.get("/?lang=zh").get_data(as_text=True)
    assert "欢迎" in back


def test_api_errors_speak_the_page_language(client: FlaskClient) -> None:
    zh = client.post("/api/card", json={"card": "nonsense"}).get_json()["error"]["message"]
    assert zh == "这不是选票凭证卡，请重新扫描。"
    client.get("/?lang=en")
    en = client.post("/api/card", json={"card": "nonsense"}).get_json()["error"]["message"]
    assert en == "This is not a ballot card. Please scan it again."


def test_selection_errors_are_translated_with_their_values(client: FlaskClient, card: Card) -> None:
    token = open_session(client, card)["session"]
    rounds = {"r1": {"sections": {"mayor": ["张三", "李四"]}}, "e1": {}, "d1": {}}
    err = client.post("/api/cast", json={"session": token, "rounds": rounds}).get_json()["error"]
    assert err == {"code": "over_vote", "message": "镇长 所选人数过多：最多 1 名。"}


def test_nothing_is_cached_by_the_browser(client: FlaskClient) -> None:
    for path in ("/", "/status", "/api/state"):
        resp = client.get(path)
        assert resp.headers["Cache-Control"] == "no-store"
        assert "script-src 'self'" in resp.headers["Content-Security-Policy"]


def test_page_uses_only_vendored_assets(client: FlaskClient) -> None:
    page = client.get("/").get_data(as_text=True)
    assert "/static/vendor/jsQR.js" in page and "/static/kiosk/main.js" in page
    assert "http://" not in page and "https://" not in page
    for asset in ("/static/vendor/jsQR.js", *SCRIPTS, "/static/kiosk/kiosk.css"):
        assert client.get(asset).status_code == 200


def test_page_loads_the_split_scripts_in_order_and_no_inline_script(client: FlaskClient) -> None:
    page = client.get("/").get_data(as_text=True)
    loaded = re.findall(r'<script src="([^"]+)" defer></script>', page)
    assert loaded == ["/static/vendor/jsQR.js", *SCRIPTS]
    assert re.findall(r"<script(?![^>]* src=)[^>]*>", page) == ['<script type="application/json" id="kiosk-strings">']
    assert not re.search(r"\son[a-z]+=", page)  # no inline event handlers: the CSP allows 'self' only
    assert not (static_dir() / "kiosk" / "kiosk.js").exists()
    assert client.get("/static/kiosk/kiosk.js").status_code == 404


def test_every_button_has_one_handler_in_the_dispatch_table(client: FlaskClient) -> None:
    page = client.get("/").get_data(as_text=True)
    used = set(re.findall(r'data-action="([^"]+)"', page)) | {"toggle"}  # a write-in chip is made in voter.js
    claimed: list[str] = []  # each module registers its handlers as {"data-action": function (btn) {…}}
    for name in ("common", "voter", "judge"):
        claimed += re.findall(r'"([a-z-]+)": function', (static_dir() / "kiosk" / f"{name}.js").read_text(encoding="utf-8"))
    assert len(claimed) == len(set(claimed)), claimed
    assert used == set(claimed)


def test_status_page_shows_counts_and_never_ballot_contents(client: FlaskClient, agent: Agent, card: Card) -> None:
    token = open_session(client, card)["session"]
    rounds = {"r1": {"sections": {"mayor": ["钱多多"], "deputy": ["孙八"]}},
              "e1": {"grades": {"张三": "优秀"}}, "d1": {"votes": {"周九": "agree"}}}
    assert client.post("/api/cast", json={"session": token, "rounds": rounds}).status_code == 201
    agent.outbox.mark_rejected(agent.outbox.pending()[0].id, "round_not_open")
    page = client.get("/status").get_data(as_text=True)
    assert "发件箱" in page and "终端指纹" in page
    assert '<td id="count-pending">2</td>' in page and '<td id="count-rejected">1</td>' in page
    assert "round_not_open" in page
    for secret in ("钱多多", "孙八", "优秀", "周九", card.check_code):
        assert secret not in page


def test_state_tells_the_welcome_screen_what_to_show(client: FlaskClient, agent: Agent) -> None:
    state = client.get("/api/state").get_json()
    assert state == {"status": "unknown", "unlocked": False, "form": agent.form.version if agent.form else None,
                     "rounds": 3, "judging": 0}
    agent.status = "revoked"
    assert client.post("/api/card", json={"card": "x"}).get_json()["error"]["code"] == "kiosk_revoked"
    page = client.get("/").get_data(as_text=True)
    assert "本终端已停用。" in page
