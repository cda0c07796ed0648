"""A count that trusts nothing (issue 10, item 4), over the real app and its SQLite file.

Someone with the database edits the box of a closed round before the count (`tests/tamper.py`:
delete, alter a byte of a sealed ballot, the kiosk id or the card, insert with a recomputed chain
and a card row of their own, reorder). The chair's count answers `box_tampered`, naming the
envelope by its position and receipt code and what was expected, and changes nothing: no ballot
stored, no result, the round still closed; once the file is put back, the same shares count it.
`tally count-box` over the export of the edited database refuses with the same words. A kiosk
that sealed a ballot to another key stops the count too, instead of an invalid ballot. The
operator, who holds the tally's key and can sign everything again, gets past the count, and is
caught by the scrutineers' own card list (`keys verify-box --credentials`).
"""
from __future__ import annotations

import itertools
import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from keys.cli import main as keys_cli
from keys.envelope import seal_envelope
from keys.identity import Identity
from keys.sealing import RoundKey
from keys.store import load_private
from tally.cli import main as tally_cli
from tally.cli.meeting import write_export
from tally.services import services
from tally.store.models import AuditEntry, Ballot, Round
from tests import tamper
from tests.tally.conftest import (
    KEY_PASS,
    count_body,
    issue_cards,
    load_forms,
    pair_kiosk,
    setup_meeting,
    shares_dir,
)

CHOICES = [["张三"], ["李四"], [], ["张三"], ["王五"]]


@pytest.fixture
def closed(client: Any, app: Any, admin_headers: Any, meeting_dir: Path) -> tamper.Box:
    """r1 closed with five ballots from two kiosks; a card left over (the attacker's)."""
    setup_meeting(client, admin_headers)
    kiosks = [pair_kiosk(client, admin_headers, name=n) for n in ("a", "b")]
    for k in kiosks:
        load_forms(client, k)
    cards = issue_cards(client, admin_headers, kiosks[0].meeting, 6)
    for i, (card, names) in enumerate(zip(cards, CHOICES, strict=False)):
        r = client.post("/api/v1/envelopes", json=kiosks[i % 2].envelope(card, {"round": "r1", "sections": {"mayor": names}}))
        assert r.status_code == 201, r.get_json()
    assert client.post("/api/v1/admin/rounds/r1/close", json={}, headers=admin_headers).status_code == 200
    box = tamper.Box(db=meeting_dir / "tally.db", round_id="r1", ballot_size=kiosks[0].forms["r1"]["ballot_size"],
                     spare=cards[5], voted=cards[:5])
    box.snapshot()
    return box


def count(client: Any, admin: Any) -> Any:
    return client.post("/api/v1/admin/rounds/r1/count?lang=en", json=count_body(client, "r1"), headers=admin)


def nothing_counted(app: Any) -> None:
    with services(app).store.reader() as s:
        assert s.scalars(select(Ballot)).first() is None
        rnd = s.get(Round, "r1")
        assert rnd is not None and rnd.status == "closed" and rnd.result_json is None and rnd.result_sig is None
        assert s.scalars(select(AuditEntry).where(AuditEntry.action == "round_counted")).first() is None


def count_box(client: Any, admin: Any, meeting_dir: Path, out: Path, *extra: str) -> Any:
    write_export(client.get("/api/v1/admin/rounds/r1/export", headers=admin).get_json(), out)
    shares = [str(shares_dir(meeting_dir) / f"scrutineer-{i}.txt") for i in (1, 2)]
    return CliRunner().invoke(tally_cli, ["count-box", str(out), "--share", shares[0], "--share", shares[1],
                                          "--json", *extra])


def refusal(resp: Any) -> str:
    assert resp.status_code == 409, resp.get_json()
    error = resp.get_json()["error"]
    assert error["code"] == "box_tampered"
    assert error["message"].startswith("The ballot box of round r1 does not match what was recorded when it closed")
    assert error["details"] and error["details"][0] in error["message"]
    return " ".join(error["details"])


