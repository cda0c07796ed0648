"""A scripted meeting with real processes over loopback: the whole ballot path, from the command line.

`tally init` + `tally serve` (gunicorn, gevent) on a free port; the roster imported and people
signed in with `tally checkin`; two kiosk agents paired with `kiosk pair` (one from a
preconfirmed offer, one confirmed by the chair after comparing fingerprints) and served with
`kiosk serve`; voters cast through each agent's own page API in a recommend, an evaluate and
a decide round (cards made by `keys cards make`, their list imported); the agents' outboxes
drain; the rounds are closed and counted (two of three scrutineers' share files), and the live
result must equal `tally count` over the round's export, whose
ballot box `keys verify-box` must accept with the chain head the console shows. Then the
load simulator (`kiosk simulate`) runs from its command line against the same tally.
"""
from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from keys.envelope import receipt_code
from tests.harness import TallyProcess, run_cli

from .conftest import Fleet
from .support import meeting_id, read_box, replay_head, round_state, verified_receipts, verify_box, wait_drained, wait_for

pytestmark = pytest.mark.slow

MEETING = """
meeting:
  title: 端到端测试镇干部推荐会
rounds:
  - id: r1
    kind: recommend
    title: 镇领导班子会议推荐
    expected: 12
    posts:
      - {id: mayor, title: 镇长, seats: 1, candidates: [张三, 李四, 王五], write_in: true}
      - {id: deputy, title: 副镇长, seats: 2, candidates: [赵六, 钱七, 孙八]}
  - id: e1
    kind: evaluate
    title: 民主测评
    expected: 12
    subjects: [张三, 李四]
    directions: [提拔, 留任]
    grade_values: [100, 80, 60, 0]
    quota: {优秀: 1}
    threshold: ">=80%"
  - id: d1
    kind: decide
    title: 任职票决
    expected: 12
    nominees: [王五, 赵六]
    defer_rule: ">30%"
  - id: r2
    kind: recommend
    title: 后备干部推荐
    expected: 12
    posts:
      - {id: reserve, title: 后备干部, seats: 1, candidates: [周九, 吴十]}
"""
ROSTER = 12
SIGNED_IN = 10

# Eight voters (two of the ten present never vote): kiosk index, then what each chooses per round.
VOTERS: list[tuple[int, dict[str, Any]]] = [
    (0, {"r1": {"sections": {"mayor": ["张三"], "deputy": ["赵六", "钱七"]}},
         "e1": {"grades": {"张三": "优秀", "李四": "称职"}, "directions": {"张三": "提拔"}},
         "d1": {"votes": {"王五": "agree", "赵六": "agree"}}}),
    (1, {"r1": {"sections": {"mayor": ["张三"], "deputy": ["赵六"]}},
         "e1": {"grades": {"张三": "称职", "李四": "优秀"}},
         "d1": {"votes": {"王五": "agree", "赵六": "disagree"}}}),
    (0, {"r1": {"sections": {"mayor": ["李四"], "deputy": []}},
         "e1": {"grades": {"张三": "优秀", "李四": "基本称职"}},
         "d1": {"votes": {"王五": "agree", "赵六": "abstain"}}}),
    (1, {"r1": {"sections": {"mayor": ["郑十一"], "deputy": ["孙八"]}},
         "e1": {},
         "d1": {"votes": {"王五": "disagree"}}}),
    (0, {"r1": {"sections": {"mayor": ["张三"], "deputy": ["钱七", "孙八"]}},
         "e1": {"grades": {"张三": "称职"}},
         "d1": {"votes": {"王五": "agree", "赵六": "agree"}}}),
    (1, {"r1": {"sections": {"deputy": ["赵六", "钱七"]}},
         "e1": {"grades": {"张三": "优秀", "李四": "称职"}, "directions": {"李四": "留任"}},
         "d1": {}}),
    (0, {"r1": {"sections": {"mayor": ["王五"], "deputy": ["赵六"]}},
         "e1": {"grades": {"张三": "不称职", "李四": "称职"}},
         "d1": {"votes": {"王五": "abstain", "赵六": "agree"}}}),
    (1, {"r1": {"sections": {"mayor": ["张三"], "deputy": ["钱七"]}},
         "e1": {"grades": {"张三": "称职", "李四": "称职"}},
         "d1": {"votes": {"王五": "agree", "赵六": "disagree"}}}),
]


