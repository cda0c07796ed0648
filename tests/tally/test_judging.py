"""Judge scoring over the real app: draw, judge cards, order, scores, corrections, flags, 亮分, ranking,
score sheets, and the live result equal to `tally count` over the exported score lines."""
from __future__ import annotations

import io
import json
from decimal import Decimal
from pathlib import Path

import pytest
from click.testing import CliRunner

from keys.canonical import b64d
from keys.cards import Card, parse_card
from tally.cli import main as tally_cli
from tally.cli.meeting import write_export
from tally.services import services

from .conftest import KEY_PASS, Kiosk, pair_kiosk, shares_dir

MEETING = """
meeting:
  title: 面试评分
rounds:
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
POOL = "编号,姓名,类别\n" + "".join(f"P{i:02d},评委{i},代表\n" for i in range(1, 13))


@pytest.fixture
def jclient(tmp_path: Path):  # type: ignore[no-untyped-def]
    from tally import create_app
    from tally.setup.meeting import init_meeting

    f = tmp_path / "m.yaml"
    f.write_text(MEETING, encoding="utf-8")
    d = tmp_path / "data"
    init_meeting(d, f, key_passphrase=KEY_PASS, scrutineers=3, quorum=2, shares_out=shares_dir(d))
    app = create_app({"DATA_DIR": str(d), "TESTING": True, "ENV": {"TALLY_KEY_PASSPHRASE": KEY_PASS}})
    admin = {"Authorization": "Bearer " + (d / "secrets" / "admin-token").read_text().strip()}
    yield app.test_client(), admin
    services(app).store.engine.dispose()


def judge_cards(client, admin):  # type: ignore[no-untyped-def]
    r = client.post("/api/v1/admin/judges/pool", data={"file": (io.BytesIO(POOL.encode()), "pool.csv")}, headers=admin)
    assert r.status_code == 200, r.get_json()
    r = client.post("/api/v1/admin/rounds/s1/draw", json={"seed": "fixed-seed"}, headers=admin)
    assert r.status_code == 201
    record = r.get_json()
    assert [s["seat"] for s in record["seats"]] == list(range(1, 8)) and record["seed"] == "fixed-seed"
    again = client.post("/api/v1/admin/rounds/s1/draw", json={}, headers=admin)
    assert again.status_code == 409
    cards = client.post("/api/v1/admin/rounds/s1/judge-cards", json={}, headers=admin).get_json()["cards"]
    return {c["seat"]: Card(*parse_card(c["qr_text"])) for c in cards}


def score(client, kiosk: Kiosk, cards, seat: int, contestant: str, value: str):  # type: ignore[no-untyped-def]
    return client.post("/api/v1/envelopes", json=kiosk.envelope(cards[seat], {
        "round": "s1", "judge": f"J{seat:02d}", "contestant": contestant, "score": value}))


def test_a_contest_from_draw_to_recount(jclient, tmp_path):
    client, admin = jclient
    cards = judge_cards(client, admin)
    kiosk = pair_kiosk(client, admin)
    assert client.post("/api/v1/admin/rounds/s1/open", json={}, headers=admin).status_code == 200
    kiosk.forms = {r["id"]: r for r in client.get("/api/v1/judging").get_json()["rounds"]}
    assert client.post("/api/v1/admin/rounds/s1/order", json={"order": ["乙", "甲", "丙"]}, headers=admin).status_code == 200

    # Nothing is open yet: a score is refused with a clear message.
    r = score(client, kiosk, cards, 1, "乙", "80")
    assert r.status_code == 409 and r.get_json()["error"]["code"] == "contestant_not_open"
    assert client.post("/api/v1/admin/rounds/s1/next", json={}, headers=admin).get_json()["current"] == "乙"

    # RULES.md: 85.5, 88, 90, 86.5, 92, 79, 88 with k = 1 → 87.60
    values = ["85.5", "88", "90", "86.5", "92", "79", "88"]
    for seat, v in enumerate(values[:6], start=1):
        assert score(client, kiosk, cards, seat, "乙", v).status_code == 201
    # The judging state for kiosks and projector has no values.
    pub = client.get("/api/v1/judging").get_json()["rounds"][0]
    assert pub["scored_seats"] == [1, 2, 3, 4, 5, 6]
    # No value is a score: look at every value (the signed form's too), not at the text, where a
    # random key or meeting id may spell "88".
    def leaves(value):  # type: ignore[no-untyped-def]
        if isinstance(value, dict):
            return [x for v in value.values() for x in leaves(v)]
        if isinstance(value, list):
            return [x for v in value for x in leaves(v)]
        return [str(value)]

    signed = json.loads(b64d(pub["signed"]["document"]))
    assert not set(leaves(pub) + leaves(signed)) & set(values)
    # Bad input: off step, out of range, wrong seat, second score.
    assert score(client, kiosk, cards, 7, "乙", "88.3").get_json()["error"]["code"] == "score_off_step"
    assert score(client, kiosk, cards, 7, "乙", "101").get_json()["error"]["code"] == "score_out_of_range"
    assert score(client, kiosk, cards, 7, "甲", "88").get_json()["error"]["code"] == "contestant_not_open"
    wrong = client.post(
        "/api/v1/envelopes",
        json=kiosk.envelope(cards[7], {"round": "s1", "judge": "J06", "contestant": "乙", "score": "88"}),
    )
    assert wrong.status_code == 403 and wrong.get_json()["error"]["code"] == "wrong_seat"
    assert score(client, kiosk, cards, 1, "乙", "85.5").get_json()["error"]["code"] == "seat_already_scored"
    # The seventh completes the panel: revealed at once.
    assert score(client, kiosk, cards, 7, "乙", "88").status_code == 201
    st = client.get("/api/v1/admin/rounds/s1/judging", headers=admin).get_json()
    assert st["phase"] == "revealed" and st["result"]["mean"] == "87.60"
    struck = {x["seat"]: x["struck"] for x in st["result"]["scores"]}
    assert struck[5] == "high" and struck[6] == "low" and sum(1 for v in struck.values() if v) == 2

    # Second contestant: an outlier is flagged; the chair voids it with a reason; the judge re-enters.
    assert client.post("/api/v1/admin/rounds/s1/next", json={}, headers=admin).get_json()["current"] == "甲"
    for seat, v in zip(range(1, 8), ["90", "91", "89", "90", "92", "88", "40"], strict=False):
        assert score(client, kiosk, cards, seat, "甲", v).status_code == 201
    st = client.get("/api/v1/admin/rounds/s1/judging", headers=admin).get_json()
    assert st["phase"] == "scoring" and st["flags"] == [7]
    r = client.post("/api/v1/admin/rounds/s1/void", json={"seat": 7, "reason": ""}, headers=admin)
    assert r.status_code == 400
    assert (
        client.post("/api/v1/admin/rounds/s1/void", json={"seat": 7, "reason": "评委按错键"}, headers=admin).status_code
        == 200
    )
    assert score(client, kiosk, cards, 7, "甲", "90").status_code == 201
    st = client.get("/api/v1/admin/rounds/s1/judging", headers=admin).get_json()
    assert st["phase"] == "revealed" and st["result"]["mean"] == "90.00"
    # After reveal nothing changes.
    assert (
        client.post("/api/v1/admin/rounds/s1/void", json={"seat": 1, "reason": "x"}, headers=admin).status_code == 409
    )

    # Third: the chair shows with 2k+1 = 3 scores (two judges absent).
    client.post("/api/v1/admin/rounds/s1/next", json={}, headers=admin)
    for seat, v in zip(range(1, 4), ["70", "75", "80"], strict=False):
        score(client, kiosk, cards, seat, "丙", v)
    r = client.post("/api/v1/admin/rounds/s1/show", json={}, headers=admin)
    assert r.status_code == 200 and r.get_json()["mean"] == "75.00"
    ranking = client.get("/api/v1/admin/rounds/s1/judging", headers=admin).get_json()["ranking"]
    assert [(x["name"], x["rank"]) for x in ranking] == [("甲", 1), ("乙", 2), ("丙", 3)]

    # Score sheets.
    x = client.get("/api/v1/admin/rounds/s1/scoresheet.xlsx", headers=admin)
    assert x.status_code == 200 and x.data[:2] == b"PK"
    from openpyxl import load_workbook

    wb = load_workbook(io.BytesIO(x.data))
    ws = wb.worksheets[0]
    ordered = [r for r in ws.iter_rows(min_row=3) if r[1].value in ("甲", "乙", "丙")]
    assert [(r[0].value, r[1].value) for r in ordered] == [(1, "甲"), (2, "乙"), (3, "丙")]  # by rank
    rows = {r[1].value: r for r in ordered}
    # Numbers are numbers: seat 5's 92 (struck, dropped high) at the step's one place; the mean at two.
    assert rows["乙"][6].value == 92 and rows["乙"][6].number_format == "0.0" and rows["乙"][6].font.strike
    assert rows["乙"][7].font.strike and rows["乙"][7].value == 79  # seat 6's 79, dropped low
    assert rows["乙"][10].value == 87.6 and rows["乙"][10].number_format == "0.00"  # shown 87.60
    assert rows["乙"][9].value == 7 and rows["丙"][9].value == 3  # the panel that scored
    assert "fixed-seed" in [c.value for c in wb.worksheets[1]["B"]]
    pdf = client.get("/api/v1/admin/rounds/s1/scoresheet.pdf", headers=admin)
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")

    # Close, count, export; `tally count` over the export equals the live result.
    assert client.post("/api/v1/admin/rounds/s1/close", json={}, headers=admin).status_code == 200
    live = client.post("/api/v1/admin/rounds/s1/count", json={}, headers=admin).get_json()["result"]
    by_name = {c["name"]: c for c in live["contestants"]}
    assert by_name["乙"]["mean"] == "87.60" and by_name["甲"]["mean"] == "90.00" and by_name["丙"]["mean"] == "75.00"
    doc = client.get("/api/v1/admin/rounds/s1/export", headers=admin).get_json()
    write_export(doc, tmp_path / "exp")
    lines = (tmp_path / "exp" / "ballots.jsonl").read_text().splitlines()
    assert len(lines) == 7 + 7 + 3  # the voided version is not a score line
    res = CliRunner().invoke(
        tally_cli, ["count", str(tmp_path / "exp" / "meeting.yaml"), str(tmp_path / "exp" / "ballots.jsonl"), "--json"]
    )
    assert res.exit_code == 0, res.output
    assert json.loads(res.output)["rounds"][0] == live
    assert Decimal(by_name["乙"]["mean"]) == Decimal("87.60")


def test_a_stranger_card_cannot_score(jclient):
    client, admin = jclient
    judge_cards(client, admin)
    kiosk = pair_kiosk(client, admin)
    client.post("/api/v1/admin/rounds/s1/open", json={}, headers=admin)
    kiosk.forms = {r["id"]: r for r in client.get("/api/v1/judging").get_json()["rounds"]}
    client.post("/api/v1/admin/rounds/s1/next", json={}, headers=admin)
    from keys.cards import new_card

    r = client.post(
        "/api/v1/envelopes",
        json=kiosk.envelope(
            new_card(kiosk.meeting), {"round": "s1", "judge": "J01", "contestant": "甲", "score": "80"}
        ),
    )
    assert r.status_code == 403 and r.get_json()["error"]["code"] == "unknown_judge_card"


def test_a_judge_card_is_its_key_for_the_score_round(jclient):
    """The seat keeps the card's s1 key: the kiosk's check finds the seat by that key only, and the
    same card's key for any other round scores nothing."""
    from keys.canonical import b64e
    from tally.store.models import JudgeSeat

    client, admin = jclient
    cards = judge_cards(client, admin)
    kiosk = pair_kiosk(client, admin)
    client.post("/api/v1/admin/rounds/s1/open", json={}, headers=admin)
    kiosk.forms = {r["id"]: r for r in client.get("/api/v1/judging").get_json()["rounds"]}
    app = client.application
    with services(app).store.writer() as s:
        seats = {row.seat: row.card_public for row in s.query(JudgeSeat)}
    assert seats == {n: card.public_for("s1") for n, card in cards.items()}

    def check(keys):  # type: ignore[no-untyped-def]
        r = client.post("/api/v1/cards/check", json=kiosk.signed({"cards": {k: b64e(v) for k, v in keys.items()}}))
        assert r.status_code == 200, r.get_json()
        return r.get_json()

    assert check({"s1": cards[3].public_for("s1")}) == {"card": "judge", "round": "s1", "seat": 3, "label": "J03"}
    assert check({"r1": cards[3].public_for("r1"), "s1": cards[4].public_for("s1")})["seat"] == 4
    assert check({"s2": cards[3].public_for("s1")})["card"] == "unknown"  # a key counts in its own round only
    client.post("/api/v1/admin/rounds/s1/next", json={}, headers=admin)
    r = client.post(
        "/api/v1/envelopes",
        json=kiosk.envelope(
            cards[3], {"round": "s1", "judge": "J03", "contestant": "甲", "score": "80"}, key_round="r1"
        ),
    )
    assert r.status_code == 403 and r.get_json()["error"]["code"] == "unknown_judge_card"
    r = client.post(
        "/api/v1/envelopes",
        json=kiosk.envelope(cards[3], {"round": "s1", "judge": "J03", "contestant": "甲", "score": "80"}),
    )
    assert r.status_code == 201, r.get_json()


