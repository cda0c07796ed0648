"""A count that trusts nothing, with real processes: `tally serve`, `kiosk simulate`, `tally rounds count`.

Five voters vote in two rounds through two simulated kiosks (real kiosk code, each with its data
directory); the rounds close. Then, one after another, someone with the tally's database file edits the box
(`tests/tamper.py`): `tally rounds count` with two scrutineers' shares exits 1 with
`box_tampered`, in Chinese, naming what is wrong, and the round stays as it was; the file is put
back each time. After a deleted envelope the export still holds every other row (marked outside
the chain) and `keys check-receipts` names exactly the one receipt missing. The honest box then
counts. Last, in r2, the operator, who holds the tally's key, slips a ballot in mid-chain and signs
everything again: the count cannot tell, the kiosks' receipts (`keys check-receipts`) and the
scrutineers' own card list (`keys verify-box --credentials`) can.
"""
from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest
import requests

from keys.cards import Card, parse_card
from keys.identity import Identity
from keys.store import load_private
from tests import tamper
from tests.e2e.conftest import Fleet
from tests.e2e.support import ENGLISH, round_state
from tests.harness import BIN, KEY_PASS, run_cli

pytestmark = pytest.mark.slow

MEETING = """
meeting:
  title: 计票核验测试会议
rounds:
  - id: r1
    kind: recommend
    title: 镇长人选会议推荐
    expected: 6
    posts:
      - {id: mayor, title: 镇长, seats: 1, candidates: [张三, 李四, 王五], write_in: true}
  - id: r2
    kind: recommend
    title: 副镇长人选会议推荐
    expected: 6
    posts:
      - {id: mayor, title: 副镇长, seats: 1, candidates: [张三, 李四, 王五], write_in: true}
"""
CHOICES = [["张三"], ["李四"], [], ["张三"], ["王五"]]
# What the count names, as the chair's console and `tally rounds count` say it (in Chinese).
NAMED = {
    "delete": "哈希链在第 2 个信封",
    "alter a byte of the sealed ballot": "第 3 个信封（回执码",
    "alter the kiosk id of the row": "名下，签名却来自终端",
    "alter the card, chain recomputed": "第 4 个信封（回执码",
    "insert, chain recomputed, card list fingerprint left": "选票卡清单现在的指纹为",
    "insert, chain recomputed, card list fingerprint changed": "选票卡清单现在的指纹为",
    "reorder, chain recomputed": "第 2 个信封（回执码",
}


def run(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(BIN / args[0]), *args[1:]], env=env, capture_output=True, text=True, timeout=120)


def test_tally_rounds_count_refuses_every_edit_and_the_receipts_catch_the_operator(fleet: Fleet, tmp_path: Path):
    tally = fleet.tally(MEETING, cards=8)
    d, env = str(tally.data), tally.env
    tally.roster(6)
    for r in ("r1", "r2"):
        tally.round(r, "open")
    size = {f["id"]: f["ballot_size"] for f in requests.get(tally.url + "/api/v1/ballot", timeout=10).json()["rounds"]}
    codes = tally.cards(6)
    (tmp_path / "offers.txt").write_text("\n".join(tally.offers(2)) + "\n")
    (tmp_path / "cards.txt").write_text("\n".join(codes[:5]) + "\n")
    (tmp_path / "ballots.jsonl").write_text("".join(json.dumps({"round": r, "sections": {"mayor": c}},
                                                               ensure_ascii=False) + "\n"
                                                    for r in ("r1", "r2") for c in CHOICES))
    sim = tmp_path / "sim"
    summary = json.loads(run_cli(["kiosk", "simulate", "--offers", str(tmp_path / "offers.txt"), "--cards",
                                  str(tmp_path / "cards.txt"), "--ballots", str(tmp_path / "ballots.jsonl"),
                                  "--data", str(sim)], env))
    assert summary["accepted"] == 10, summary
    for r in ("r1", "r2"):
        tally.cli("rounds", "close", "--data", d, r)
    shares = [a for f in tally.share_files((1, 2)) for a in ("--share", f)]
    box = tamper.Box(db=tally.data / "tally.db", round_id="r1", ballot_size=size["r1"],
                     spare=Card(*parse_card(codes[5])))
    box.snapshot()

    for name, named in NAMED.items():
        con = box.connect()
        with con:
            tamper.ATTACKS[name](box, con)
        con.close()
        done = run("tally", "rounds", "count", "--data", d, "r1", *shares, env=env)
        assert done.returncode == 1, (name, done.stdout)
        assert "[box_tampered]" in done.stderr and "轮次 r1 的票箱与封箱时的记录不符：未计票。" in done.stderr, done.stderr
        assert named in done.stderr, (name, done.stderr)
        # Nothing counted: the round still closed, no result (its row is as the attacker left it).
        assert round_state(tally, "r1")["status"] == "closed"
        assert tally.call("GET", "/api/v1/admin/results")["rounds"] == []
        if name == "delete":
            # Every other row is exported (after the gap, marked outside the chain): the kiosks'
            # offline check names the deleted envelope's receipt, and only it.
            export = tmp_path / "export-deleted"
            tally.cli("export", "--data", d, "r1", "--out", str(export))
            checked = [run("keys", "check-receipts", str(k), str(export), env={**env, **ENGLISH})
                       for k in sorted(sim.glob("kiosk-*"))]
            assert sorted(c.returncode for c in checked) == [0, 1], [c.stderr for c in checked]
            missing = next(c for c in checked if c.returncode == 1).stderr
            assert missing.count("MISSING: round r1 receipt") == 1, missing
        box.restore()

    # The file as it was: the same shares count the round.
    counted = json.loads(tally.cli("rounds", "count", "--data", d, "r1", *shares))
    assert counted["status"] == "counted" and counted["result"]["returned"] == 5

    # The operator holds the tally's key: a ballot of their own card slipped in as r2's second
    # envelope, every receipt and the close record signed again. The count cannot tell.
    r2 = tamper.Box(db=tally.data / "tally.db", round_id="r2", ballot_size=size["r2"], spare=box.spare)
    con = r2.connect()
    with con:
        slipped = tamper.operator_insert(r2, con, load_private(tally.data / "secrets" / "tally.key", KEY_PASS, Identity),
                                         position=1)
    con.close()
    counted = json.loads(tally.cli("rounds", "count", "--data", d, "r2", *shares))
    assert counted["result"]["returned"] == 6  # the count holds the box to the tally's own signatures: a limit
    export = tmp_path / "export-r2"
    tally.cli("export", "--data", d, "r2", "--out", str(export))
    english = {**os.environ, **env, **ENGLISH}
    checked = [run("keys", "check-receipts", str(k), str(export), env=english) for k in sorted(sim.glob("kiosk-*"))]
    # Every envelope after the slipped one stands at another chain entry than its kiosk's receipt says.
    assert any(c.returncode == 1 and "MISSING: round r2 receipt" in c.stderr for c in checked), [c.stderr for c in checked]
    assert slipped in (export / "receipts.json").read_text()
    own = run("keys", "verify-box", str(export), "--credentials", str(tally.card_dir / "credentials.json"), env=english)
    assert own.returncode == 1 and "card is not in the scrutineers' card list" in own.stdout + own.stderr