@pytest.fixture(scope="module")
def tally(module_fleet: Fleet) -> TallyProcess:
    """A served meeting whose roster was imported and signed in through the command line."""
    t = module_fleet.tally(MEETING)
    roster = module_fleet.root / "roster.csv"
    roster.write_text("编号,姓名,类别\n" + "".join(f"{i:03d},代表{i},代表\n" for i in range(1, ROSTER + 1)),
                      encoding="utf-8")
    assert t.cli("checkin", "import", "--data", str(t.data), str(roster)).strip() == f"imported {ROSTER}"
    numbers = [f"{i:03d}" for i in range(1, SIGNED_IN + 1)]
    out = t.cli("checkin", "sign-in", "--data", str(t.data), *numbers)
    assert out.strip() == f"expected {ROSTER} present {SIGNED_IN}"
    return t


def close_count_export(tally: TallyProcess, round_id: str, out: Path) -> tuple[dict[str, Any], Path]:
    """Close and count a round from the command line; export it; return (live result, export dir)."""
    d = str(tally.data)
    assert json.loads(tally.cli("rounds", "close", "--data", d, round_id))["status"] == "closed"
    shares = [a for f in tally.share_files((1, 3)) for a in ("--share", f)]  # two of the three scrutineers
    counted = json.loads(tally.cli("rounds", "count", "--data", d, round_id, *shares))
    assert counted["status"] == "counted"
    live = json.loads(tally.cli("results", "--data", d, "--json"))
    result = next(r for r in live["rounds"] if r["id"] == round_id)
    assert result == counted["result"]
    # The same results as a sheet for people, the group-level --data reaching the command.
    sheet = tally.cli("--data", d, "results", "--sheet")
    assert (result.get("title") or round_id) in sheet and "应到" in sheet
    export = out / f"export-{round_id}"
    tally.cli("export", "--data", d, round_id, "--out", str(export))
    return result, export


def assert_audit_reproduces(tally: TallyProcess, round_id: str, live: dict[str, Any], export: Path) -> list[str]:
    """The auditor's two commands over the export reproduce the published round and its chain
    head; returns the exported envelope hashes in chain order."""
    offline = json.loads(run_cli(["tally", "count", str(export / "meeting.yaml"), str(export / "ballots.jsonl"),
                                  "--json"], tally.env))
    assert next(r for r in offline["rounds"] if r["id"] == round_id) == live
    head = verify_box(export, round_id)
    assert head == round_state(tally, round_id)["chain_head"]
    box = read_box(export, round_id)
    assert replay_head(meeting_id(tally), round_id, box) == head
    assert len({b.envelope_hash for b in box}) == len(box) == live["returned"]
    return [b.envelope_hash for b in box]


