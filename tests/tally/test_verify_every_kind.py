"""`keys verify-box` passes on the honest export of every round kind, from one real meeting.

Over the real app and SQLite: a recommendation, an evaluation, a decision vote (cards of the
scrutineers' list, two kiosks), a judges' round (a panel of five, one score voided and entered
again) and a composite drawing on the judges' round and the evaluation. Every ballot round is
closed, counted and exported; `keys verify-box` with the scrutineers' own card list passes on
each, with its signed result, its close record and the audit log. A composite has no box of its
own: its export carries the boxes of the rounds it draws on and itself as an empty box, and
`keys verify-box` passes on it and says so.
Then one more envelope from a judge card, slipped into the judges' box with the chain
recomputed and re-signed, is caught seat by seat: one envelope per seat and contestant.
"""
from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

from click.testing import CliRunner

from keys.canonical import b64d, parse_canonical
from keys.cards import Card, parse_card
from keys.cli import main as keys_cli
from keys.envelope import seal_envelope
from keys.identity import Identity
from keys.store import load_private
from tally.cli.meeting import write_export
from tests import tamper
from tests.tally.conftest import KEY_PASS, count_body, import_cards, issue_cards, load_forms, pair_kiosk, shares_dir

MEETING = """
meeting:
  title: 各类轮次核验会议
rounds:
  - id: r1
    kind: recommend
    title: 镇长人选会议推荐
    expected: 4
    posts:
      - {id: mayor, title: 镇长, seats: 1, candidates: [甲, 乙], write_in: true}
  - id: e1
    kind: evaluate
    title: 民主测评
    expected: 4
    subjects: [甲, 乙]
    grade_values: [100, 80, 60, 0]
  - id: d1
    kind: decide
    title: 票决
    expected: 4
    nominees: [甲]
  - id: s1
    kind: score
    title: 结构化面试
    judges: 5
    trim: 1
    min: 0
    max: 100
    step: "0.5"
    decimals: 2
    contestants: [甲, 乙]
  - id: c1
    kind: composite
    title: 综合成绩
    components:
      - {name: 面试, weight: 60, round: s1}
      - {name: 测评, weight: 40, round: e1}
"""
ROSTER = "编号,姓名,类别\n" + "".join(f"{i:03d},代表{i},代表\n" for i in range(1, 5))
POOL = "编号,姓名,类别\n" + "".join(f"P{i:02d},评委{i},代表\n" for i in range(1, 9))
BALLOTS = {
    "r1": [{"round": "r1", "sections": {"mayor": n}} for n in (["甲"], ["乙"], [], ["丙"])],
    "e1": [{"round": "e1", "grades": {"甲": g, "乙": "称职"}} for g in ("优秀", "称职", "优秀", "基本称职")],
    "d1": [{"round": "d1", "votes": {"甲": v}} for v in ("agree", "agree", "disagree", "abstain")],
}


def english(*args: str) -> Any:
    return CliRunner(env={"LANGUAGE": "en", "LC_ALL": None, "LANG": None}).invoke(keys_cli, list(args))


def a_whole_meeting(tmp_path: Path) -> tuple[Any, dict[str, str], Path, dict[int, Card], Any]:
    from tally import create_app
    from tally.setup.meeting import init_meeting

    f = tmp_path / "m.yaml"
    f.write_text(MEETING, encoding="utf-8")
    d = tmp_path / "data"
    init_meeting(d, f, key_passphrase=KEY_PASS, scrutineers=3, quorum=2, shares_out=shares_dir(d))
    app = create_app({"DATA_DIR": str(d), "TESTING": True, "ENV": {"TALLY_KEY_PASSPHRASE": KEY_PASS}})
    client = app.test_client()
    admin = {"Authorization": "Bearer " + (d / "secrets" / "admin-token").read_text().strip()}

    # The ballot rounds: the scrutineers' list, sign-in, two kiosks, every card once per round.
    import_cards(client, admin, 6)
    assert client.post("/api/v1/admin/roster", data={"file": (io.BytesIO(ROSTER.encode()), "roster.csv")},
                       headers=admin).status_code == 200
    assert client.post("/api/v1/desk/signin", json={"all": True}, headers=admin).status_code == 200
    for r in ("r1", "e1", "d1"):
        assert client.post(f"/api/v1/admin/rounds/{r}/open", json={}, headers=admin).status_code == 200
    kiosks = [pair_kiosk(client, admin, name=n) for n in ("a", "b")]
    for k in kiosks:
        load_forms(client, k)
    cards = issue_cards(client, admin, kiosks[0].meeting, 4)
    for ballots in BALLOTS.values():
        for i, (card, ballot) in enumerate(zip(cards, ballots, strict=True)):
            assert client.post("/api/v1/envelopes", json=kiosks[i % 2].envelope(card, ballot)).status_code == 201

    # The judges' round: a drawn panel of five, two contestants, one score voided and entered again.
    assert client.post("/api/v1/admin/judges/pool", data={"file": (io.BytesIO(POOL.encode()), "pool.csv")},
                       headers=admin).status_code == 200
    assert client.post("/api/v1/admin/rounds/s1/draw", json={"seed": "every-kind"}, headers=admin).status_code == 201
    judges = {c["seat"]: Card(*parse_card(c["qr_text"]))
              for c in client.post("/api/v1/admin/rounds/s1/judge-cards", json={}, headers=admin).get_json()["cards"]}
    assert client.post("/api/v1/admin/rounds/s1/open", json={}, headers=admin).status_code == 200
    bench = kiosks[0]
    bench.forms.update({r["id"]: r for r in client.get("/api/v1/judging").get_json()["rounds"]})

    def score(seat: int, contestant: str, value: str) -> None:
        r = client.post("/api/v1/envelopes", json=bench.envelope(judges[seat], {
            "round": "s1", "judge": f"J{seat:02d}", "contestant": contestant, "score": value}))
        assert r.status_code == 201, r.get_json()

    for contestant, values in (("甲", ["85", "88", "90", "86.5", "40"]), ("乙", ["80", "82", "79", "81", "83"])):
        assert client.post("/api/v1/admin/rounds/s1/next", json={}, headers=admin).status_code == 200
        for seat, value in enumerate(values, start=1):
            score(seat, contestant, value)
        if contestant == "甲":  # seat 5 pressed the wrong key: voided with a reason, entered again
            assert client.post("/api/v1/admin/rounds/s1/void", json={"seat": 5, "reason": "按错键"},
                               headers=admin).status_code == 200
            score(5, "甲", "87")
    for r in ("r1", "e1", "d1", "s1"):
        assert client.post(f"/api/v1/admin/rounds/{r}/close", json={}, headers=admin).status_code == 200
        body = count_body(client, r) if r != "s1" else {}
        resp = client.post(f"/api/v1/admin/rounds/{r}/count", json=body, headers=admin)
        assert resp.status_code == 200, resp.get_json()
    assert client.post("/api/v1/admin/rounds/c1/count", json={}, headers=admin).status_code == 200
    return client, admin, d, judges, bench