def test_an_honest_box_counts_and_exports_every_row_in_chain_order(client, app, admin_headers, closed, meeting_dir,
                                                                    tmp_path):
    r = count(client, admin_headers)
    assert r.status_code == 200, r.get_json()
    assert r.get_json()["result"]["returned"] == 5
    signed = json.loads(client.get("/api/v1/admin/rounds/r1/export", headers=admin_headers).get_json()["files"]
                        ["result.signed.json"])
    assert signed["document"]  # the result signs the count of envelopes with the chain head
    out = count_box(client, admin_headers, meeting_dir, tmp_path / "export")
    assert out.exit_code == 0, out.output
    assert json.loads(out.stdout)["rounds"][0] == r.get_json()["result"]
    lines = [json.loads(x) for x in (tmp_path / "export" / "envelopes.jsonl").read_text().splitlines()]
    assert len(lines) == 5 and not any(line.get("outside") for line in lines)
    assert all(b["prev"] == a["entry"] for a, b in itertools.pairwise(lines))


@pytest.mark.parametrize("attack", list(tamper.ATTACKS))
def test_a_database_edit_before_the_count_stops_it_and_changes_nothing(client, app, admin_headers, closed,
                                                                       meeting_dir, tmp_path, attack):
    con = closed.connect()
    with con:
        expected = tamper.ATTACKS[attack](closed, con)
    con.close()
    said = refusal(count(client, admin_headers))
    assert expected in said, said
    nothing_counted(app)
    # The export writes every row, and count-box over it refuses with the same words (Chinese, then English).
    out = count_box(client, admin_headers, meeting_dir, tmp_path / "export")
    if attack == "alter the kiosk id of the row":
        # The kiosk column is not in the export: the envelope itself was not touched, so the box counts.
        assert out.exit_code == 0, out.output
    else:
        assert out.exit_code == 1 and "[box_tampered]" in out.output, out.output
        assert "轮次 r1 的票箱与封箱时的记录不符：未计票。" in out.output
        assert expected in out.output, out.output
    # Put the file back: the same shares count the round, as if nothing had been tried.
    closed.restore()
    r = count(client, admin_headers)
    assert r.status_code == 200, r.get_json()
    assert r.get_json()["result"]["returned"] == 5


def test_a_deleted_envelope_leaves_the_rest_in_the_export_marked_outside_the_chain(client, admin_headers, closed,
                                                                                   tmp_path):
    con = closed.connect()
    with con:
        tamper.delete(closed, con)
    con.close()
    write_export(client.get("/api/v1/admin/rounds/r1/export", headers=admin_headers).get_json(), tmp_path / "x")
    lines = [json.loads(x) for x in (tmp_path / "x" / "envelopes.jsonl").read_text().splitlines()]
    assert [bool(line.get("outside")) for line in lines] == [False, False, True, True]
    assert lines[3]["prev"] == lines[2]["entry"]  # what follows the gap, still in its own order
    result = CliRunner(env={"LANGUAGE": "en", "LC_ALL": None, "LANG": None}).invoke(keys_cli, ["verify-box",
                                                                                     str(tmp_path / "x")])
    assert result.exit_code == 1
    assert "envelopes.jsonl line 3: outside the chain" in result.output
    assert "Round r1: 2 envelopes (expected 5)" in result.output and "2 envelopes outside the chain" in result.output


@pytest.mark.parametrize("edit", ["card used twice", "card not in the list", "close record removed",
                                  "round row edited"])
def test_more_database_edits_stop_the_count(client, app, admin_headers, closed, meeting_dir, tmp_path, edit):
    con = closed.connect()
    with con:
        if edit == "card used twice":
            expected = tamper.card_used_twice(closed, con, closed.voted[0])
        elif edit == "card not in the list":
            expected = tamper.card_not_listed(closed, con)
        elif edit == "close record removed":
            expected = tamper.close_record_removed(closed, con)
        else:
            expected = tamper.round_row_edited(closed, con)
    con.close()
    said = refusal(count(client, admin_headers))
    assert expected in said, said
    if edit == "card not in the list":
        assert "Envelope 6 (receipt" in said and "is signed by a card that is not in this round's ballot card list" in said
    nothing_counted(app)
    out = count_box(client, admin_headers, meeting_dir, tmp_path / "export")
    assert out.exit_code == 1 and expected in out.output, out.output


