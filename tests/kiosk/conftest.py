"""Fixtures for the kiosk tests: a paired kiosk's data directory, its agent and its Flask app.

The kiosk's tally address is a loopback port nobody listens on, so every call to the tally
fails at once with "connection refused": the kiosk must then work from its cached ballot form
and its own outbox, exactly as in a short tally outage. `tally` instead serves the real tally
app (`tally.create_app` over a real meeting directory) on a loopback port in this process.
"""
from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.serving import make_server

from keys.canonical import b64e
from keys.cards import Card, new_card
from keys.identity import Identity
from keys.pairing import PairingOffer
from keys.sealing import RoundKey
from kiosk.agent import Agent
from kiosk.app import create_app
from kiosk.config import Pairing, Paths, save_pairing
from tally.services import services

MEETING = "0123456789abcdef"
BALLOT_SIZE = 2048  # the ballot size these tests' hand-made forms sign for every round


def signed_rounds(tally: Identity, meeting: str, rounds: list[dict[str, Any]],
                  live: dict[str, dict[str, Any]] | None = None, title: str = "测试镇推荐会议") -> list[dict[str, Any]]:
    """Round entries as the tally serves them: each form signed by `tally` (label form), with the
    meeting inside the signature, plus (for score rounds) the live state beside it."""
    from keys import labels
    from keys.document import sign_document

    out = []
    for r in rounds:
        doc = {"ballot_size": BALLOT_SIZE, **r, "meeting": meeting, "meeting_title": title}
        out.append({**doc, **(live or {}).get(r["id"], {}), "signed": sign_document(tally, doc, labels.FORM)})
    return out


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Hall:
    """One meeting as a kiosk sees it: the tally's key, the round keys, the ballot form."""

    tally: Identity
    round_keys: dict[str, RoundKey]

    def form_doc(self) -> dict[str, Any]:
        pk = {rid: b64e(k.public_bytes()) for rid, k in self.round_keys.items()}
        return {
            "meeting": {"id": MEETING, "title": "测试镇推荐会议"},
            "rounds": signed_rounds(self.tally, MEETING, [
                {"id": "r1", "kind": "recommend", "title": "镇长人选会议推荐", "public_key": pk["r1"],
                 "posts": [
                     {"id": "mayor", "title": "镇长", "seats": 1, "candidates": ["张三", "李四", "王五"], "write_in": True},
                     {"id": "deputy", "title": "副镇长", "seats": 2, "candidates": ["赵六", "钱七", "孙八"], "write_in": False},
                 ]},
                {"id": "e1", "kind": "evaluate", "title": "民主测评", "public_key": pk["e1"],
                 "subjects": ["张三", "李四", "王五"], "grades": ["优秀", "称职", "基本称职", "不称职"],
                 "directions": ["提拔", "留任"], "quota": {"优秀": 1}},
                {"id": "d1", "kind": "decide", "title": "差额票决", "public_key": pk["d1"],
                 "nominees": ["王五", "赵六", "周九"], "seats": 1},
            ]),
        }


@pytest.fixture
def hall() -> Hall:
    return Hall(tally=Identity.generate(), round_keys={r: RoundKey.generate() for r in ("r1", "e1", "d1")})


@pytest.fixture
def paths(tmp_path: Path, hall: Hall) -> Paths:
    p = Paths(tmp_path / "kiosk")
    p.data.mkdir()
    save_pairing(p, Pairing(kiosk_id="k1", tally_url=f"http://127.0.0.1:{closed_port()}",
                            tally_public_key=hall.tally.public_bytes(), meeting=MEETING, name="测试终端"))
    p.form_cache.write_text(json.dumps(hall.form_doc(), ensure_ascii=False), encoding="utf-8")
    return p


@pytest.fixture
def agent(paths: Paths) -> Iterator[Agent]:
    from kiosk.config import load_pairing

    a = Agent(paths, load_pairing(paths), Identity.generate(), receipt_seconds=5)
    yield a
    a.outbox.close()


@pytest.fixture
def app(agent: Agent) -> Flask:
    return create_app(agent, {"TESTING": True})


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def card() -> Card:
    return new_card(MEETING)


@dataclass
class LiveTally:
    url: str
    client: Any  # the tally's Flask test client, for the chair's and the desk's side
    admin: dict[str, str]

    def offer(self, preconfirm: bool = True) -> str:
        resp = self.client.post("/api/v1/admin/offers", json={"count": 1, "preconfirm": preconfirm}, headers=self.admin)
        return str(resp.get_json()["offers"][0])

    def cards(self, meeting: str, n: int) -> list[Card]:
        from tests.tally.conftest import issue_cards

        return issue_cards(self.client, self.admin, meeting, n)


