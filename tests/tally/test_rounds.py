"""A round's life over the real app: open, vote, close, count with the scrutineers' passphrase,
reveal; the live result equals `tally count` over the round's export."""
from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner
from sqlalchemy import select

from keys.cli import main as keys_cli
from keys.document import verify_document
from tally.cli import main as tally_cli
from tally.cli.meeting import write_export
from tally.services import services
from tally.store.models import Ballot, Round

from .conftest import count_body, import_cards, issue_cards, load_forms, pair_kiosk, setup_meeting, shares_dir

R1 = [{"round": "r1", "sections": {"mayor": n}} for n in (["张三"], ["张三"], ["李四"], ["钱七"], [], ["张三", "李四"])]
E1 = [{"round": "e1", "grades": {"张三": "优秀", "李四": "称职"}},
      {"round": "e1", "grades": {"张三": "称职", "李四": ["称职", "优秀"]}},
      {"round": "e1", "grades": {"张三": "不称职"}, "directions": {}}]
D1 = [{"round": "d1", "votes": {"王五": v}} for v in ("agree", "agree", "agree", "agree", "disagree")]


def cast_all(client, kiosk, cards, ballots):  # type: ignore[no-untyped-def]
    for card, b in zip(cards, ballots, strict=False):
        r = client.post("/api/v1/envelopes", json=kiosk.envelope(card, b))
        assert r.status_code == 201, r.get_json()


def test_full_meeting_and_export_recount(client, app, admin_headers, tmp_path: Path):
    setup_meeting(client, admin_headers, open_rounds=("r1", "e1", "d1"))
    kiosk = pair_kiosk(client, admin_headers)
    load_forms(client, kiosk)
    assert set(kiosk.forms) == {"r1", "e1", "d1"}
    cards = issue_cards(client, admin_headers, kiosk.meeting, 6)
    cast_all(client, kiosk, cards, R1)
    cast_all(client, kiosk, cards, E1)
    cast_all(client, kiosk, cards, D1)

    # Not closed yet: counting is refused.
    r = client.post("/api/v1/admin/rounds/r1/count", json=count_body(client, "r1"), headers=admin_headers)
    assert r.status_code == 409 and r.get_json()["error"]["code"] == "round_not_closed"
    for rid in ("r1", "e1", "d1"):
        assert client.post(f"/api/v1/admin/rounds/{rid}/close", json={}, headers=admin_headers).status_code == 200

    # One scrutineer's share, or a damaged one, or another round's: refused by name, nothing opened.
    r = client.post("/api/v1/admin/rounds/r1/count", json=count_body(client, "r1", who=(3,)), headers=admin_headers)
    assert r.status_code == 400 and r.get_json()["error"]["code"] == "shares_needed"
    damaged = count_body(client, "r1")
    line = damaged["shares"][1]  # one base32 letter changed mid-share (the last letter holds padding bits)
    damaged["shares"][1] = line[:-6] + ("A" if line[-6] != "A" else "B") + line[-5:]
    r = client.post("/api/v1/admin/rounds/r1/count", json=damaged, headers=admin_headers)
    assert r.status_code == 400 and r.get_json()["error"]["code"] == "share_mismatch"
    assert "监票人 2 在轮次 r1 的分片不符" in r.get_json()["error"]["message"]
    r = client.post("/api/v1/admin/rounds/r1/count", json=count_body(client, "e1"), headers=admin_headers)
    assert r.status_code == 400 and r.get_json()["error"]["code"] == "share_wrong_round"
    r = client.post("/api/v1/admin/rounds/r1/count", json={"passphrase": "the old way"}, headers=admin_headers)
    assert r.status_code == 400 and r.get_json()["error"]["code"] == "shares_required"
    with services(app).store.writer() as s:
        assert s.scalars(select(Ballot)).first() is None
        assert s.get(Round, "r1").status == "closed"

    for rid in ("r1", "e1", "d1"):
        r = client.post(f"/api/v1/admin/rounds/{rid}/count", json=count_body(client, rid), headers=admin_headers)
        assert r.status_code == 200, r.get_json()
    again = client.post("/api/v1/admin/rounds/r1/count", json=count_body(client, "r1"), headers=admin_headers)
    assert again.status_code == 409

    live = client.get("/api/v1/admin/results", headers=admin_headers).get_json()
    by_id = {r["id"]: r for r in live["rounds"]}
    r1 = by_id["r1"]
    assert r1["status"] == "counted" and r1["present"] == 6 and r1["returned"] == 6
    post = r1["posts"][0]
    assert (post["valid"], post["invalid"], post["blank"]) == (5, 1, 1)
    votes = {c["name"]: c["votes"] for c in post["candidates"]}
    assert votes == {"张三": 2, "李四": 1, "王五": 0, "钱七": 1}
    assert by_id["d1"]["nominees"][0]["agree"] == 4 and by_id["d1"]["nominees"][0]["not_voted"] == 1

    # The projector sees nothing until the chair reveals.
    anon = app.test_client()
    proj_url = "/projector?t=" + client.get("/api/v1/admin/links", headers=admin_headers).get_json()["projector"].split("t=")[1]
    proj = anon.get(proj_url)
    assert proj.status_code == 200 and "示范" not in proj.get_data(as_text=True)
    assert "测试镇推荐会议" in proj.get_data(as_text=True) and "钱七" not in proj.get_data(as_text=True)
    assert client.post("/api/v1/admin/rounds/r1/reveal", json={}, headers=admin_headers).status_code == 200
    assert "钱七" in anon.get(proj_url).get_data(as_text=True)
    assert anon.get("/projector?t=wrong").status_code == 401

    # Export and recount offline: identical documents.
    for rid in ("r1", "e1", "d1"):
        doc = client.get(f"/api/v1/admin/rounds/{rid}/export", headers=admin_headers).get_json()
        out = tmp_path / rid
        write_export(doc, out)
        res = CliRunner().invoke(tally_cli, ["count", str(out / "meeting.yaml"), str(out / "ballots.jsonl"), "--json"])
        assert res.exit_code == 0, res.output
        offline = {r["id"]: r for r in json.loads(res.output)["rounds"]}
        assert offline[rid] == by_id[rid]
        lines = (out / "ballots.jsonl").read_text().splitlines()
        assert len(lines) == by_id[rid]["returned"]