def test_verify_box_passes_on_an_honest_export_of_every_round_kind(tmp_path: Path) -> None:
    client, admin, _data, _judges, _bench = a_whole_meeting(tmp_path)
    theirs = tmp_path / "scrutineers-credentials.json"  # the list as the scrutineers' tool made it
    theirs.write_text(client.get("/api/v1/admin/rounds/r1/export", headers=admin).get_json()["files"]
                      ["credentials.json"], encoding="utf-8")
    for r, kind in (("r1", "recommend"), ("e1", "evaluate"), ("d1", "decide"), ("s1", "score")):
        out = tmp_path / f"export-{r}"
        write_export(client.get(f"/api/v1/admin/rounds/{r}/export", headers=admin).get_json(), out)
        extra = ["--credentials", str(theirs)] if kind != "score" else []
        result = english("verify-box", str(out), *extra)
        assert result.exit_code == 0, (kind, result.output)
        n = 4 if kind != "score" else 11  # five judges, two contestants, one correction
        assert f"Round {r}: {n} envelopes (expected {n})" in result.output
        assert f"Signed result of round {r}: tally signature, chain head, count and audit head OK" in result.output
        assert "Audit log: " in result.output and ": OK" in result.output
        assert f"All {n} envelopes verified" in result.output
    # A composite takes no ballots: the tally exports it with the rounds it draws on (their boxes,
    # each checked as above) and itself as an empty box, which verify-box says it is.
    composite = client.get("/api/v1/admin/rounds/c1/export", headers=admin)
    assert composite.status_code == 200, composite.get_json()
    write_export(composite.get_json(), tmp_path / "export-c1")
    result = english("verify-box", str(tmp_path / "export-c1"), "--credentials", str(theirs))
    assert result.exit_code == 0, result.output
    assert "Round c1: a composite has no ballot box of its own" in result.output
    assert "Round s1: 11 envelopes (expected 11)" in result.output and "Round e1: 4 envelopes (expected 4)" in result.output
    assert "Signed result of round c1: tally signature, chain head, count and audit head OK" in result.output


def test_one_envelope_per_seat_and_contestant(tmp_path: Path) -> None:
    """The operator slips one more score envelope of seat 2 into the judges' box, and signs the
    chain, the receipts and the close record again: verify-box counts seat 2's envelopes against
    its counted scores and the corrections the audit log records."""
    client, admin, data, judges, bench = a_whole_meeting(tmp_path)
    box = tamper.Box(db=data / "tally.db", round_id="s1", ballot_size=bench.forms["s1"]["ballot_size"])
    con = box.connect()
    with con:
        rows = box.rows(con)
        kiosk_id, ident = box.their_kiosk(con)
        public = con.execute("SELECT public_key FROM rounds WHERE id = 's1'").fetchone()[0]
        extra = seal_envelope(meeting=box.meeting, round_id="s1", kiosk_id=kiosk_id, kiosk_identity=ident,
                              card_key=judges[2].identity("s1"), round_public=public, ballot_size=box.ballot_size,
                              ballot={"round": "s1", "judge": "J02", "contestant": "乙", "score": "100"})
        nonce = parse_canonical(b64d(extra.body["envelope"]))["nonce"]
        rows.append({"id": "f" * 32, "kiosk_id": kiosk_id, "nonce": nonce, "receipt": "{}",
                     "body": json.dumps(extra.body, sort_keys=True, separators=(",", ":"))})
        box.rewrite(con, rows)
        tamper.resign(box, con, load_private(data / "secrets" / "tally.key", KEY_PASS, Identity))
    con.close()
    out = tmp_path / "export-s1"
    write_export(client.get("/api/v1/admin/rounds/s1/export", headers=admin).get_json(), out)
    result = english("verify-box", str(out))
    assert result.exit_code == 1
    assert ("round s1: seat 2 signed 3 envelopes, but 2 scores were counted and 0 corrected: "
            "one envelope per seat and contestant") in result.output