def test_a_scripted_meeting_through_two_kiosk_agents(tally: TallyProcess, module_fleet: Fleet, tmp_path: Path) -> None:
    d = str(tally.data)
    # Kiosk A from a preconfirmed offer; kiosk B from a plain one, confirmed after the chair
    # compares the fingerprint `kiosk pair` printed with the one the console shows.
    offer_a = tally.cli("kiosks", "offer", "--data", d, "--count", "1", "--preconfirm").strip()
    offer_b = tally.cli("kiosks", "offer", "--data", d, "--count", "1").strip()
    kiosk_a = module_fleet.kiosk("kiosk-a")
    kiosk_b = module_fleet.kiosk("kiosk-b")
    assert kiosk_a.pair(offer_a, "A区1号") == "active"
    assert kiosk_b.pair(offer_b, "B区2号") == "pending"
    console = json.loads(tally.cli("state", "--data", d))
    seen = {k["id"]: k for k in console["kiosks"]}
    assert seen[kiosk_b.kiosk_id]["status"] == "pending"
    assert seen[kiosk_b.kiosk_id]["fingerprint"] == kiosk_b.fingerprint
    assert seen[kiosk_a.kiosk_id]["fingerprint"] == kiosk_a.fingerprint != kiosk_b.fingerprint
    assert json.loads(tally.cli("kiosks", "confirm", "--data", d, kiosk_b.kiosk_id))["status"] == "active"

    for r in ("r1", "e1", "d1"):
        assert json.loads(tally.cli("rounds", "open", "--data", d, r))["present"] == SIGNED_IN
    cards = tally.cards(SIGNED_IN)  # made by `keys cards make`, imported by `tally cards import`
    assert len(cards) == SIGNED_IN
    kiosks = [kiosk_a.start(), kiosk_b.start()]
    for k in kiosks:
        wait_for(lambda k=k: k.call("GET", "/api/state")[1]["status"] == "active"
                 and k.call("GET", "/api/state")[1]["rounds"] == 3, f"kiosk {k.kiosk_id} to see the open rounds", 30)

    shown: dict[str, set[str]] = {r: set() for r in ("r1", "e1", "d1")}
    for card, (k, rounds) in zip(cards, VOTERS, strict=False):
        codes = kiosks[k].vote(card, {r: rounds.get(r, {}) for r in ("r1", "e1", "d1")})
        for r, code in zip(("r1", "e1", "d1"), codes, strict=False):  # one code per round, in form order
            shown[r].add(code)
    per_kiosk = Counter(k for k, _ in VOTERS)
    for i, k in enumerate(kiosks):
        assert wait_drained(k, sent=3 * per_kiosk[i]) == {"pending": 0, "sent": 3 * per_kiosk[i], "rejected": 0}

    receipts: dict[str, dict[str, Any]] = {}
    for k in kiosks:
        receipts |= verified_receipts(k.data, meeting_id(tally))
    results = {}
    for r in ("r1", "e1", "d1"):
        live, export = close_count_export(tally, r, tmp_path)
        hashes = assert_audit_reproduces(tally, r, live, export)
        # Every code a voter was shown names an envelope of the published box, which the
        # kiosk holds a verified receipt for, and nothing else is in the box.
        assert {receipt_code(h) for h in hashes} == shown[r]
        assert {h for h in hashes} == {h for h, f in receipts.items() if f["round"] == r}
        results[r] = live

    voted = [v for _, v in VOTERS]
    r1 = results["r1"]
    assert (r1["present"], r1["returned"], r1["status"]) == (SIGNED_IN, len(VOTERS), "counted")
    for post in r1["posts"]:
        chosen = Counter(n for v in voted for n in v["r1"]["sections"].get(post["id"], []))
        assert {c["name"]: c["votes"] for c in post["candidates"] if c["votes"]} == dict(chosen)
        assert post["blank"] == sum(1 for v in voted if not v["r1"]["sections"].get(post["id"]))
        assert post["invalid"] == 0
    mayor = next(p for p in r1["posts"] if p["id"] == "mayor")
    assert {c["name"] for c in mayor["candidates"] if c["write_in"]} == {"郑十一"}

    e1 = results["e1"]
    assert e1["returned"] == len(VOTERS)
    for subject in e1["subjects"]:
        grades = Counter(v["e1"].get("grades", {}).get(subject["name"]) for v in voted)
        assert {g: n for g, n in subject["counts"].items() if n} == {g: n for g, n in grades.items() if g}
        assert subject["valid"] == sum(n for g, n in grades.items() if g)
        directions = Counter(v["e1"].get("directions", {}).get(subject["name"]) for v in voted)
        assert {k: n for k, n in subject.get("directions", {}).items() if n} == {k: n for k, n in directions.items() if k}

    d1 = results["d1"]
    assert d1["returned"] == len(VOTERS)
    for nominee in d1["nominees"]:
        votes = Counter(v["d1"].get("votes", {}).get(nominee["name"]) for v in voted)
        assert (nominee["agree"], nominee["disagree"], nominee["abstain"]) == \
            (votes["agree"], votes["disagree"], votes["abstain"])
        assert nominee["not_voted"] == SIGNED_IN - votes["agree"] - votes["disagree"] - votes["abstain"]


def test_kiosk_simulate_from_the_command_line(tally: TallyProcess, tmp_path: Path) -> None:
    d = str(tally.data)
    assert json.loads(tally.cli("rounds", "open", "--data", d, "r2"))["status"] == "open"
    offers, cards, ballots = tmp_path / "offers.txt", tmp_path / "cards.txt", tmp_path / "ballots.jsonl"
    offers.write_text(tally.cli("kiosks", "offer", "--data", d, "--count", "2", "--preconfirm"), encoding="utf-8")
    cards.write_text("\n".join(tally.cards(9)) + "\n", encoding="utf-8")
    lines = [["周九"]] * 5 + [["吴十"]] * 3 + [["周九", "吴十"]]  # the last one over-votes a one-seat post
    ballots.write_text("".join(json.dumps({"round": "r2", "sections": {"reserve": names}}, ensure_ascii=False) + "\n"
                               for names in lines), encoding="utf-8")
    summary = json.loads(run_cli(["kiosk", "simulate", "--offers", str(offers), "--cards", str(cards),
                                  "--ballots", str(ballots), "--timeout", "60"], tally.env, timeout=120))
    assert {k: summary[k] for k in ("kiosks", "ballots", "cast", "accepted", "rejected", "cast_errors",
                                    "unacknowledged")} == {"kiosks": 2, "ballots": 9, "cast": 9, "accepted": 9,
                                                           "rejected": {}, "cast_errors": {}, "unacknowledged": 0}
    live, export = close_count_export(tally, "r2", tmp_path)
    assert_audit_reproduces(tally, "r2", live, export)
    (post,) = live["posts"]
    assert (live["returned"], post["valid"], post["invalid"]) == (9, 8, 1)
    assert {c["name"]: c["votes"] for c in post["candidates"]} == {"周九": 5, "吴十": 3}