def test_open_needs_people_signed_in_and_only_once(client, admin_headers):
    import_cards(client, admin_headers, 2)
    r = client.post("/api/v1/admin/rounds/r1/open", json={}, headers=admin_headers)
    assert r.status_code == 409 and r.get_json()["error"]["code"] == "nobody_present"
    setup_meeting(client, admin_headers)
    r = client.post("/api/v1/admin/rounds/r1/open", json={}, headers=admin_headers)
    assert r.status_code == 409 and r.get_json()["error"]["code"] == "round_not_draft"
    r = client.post("/api/v1/admin/rounds/nope/open", json={}, headers=admin_headers)
    assert r.status_code == 404


def test_admin_api_needs_the_chair(client, admin_headers):
    r = client.post("/api/v1/admin/rounds/r1/open", json={})
    assert r.status_code in (401, 403)
    r = client.post("/api/v1/admin/rounds/r1/open", json={}, headers={"Authorization": "Bearer nope"})
    assert r.status_code in (401, 403)
    r = client.get("/api/v1/admin/results")
    assert r.status_code == 401 and r.get_json()["error"]["code"] == "unauthorized"


COMPOSITE = """
meeting: {title: 综合成绩}
rounds:
  - id: e1
    kind: evaluate
    title: 测评
    expected: 6
    subjects: [甲, 乙]
    grade_values: [100, 80, 60, 0]
  - id: c1
    kind: composite
    title: 综合
    components:
      - {name: 笔试, weight: 60, scores: {甲: "80", 乙: "90"}}
      - {name: 测评, weight: 40, round: e1}
    shortlist: 1
"""