def test_seven_equal_scores_strike_one_seat_high_and_another_low_live(jclient):
    """The live 亮分 takes its marks from the rules engine, by seat: with every judge at 90 and
    trim 1, one seat is struck high and a different seat low (the old value matching struck
    seat 1 high and no seat low)."""
    client, admin = jclient
    cards = judge_cards(client, admin)
    kiosk = pair_kiosk(client, admin)
    assert client.post("/api/v1/admin/rounds/s1/open", json={}, headers=admin).status_code == 200
    kiosk.forms = {r["id"]: r for r in client.get("/api/v1/judging").get_json()["rounds"]}
    client.post("/api/v1/admin/rounds/s1/next", json={"contestant": "甲"}, headers=admin)
    for seat in range(1, 8):
        assert score(client, kiosk, cards, seat, "甲", "90").status_code == 201
    st = client.get("/api/v1/admin/rounds/s1/judging", headers=admin).get_json()
    assert st["phase"] == "revealed" and st["result"]["mean"] == "90.00"
    struck = {x["seat"]: x["struck"] for x in st["result"]["scores"] if x["struck"]}
    assert struck == {7: "high", 1: "low"}


def test_a_score_edited_or_a_judge_envelope_deleted_in_the_database_stops_the_count(jclient):
    """Someone with the database raises a judge's stored score after 亮分, or deletes a judge's
    envelope and its score: the count opens every envelope again and holds it to the score stored
    for it, so it refuses (box_tampered) and names the envelope; nothing is counted. A replaced
    judge card's earlier envelope still counts for its seat (the log keeps the seat's cards)."""
    import sqlite3

    client, admin = jclient
    cards = judge_cards(client, admin)
    kiosk = pair_kiosk(client, admin)
    assert client.post("/api/v1/admin/rounds/s1/open", json={}, headers=admin).status_code == 200
    kiosk.forms = {r["id"]: r for r in client.get("/api/v1/judging").get_json()["rounds"]}
    client.post("/api/v1/admin/rounds/s1/order", json={"order": ["甲", "乙", "丙"]}, headers=admin)
    for contestant in ("甲", "乙", "丙"):
        assert client.post("/api/v1/admin/rounds/s1/next", json={}, headers=admin).status_code == 200
        if contestant == "乙":  # seat 7 lost its card: a new one, the old one stops working
            new = client.post("/api/v1/admin/rounds/s1/judge-cards", json={"seats": [7]}, headers=admin)
            cards[7] = Card(*parse_card(new.get_json()["cards"][0]["qr_text"]))
        for seat in range(1, 8):
            assert score(client, kiosk, cards, seat, contestant, str(80 + seat)).status_code == 201
    assert client.post("/api/v1/admin/rounds/s1/close", json={}, headers=admin).status_code == 200
    from tests.tamper import Box

    db = Path(client.application.config["DATA_DIR"]) / "tally.db"
    box = Box(db=db, round_id="s1", ballot_size=0)
    box.snapshot()
    con = sqlite3.connect(db)
    before = con.execute("SELECT id, value FROM scores WHERE seat = 2 AND contestant = '乙'").fetchone()
    with con:
        con.execute("UPDATE scores SET value = '100.0' WHERE id = ?", (before[0],))
    r = client.post("/api/v1/admin/rounds/s1/count?lang=en", json={}, headers=admin)
    assert r.status_code == 409 and r.get_json()["error"]["code"] == "box_tampered"
    assert "the score stored for it is not the one the judge sealed" in r.get_json()["error"]["message"]
    with con:
        con.execute("UPDATE scores SET value = ? WHERE id = ?", (before[1], before[0]))
        con.execute("DELETE FROM scores WHERE seat = 3 AND contestant = '丙'")
    r = client.post("/api/v1/admin/rounds/s1/count?lang=en", json={}, headers=admin)
    assert r.status_code == 409
    assert "holds a judge's score that the tally does not have" in r.get_json()["error"]["message"]
    assert con.execute("SELECT status, result_json FROM rounds WHERE id = 's1'").fetchone() == ("closed", None)
    con.close()
    box.restore()  # the file as it was: it counts, seat 7's envelope under its first card included
    r = client.post("/api/v1/admin/rounds/s1/count", json={}, headers=admin)
    assert r.status_code == 200, r.get_json()
    assert [c["count"] for c in r.get_json()["result"]["contestants"]] == [7, 7, 7]
