"""Fixtures for the tally server: a real data directory, a real SQLite database, Flask's clients.

`meeting_dir` runs the same `init_meeting` as `tally init`; `app` is `create_app` over it.
`Voter` builds envelopes with the real `keys` code a kiosk uses.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from keys.canonical import b64e
from keys.envelope import seal_envelope
from keys.identity import Identity
from tally.services import services

KEY_PASS = "test key passphrase"
MEETING = """
meeting:
  title: 测试镇推荐会议
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
        write_in: true
  - id: e1
    kind: evaluate
    title: 民主测评
    expected: 6
    subjects: [张三, 李四]
    grade_values: [100, 80, 60, 0]
    threshold: ">=80%"
  - id: d1
    kind: decide
    title: 票决
    expected: 6
    nominees: [王五]
    defer_rule: ">30%"
"""
ROSTER = "编号,姓名,类别\n" + "".join(f"{i:03d},代表{i},代表\n" for i in range(1, 7))


@pytest.fixture
def meeting_dir(tmp_path: Path) -> Path:
    from tally.setup.meeting import init_meeting

    f = tmp_path / "meeting.yaml"
    f.write_text(MEETING, encoding="utf-8")
    d = tmp_path / "data"
    init_meeting(d, f, key_passphrase=KEY_PASS, scrutineers=3, quorum=2, shares_out=shares_dir(d))
    return d


def shares_dir(data_dir: Path) -> Path:
    """Where the tests keep the scrutineers' files: beside the data directory, never inside it."""
    return data_dir.parent / f"{data_dir.name}-shares"


def shares_of(data_dir: Path, round_id: str, who: tuple[int, ...] = (1, 2)) -> list[str]:
    """The share lines of scrutineers `who` for `round_id`, read from their files."""
    out = []
    for i in who:
        for line in (shares_dir(data_dir) / f"scrutineer-{i}.txt").read_text(encoding="utf-8").splitlines():
            if line.startswith("SCRS1.") and line.split(".")[2] == round_id:
                out.append(line)
    return out


def count_body(client: Any, round_id: str, who: tuple[int, ...] = (1, 2)) -> dict[str, Any]:
    """The body of a count: two scrutineers' shares for the round (a quorum of 2 of 3)."""
    return {"shares": shares_of(Path(client.application.config["DATA_DIR"]), round_id, who)}


@pytest.fixture
def app(meeting_dir: Path):  # type: ignore[no-untyped-def]
    from tally import create_app

    app = create_app({"DATA_DIR": str(meeting_dir), "TESTING": True, "ENV": {"TALLY_KEY_PASSPHRASE": KEY_PASS}})
    yield app
    services(app).store.engine.dispose()


@pytest.fixture
def client(app):  # type: ignore[no-untyped-def]
    return app.test_client()


@pytest.fixture
def admin_headers(meeting_dir: Path) -> dict[str, str]:
    return {"Authorization": "Bearer " + (meeting_dir / "secrets" / "admin-token").read_text().strip()}


@dataclass
class Kiosk:
    identity: Identity
    kiosk_id: str
    meeting: str
    forms: dict[str, Any] = field(default_factory=dict)

    def envelope(self, card: Any, ballot: dict[str, Any], *, key_round: str | None = None) -> dict[str, Any]:
        """The ballot sealed and signed as a kiosk does, with the card's key for the ballot's
        round (or, to test refusals, its key for `key_round`)."""
        form = self.forms[ballot["round"]]
        from keys.canonical import b64d

        return seal_envelope(meeting=self.meeting, round_id=ballot["round"], kiosk_id=self.kiosk_id,
                             kiosk_identity=self.identity, card_key=card.identity(key_round or ballot["round"]),
                             round_public=b64d(form["public_key"]), ballot=ballot).body

    def signed(self, payload: dict[str, Any]) -> dict[str, str]:
        """A signed kiosk request (heartbeat, card check, unlock claim) carrying `payload`."""
        import time

        from keys.request import sign_request

        return sign_request(self.identity, self.kiosk_id, payload, int(time.time()))


def pair_kiosk(client: Any, admin: dict[str, str], *, preconfirm: bool = True, name: str = "k") -> Kiosk:
    from keys.pairing import PairingOffer

    offer = PairingOffer.parse(client.post("/api/v1/admin/offers", json={"count": 1, "preconfirm": preconfirm},
                                           headers=admin).get_json()["offers"][0])
    ident = Identity.generate()
    resp = client.post("/api/v1/kiosks/pair", json={"code": offer.code, "public_key": b64e(ident.public_bytes()), "name": name})
    assert resp.status_code == 201, resp.get_json()
    data = resp.get_json()
    return Kiosk(ident, data["kiosk_id"], data["meeting"])


def setup_meeting(client: Any, admin: dict[str, str], *, sign_in: int = 6, open_rounds: tuple[str, ...] = ("r1",),
                  cards: int = 12) -> None:
    """Roster, sign-in, the scrutineers' card list (`cards` cards, made as `keys cards make`
    makes them), then open `open_rounds`: the list must be in before a round opens."""
    import io

    if cards:
        import_cards(client, admin, cards)
    resp = client.post("/api/v1/admin/roster", data={"file": (io.BytesIO(ROSTER.encode()), "roster.csv")}, headers=admin)
    assert resp.status_code == 200, resp.get_json()
    for i in range(1, sign_in + 1):
        assert client.post("/api/v1/desk/signin", json={"number": f"{i:03d}"}, headers=admin).status_code == 200
    for r in open_rounds:
        resp = client.post(f"/api/v1/admin/rounds/{r}/open", headers=admin, json={})
        assert resp.status_code == 200, resp.get_json()


# The cards each test tally's list holds and no test has taken yet, by app.
_POOLS: dict[int, list[Any]] = {}


def import_cards(client: Any, admin: dict[str, str], n: int) -> list[Any]:
    """Make `n` cards with the scrutineers' tool's code (`keys.credentials.make_cards`) from the
    tally's public meeting record, import their list through the chair's API; the cards."""
    from keys.credentials import make_cards
    from keys.record import parse_record

    record = parse_record(client.get("/api/v1/admin/meeting-record", headers=admin).get_json())
    cards, doc = make_cards(record, n)
    resp = client.post("/api/v1/admin/cards/import", json=doc, headers=admin)
    assert resp.status_code == 200, resp.get_json()
    _POOLS[id(client.application)] = list(cards)
    return cards


def issue_cards(client: Any, admin: dict[str, str], meeting_id: str, n: int) -> list[Any]:
    """`n` cards of the imported list no test has used yet (counted out like paper ballots)."""
    pool = _POOLS.get(id(client.application))
    if not pool:
        import_cards(client, admin, max(n, 12))
        pool = _POOLS[id(client.application)]
    assert len(pool) >= n, "the test tally's card list is too short: pass cards= to setup_meeting"
    taken, _POOLS[id(client.application)] = pool[:n], pool[n:]
    return taken


def load_forms(client: Any, kiosk: Kiosk) -> None:
    kiosk.forms = {r["id"]: r for r in client.get("/api/v1/ballot").get_json()["rounds"]}


@pytest.fixture
def voting(client, admin_headers):  # type: ignore[no-untyped-def]
    """A meeting with 6 signed in, r1 open, one confirmed kiosk with forms, 6 cards handed out."""
    setup_meeting(client, admin_headers)
    kiosk = pair_kiosk(client, admin_headers)
    load_forms(client, kiosk)
    cards = issue_cards(client, admin_headers, kiosk.meeting, 6)
    return kiosk, cards