def test_composite_is_computed_from_counted_rounds(tmp_path: Path):
    from tally import create_app
    from tally.setup.meeting import init_meeting

    from .conftest import KEY_PASS

    f = tmp_path / "m.yaml"
    f.write_text(COMPOSITE, encoding="utf-8")
    d = tmp_path / "d"
    init_meeting(d, f, key_passphrase=KEY_PASS, scrutineers=3, quorum=2, shares_out=shares_dir(d))
    app = create_app({"DATA_DIR": str(d), "ENV": {"TALLY_KEY_PASSPHRASE": KEY_PASS}})
    client = app.test_client()
    admin = {"Authorization": "Bearer " + (d / "secrets" / "admin-token").read_text().strip()}
    r = client.post("/api/v1/admin/rounds/c1/count", json={}, headers=admin)
    assert r.status_code == 409 and r.get_json()["error"]["code"] == "components_not_counted"
    assert client.post("/api/v1/admin/rounds/c1/open", json={}, headers=admin).get_json()["error"]["code"] == "not_a_ballot_round"
    setup_meeting(client, admin, open_rounds=("e1",))
    kiosk = pair_kiosk(client, admin)
    load_forms(client, kiosk)
    cards = issue_cards(client, admin, kiosk.meeting, 2)
    cast_all(client, kiosk, cards, [{"round": "e1", "grades": {"甲": "优秀", "乙": "称职"}},
                                    {"round": "e1", "grades": {"甲": "优秀", "乙": "基本称职"}}])
    client.post("/api/v1/admin/rounds/e1/close", json={}, headers=admin)
    assert client.post("/api/v1/admin/rounds/e1/count", json=count_body(client, "e1"), headers=admin).status_code == 200
    res = client.post("/api/v1/admin/rounds/c1/count", json={}, headers=admin).get_json()["result"]
    by = {c["name"]: c for c in res["candidates"]}
    # 甲: 0.6·80 + 0.4·100 = 88.00; 乙: 0.6·90 + 0.4·70 = 82.00
    assert by["甲"]["composite"] == "88.00" and by["乙"]["composite"] == "82.00"
    assert by["甲"]["shortlisted"] and not by["乙"]["shortlisted"]
    # Its export holds the round it draws on, in the layout of every export (issue 10): the
    # published box of e1 (a list: one box per ballot round drawn on), the audit log, and the
    # signed result naming the log's head; `keys verify-box` checks it all and `tally count`
    # recomputes the composite.
    files = client.get("/api/v1/admin/rounds/c1/export", headers=admin).get_json()["files"]
    boxes = json.loads(files["receipts.json"])
    assert [b["round"] for b in boxes] == ["e1"] and len(boxes[0]["receipts"]) == 2
    signed = verify_document(json.loads(files["result.signed.json"]), services(app).identity.public_bytes())
    assert signed["round"] == "c1" and signed["audit_head"] in files["audit.jsonl"]
    out = tmp_path / "export-c1"
    write_export({"files": files}, out)
    checked = CliRunner(env={"LANGUAGE": "en", "LC_ALL": None, "LANG": None}).invoke(keys_cli, ["verify-box", str(out)])
    assert checked.exit_code == 0, checked.output
    assert "Signed result of round c1" in checked.output and "Audit log:" in checked.output
    recount = CliRunner().invoke(tally_cli, ["count", str(out / "meeting.yaml"), str(out / "ballots.jsonl"), "--json"])
    assert recount.exit_code == 0, recount.output
    assert json.loads(recount.stdout_bytes)["rounds"][-1] == res
    services(app).store.engine.dispose()


ELECTORATE = """
meeting: {title: 常委会}
rounds:
  - id: d1
    kind: decide
    title: 常委会票决
    expected: 3
    electorate: 常委
    nominees: [王五]
"""


def test_a_rounds_present_counts_only_its_electorate(tmp_path: Path):
    import io

    from tally import create_app
    from tally.setup.meeting import init_meeting

    from .conftest import KEY_PASS

    f = tmp_path / "m.yaml"
    f.write_text(ELECTORATE, encoding="utf-8")
    d = tmp_path / "d"
    init_meeting(d, f, key_passphrase=KEY_PASS, scrutineers=3, quorum=2, shares_out=shares_dir(d))
    app = create_app({"DATA_DIR": str(d), "ENV": {"TALLY_KEY_PASSPHRASE": KEY_PASS}})
    client = app.test_client()
    admin = {"Authorization": "Bearer " + (d / "secrets" / "admin-token").read_text().strip()}
    roster = "编号,姓名,类别\n1,甲,常委\n2,乙,常委\n3,丙,常委\n4,丁,列席\n5,戊,列席\n"
    client.post("/api/v1/admin/roster", data={"file": (io.BytesIO(roster.encode()), "r.csv")}, headers=admin)
    client.post("/api/v1/desk/signin", json={"all": True}, headers=admin)
    import_cards(client, admin, 2)
    opened = client.post("/api/v1/admin/rounds/d1/open", json={}, headers=admin).get_json()
    assert opened["present"] == 3 and opened["expected"] == 3  # the two 列席 are in the hall but do not vote
    services(app).store.engine.dispose()


def test_the_projector_shows_the_round_shown_last_and_the_order_lives_on_the_rounds(client, app, admin_headers):
    """"投影公布" twice over three rounds: the projector follows the chair's latest choice, and the
    order is the rounds' own (editing the audit log does not move the projector)."""
    setup_meeting(client, admin_headers, open_rounds=("r1", "e1", "d1"))
    for rid in ("r1", "e1", "d1"):
        assert client.post(f"/api/v1/admin/rounds/{rid}/close", json={}, headers=admin_headers).status_code == 200
        r = client.post(f"/api/v1/admin/rounds/{rid}/count", json=count_body(client, rid), headers=admin_headers)
        assert r.status_code == 200, r.get_json()
    for rid in ("e1", "r1", "d1", "r1"):
        assert client.post(f"/api/v1/admin/rounds/{rid}/reveal", json={}, headers=admin_headers).status_code == 200
    state = client.get("/api/v1/admin/state", headers=admin_headers).get_json()
    assert state["revealed_order"] == ["e1", "d1", "r1"]
    from tally.store.models import AuditEntry

    with services(app).store.writer() as s, s.begin():
        for e in s.scalars(select(AuditEntry).where(AuditEntry.action == "round_revealed")):
            s.delete(e)
    state = client.get("/api/v1/admin/state", headers=admin_headers).get_json()
    assert state["revealed_order"] == ["e1", "d1", "r1"]