@pytest.fixture
def tally(tmp_path: Path) -> Iterator[LiveTally]:
    from tally import create_app as create_tally
    from tally.setup.meeting import init_meeting
    from tests.tally.conftest import KEY_PASS, setup_meeting, shares_dir
    from tests.tally.conftest import MEETING as MEETING_YAML

    f = tmp_path / "meeting.yaml"
    f.write_text(MEETING_YAML, encoding="utf-8")
    data = tmp_path / "tally"
    init_meeting(data, f, key_passphrase=KEY_PASS, scrutineers=3, quorum=2, shares_out=shares_dir(data))
    app = create_tally({"DATA_DIR": str(data), "TESTING": True, "ENV": {"TALLY_KEY_PASSPHRASE": KEY_PASS}})
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    admin = {"Authorization": "Bearer " + (data / "secrets" / "admin-token").read_text().strip()}
    client = app.test_client()
    setup_meeting(client, admin, open_rounds=("r1", "e1", "d1"))
    assert client.post("/api/v1/admin/settings", json={"desk_unlock": True}, headers=admin).status_code == 200
    yield LiveTally(f"http://127.0.0.1:{server.server_port}", client, admin)
    server.shutdown()
    server.server_close()
    services(app).store.engine.dispose()


def local_offer(live: LiveTally, preconfirm: bool = True) -> PairingOffer:
    """An offer from the chair's API, pointing at the loopback port this test serves the tally on."""
    o = PairingOffer.parse(live.offer(preconfirm))
    return PairingOffer(url=live.url, code=o.code, fingerprint=o.fingerprint)


def open_session(client: FlaskClient, card: Card) -> dict[str, Any]:
    resp = client.post("/api/card", json={"card": card.qr_text})
    assert resp.status_code == 200, resp.get_json()
    return resp.get_json()


JUDGE_MEETING = """
meeting:
  title: 竞争性选拔面试
rounds:
  - id: r1
    kind: recommend
    title: 镇长人选会议推荐
    expected: 6
    posts:
      - id: mayor
        title: 镇长
        seats: 1
        candidates: [张三, 李四, 王五]
  - id: s1
    kind: score
    title: 结构化面试
    judges: 7
    trim: 1
    min: 0
    max: 100
    step: "0.5"
    decimals: 2
    contestants: [甲, 乙, 丙]
"""
JUDGE_POOL = "编号,姓名,类别\n" + "".join(f"P{i:02d},评委{i},代表\n" for i in range(1, 13))


@dataclass
class LiveJudging(LiveTally):
    """A tally with a 7-seat score round s1 (0–100, step 0.5, trim 1) open, and r1 open for voters."""

    judge_cards: dict[str, str]  # seat label -> card text, as `tally judges cards` prints them

    def chair(self, action: str, body: dict[str, Any] | None = None) -> Any:
        resp = self.client.post(f"/api/v1/admin/rounds/s1/{action}", json=body or {}, headers=self.admin)
        assert resp.status_code in (200, 201), resp.get_json()
        return resp.get_json()

    def console(self) -> Any:
        return self.client.get("/api/v1/admin/rounds/s1/judging", headers=self.admin).get_json()


@pytest.fixture
def judging_tally(tmp_path: Path) -> Iterator[LiveJudging]:
    import io

    from tally import create_app as create_tally
    from tally.setup.meeting import init_meeting
    from tests.tally.conftest import KEY_PASS, setup_meeting, shares_dir

    f = tmp_path / "judging.yaml"
    f.write_text(JUDGE_MEETING, encoding="utf-8")
    data = tmp_path / "tally"
    init_meeting(data, f, key_passphrase=KEY_PASS, scrutineers=3, quorum=2, shares_out=shares_dir(data))
    app = create_tally({"DATA_DIR": str(data), "TESTING": True, "ENV": {"TALLY_KEY_PASSPHRASE": KEY_PASS}})
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    admin = {"Authorization": "Bearer " + (data / "secrets" / "admin-token").read_text().strip()}
    client = app.test_client()
    setup_meeting(client, admin, open_rounds=("r1",))
    resp = client.post("/api/v1/admin/judges/pool", data={"file": (io.BytesIO(JUDGE_POOL.encode()), "pool.csv")},
                       headers=admin)
    assert resp.status_code == 200, resp.get_json()
    assert client.post("/api/v1/admin/rounds/s1/draw", json={"seed": "kiosk-tests"}, headers=admin).status_code == 201
    cards = client.post("/api/v1/admin/rounds/s1/judge-cards", json={}, headers=admin).get_json()["cards"]
    assert client.post("/api/v1/admin/rounds/s1/open", json={}, headers=admin).status_code == 200
    assert client.post("/api/v1/admin/rounds/s1/order", json={"order": ["甲", "乙", "丙"]},
                       headers=admin).status_code == 200
    yield LiveJudging(f"http://127.0.0.1:{server.server_port}", client, admin,
                      {c["label"]: c["qr_text"] for c in cards})
    server.shutdown()
    server.server_close()
    services(app).store.engine.dispose()


def paired_agent(root: Path, live: LiveTally, name: str = "评委终端", *, judging: bool = True) -> Agent:
    """A kiosk paired with the live tally over HTTP (as `kiosk pair` does), its form and (unless
    `judging` is false) its judging state fetched."""
    from kiosk.config import load_pairing
    from kiosk.pairing import load_identity, pair

    paths = Paths(root)
    pair(local_offer(live).to_url(), paths, name, "kiosk tablet passphrase")
    agent = Agent(paths, load_pairing(paths), load_identity(paths, "kiosk tablet passphrase"))
    agent.heartbeat()
    agent.refresh_form()
    if judging:
        agent.judges.refresh()
    return agent




@pytest.fixture(scope="module")
def chromium(browser: Any) -> Any:
    """Debian's Chromium through Playwright (tests/conftest.py's `browser`)."""
    return browser