def test_a_ballot_sealed_to_another_key_stops_the_count(client, app, admin_headers, meeting_dir, tmp_path):
    """What a proxy that swapped the round key, or a stolen kiosk, would leave in the box: it is
    taken (the tally cannot look inside), and at the count it is named, never counted invalid."""
    setup_meeting(client, admin_headers)
    kiosk = pair_kiosk(client, admin_headers)
    load_forms(client, kiosk)
    cards = issue_cards(client, admin_headers, kiosk.meeting, 3)
    for card in cards[:2]:
        assert client.post("/api/v1/envelopes", json=kiosk.envelope(card, {"round": "r1", "sections": {}})).status_code == 201
    form = kiosk.forms["r1"]
    wrong = seal_envelope(meeting=kiosk.meeting, round_id="r1", kiosk_id=kiosk.kiosk_id, kiosk_identity=kiosk.identity,
                          card_key=cards[2].identity("r1"), round_public=RoundKey.generate().public_bytes(),
                          ballot={"round": "r1", "sections": {"mayor": ["张三"]}}, ballot_size=form["ballot_size"])
    assert client.post("/api/v1/envelopes", json=wrong.body).status_code == 201
    assert client.post("/api/v1/admin/rounds/r1/close", json={}, headers=admin_headers).status_code == 200
    said = refusal(count(client, admin_headers))
    assert (f"Envelope 3 (receipt {wrong.receipt_code}, kiosk {kiosk.kiosk_id}) does not open with the round's key"
            in said)
    nothing_counted(app)
    # In Chinese (the console's language), the same.
    zh = client.post("/api/v1/admin/rounds/r1/count?lang=zh", json=count_body(client, "r1"), headers=admin_headers)
    said_zh = zh.get_json()["error"]["message"]
    assert f"第 3 个信封（回执码 {wrong.receipt_code}，终端 {kiosk.kiosk_id}）用本轮次的密钥打不开" in said_zh
    out = count_box(client, admin_headers, meeting_dir, tmp_path / "export")
    assert out.exit_code == 1 and "does not open with the round's key" in out.output
    assert "用本轮次的密钥打不开" in out.output


def test_the_operator_who_signs_everything_again_is_caught_by_the_scrutineers_own_list(client, app, admin_headers,
                                                                                       closed, meeting_dir, tmp_path):
    """The operator holds the tally's key: they slip in a ballot of their own card, add the card to
    the table and re-sign every receipt and the close record. The count cannot tell (it checks the
    tally's own signatures); the scrutineers' own card list can."""
    theirs = tmp_path / "theirs.json"  # the list as `keys cards make` wrote it, on the scrutineers' machine
    theirs.write_text(client.get("/api/v1/admin/rounds/r1/export", headers=admin_headers).get_json()["files"]
                      ["credentials.json"], encoding="utf-8")
    tally_key = load_private(meeting_dir / "secrets" / "tally.key", KEY_PASS, Identity)
    con = closed.connect()
    with con:
        code = tamper.operator_insert(closed, con, tally_key, position=5)
    con.close()
    r = count(client, admin_headers)
    assert r.status_code == 200 and r.get_json()["result"]["returned"] == 6  # past the count: a limit, said plainly
    out = tmp_path / "export"
    write_export(client.get("/api/v1/admin/rounds/r1/export", headers=admin_headers).get_json(), out)
    english = CliRunner(env={"LANGUAGE": "en", "LC_ALL": None, "LANG": None})
    alone = english.invoke(keys_cli, ["verify-box", str(out)])
    assert alone.exit_code == 0, alone.output  # consistent in itself
    result = english.invoke(keys_cli, ["verify-box", str(out), "--credentials", str(theirs)])
    assert result.exit_code == 1
    assert "envelopes.jsonl line 6: card is not in the scrutineers' card list" in result.output
    assert "the export's card list is not the scrutineers' list" in result.output
    assert code in (out / "receipts.json").read_text()
    shares = [a for i in (1, 2) for a in ("--share", str(shares_dir(meeting_dir) / f"scrutineer-{i}.txt"))]
    refused = CliRunner().invoke(tally_cli, ["count-box", str(out), "--credentials", str(theirs), "--json", *shares])
    assert refused.exit_code == 1 and "The ballot card list gives the fingerprint" in refused.output
