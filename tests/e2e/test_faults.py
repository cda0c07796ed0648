"""Faults on the ballot path with real processes: nothing acknowledged is lost, nothing counts twice.

(a) The tally is killed (SIGKILL to its process group) in the middle of a burst from
    `kiosk simulate` (three simulated kiosks with durable outboxes), while two real kiosk agents
    take voters during the outage; it restarts on the same port. Every ballot a kiosk holds a
    verified receipt for is in the ballot box, the box holds nothing else and nothing twice, the
    receipt a resent envelope got names the same chain entry, and every outbox drains.
(b) A kiosk agent is killed with envelopes still in its outbox while the tally is frozen
    (SIGSTOP) in the middle of answering one of them; after both come back, the agent resends
    and each envelope is accepted exactly once.
(c) After the restart, the chain head the console shows equals the head recomputed from the
    export by `keys verify-box` and by replaying the exported envelopes.

The burst is bigger than the other e2e meetings (a few hundred ballots) so that the kill lands
while envelopes are in flight; it still takes a second or two of work.
"""
from __future__ import annotations

import json
import os
import signal
import subprocess
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.harness import BIN, KioskProcess, TallyProcess

from .conftest import Fleet
from .support import (
    answers,
    cast_count,
    meeting_id,
    outbox_rows,
    read_box,
    replay_head,
    round_state,
    status_counts,
    verified_receipts,
    verify_box,
    wait_drained,
    wait_for,
)

pytestmark = pytest.mark.slow

BURST = 240            # ballots from the simulator
KILL_AT = 40           # the tally dies once it has accepted this many
DURING_OUTAGE = 3      # voters per kiosk agent while the tally is down
PRESENT = 260
CANDIDATES = ["张三", "李四", "王五", "赵六"]
MEETING = f"""
meeting:
  title: 故障测试会议
rounds:
  - id: f1
    kind: recommend
    title: 断电重启推荐
    expected: {PRESENT}
    posts:
      - {{id: p, title: 职位, seats: 1, candidates: [{", ".join(CANDIDATES)}]}}
  - id: f2
    kind: recommend
    title: 终端重启推荐
    expected: {PRESENT}
    posts:
      - {{id: p, title: 职位, seats: 1, candidates: [{", ".join(CANDIDATES)}]}}
"""


@pytest.fixture(scope="module")
def tally(module_fleet: Fleet) -> TallyProcess:
    t = module_fleet.tally(MEETING, cards=BURST + 3 * DURING_OUTAGE + 10)
    t.roster(PRESENT)
    return t


@pytest.fixture(scope="module")
def agents(tally: TallyProcess, module_fleet: Fleet) -> list[KioskProcess]:
    out = []
    for i, offer in enumerate(tally.offers(2)):
        k = module_fleet.kiosk(f"agent-{i}")
        assert k.pair(offer, f"故障{i}号") == "active"
        out.append(k.start())
    return out


def wait_form(kiosk: KioskProcess, *round_ids: str) -> None:
    """Wait until the agent's ballot form (its cache on disk, and its page) has exactly these open rounds."""
    def probe() -> bool:
        try:
            cached = json.loads((kiosk.data / "ballot.json").read_text(encoding="utf-8"))
        except (FileNotFoundError, ValueError):
            return False
        return ([r["id"] for r in cached["rounds"]] == list(round_ids)
                and kiosk.call("GET", "/api/state")[1]["rounds"] == len(round_ids))
    wait_for(probe, f"kiosk {kiosk.kiosk_id} to see rounds {round_ids}", 30)


def ballot(i: int, round_id: str) -> dict[str, Any]:
    return {"round": round_id, "sections": {"p": [CANDIDATES[(i * 7) % 4]]}}


@dataclass(frozen=True)
class Outage:
    cast_at_kill: int
    pending_after_kill: int
    summary: dict[str, Any]
    voted: Counter[str]
    receipts: dict[str, dict[str, Any]]
    chain_head: str
    cast: int
    export: Path


@pytest.fixture(scope="module")
def outage(tally: TallyProcess, agents: list[KioskProcess], tmp_path_factory: pytest.TempPathFactory) -> Outage:
    """Round f1: a simulator burst, the tally killed half-way, voters at the agents meanwhile, a restart."""
    tmp = tmp_path_factory.mktemp("outage")
    tally.round("f1", "open")
    for k in agents:
        wait_form(k, "f1")
    cards = tally.cards(BURST + DURING_OUTAGE * len(agents))
    (tmp / "offers.txt").write_text("\n".join(tally.offers(3)) + "\n", encoding="utf-8")
    (tmp / "cards.txt").write_text("\n".join(cards[:BURST]) + "\n", encoding="utf-8")
    lines = [ballot(i, "f1") for i in range(BURST)]
    (tmp / "ballots.jsonl").write_text("".join(json.dumps(b, ensure_ascii=False) + "\n" for b in lines), encoding="utf-8")
    sim_dir = tmp / "sim"
    sim = subprocess.Popen([str(BIN / "kiosk"), "simulate", "--offers", str(tmp / "offers.txt"),
                            "--cards", str(tmp / "cards.txt"), "--ballots", str(tmp / "ballots.jsonl"),
                            "--data", str(sim_dir), "--timeout", "120"],
                           env=tally.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                           start_new_session=True)
    try:
        cast_at_kill = wait_for(lambda: (n := cast_count(tally, "f1")) >= KILL_AT and n, "the burst to reach the tally",
                                60, every=0.005)
        tally.kill(signal.SIGKILL)
        # The kill landed mid-burst: the simulator still waits for answers, its outboxes hold envelopes.
        assert sim.poll() is None, "the burst ended before the tally was killed"
        pending = sum(1 for i in range(3) for r in outbox_rows(sim_dir / f"kiosk-{i}") if r.state == "pending")
        assert pending > 0

        voted = Counter(b["sections"]["p"][0] for b in lines)
        extra = iter(cards[BURST:])
        for k in agents:  # voters keep voting while the tally is down: the kiosks keep the ballots
            for j in range(DURING_OUTAGE):
                choice = ballot(j + 1, "f1")["sections"]
                assert len(k.vote(next(extra), {"f1": {"sections": choice}})) == 1
                voted[choice["p"][0]] += 1
            assert status_counts(k)["pending"] >= DURING_OUTAGE

        tally.start()  # same data directory, same port
        out, err = sim.communicate(timeout=150)
    finally:
        if sim.poll() is None:
            os.killpg(sim.pid, signal.SIGKILL)
            sim.wait(10)
    assert sim.returncode == 0, err[-2000:]
    summary = json.loads(out)
    for k in agents:
        wait_drained(k, sent=DURING_OUTAGE)

    meeting = meeting_id(tally)
    receipts: dict[str, dict[str, Any]] = {}
    for d in [sim_dir / f"kiosk-{i}" for i in range(3)] + [k.data for k in agents]:
        receipts |= verified_receipts(d, meeting)
    d = str(tally.data)
    tally.cli("rounds", "close", "--data", d, "f1")
    state = round_state(tally, "f1")
    tally.cli("rounds", "count", "--data", d, "f1", *[a for f in tally.share_files() for a in ("--share", f)])
    export = tmp / "export-f1"
    tally.cli("export", "--data", d, "f1", "--out", str(export))
    return Outage(cast_at_kill, pending, summary, voted, receipts, state["chain_head"], state["cast"], export)


def test_a_tally_killed_mid_burst_loses_nothing_and_counts_nothing_twice(outage: Outage, tally: TallyProcess,
                                                                         agents: list[KioskProcess]) -> None:
    total = BURST + DURING_OUTAGE * len(agents)
    s = outage.summary
    assert (s["cast"], s["accepted"], s["rejected"], s["cast_errors"], s["unacknowledged"]) == (BURST, BURST, {}, {}, 0)
    # Every outbox drained completely: every envelope holds a receipt, none was refused.
    for d in [outage.export.parent / "sim" / f"kiosk-{i}" for i in range(3)] + [k.data for k in agents]:
        assert {r.state for r in outbox_rows(d)} == {"sent"}
    box = read_box(outage.export, "f1")
    hashes = [b.envelope_hash for b in box]
    assert outage.cast == len(box) == len(set(hashes)) == len(outage.receipts) == total
    assert set(hashes) == set(outage.receipts)
    # A receipt names the chain entry its envelope holds in the box: a resent envelope got the
    # receipt of its first acceptance, not a second place in the chain.
    entries = {b.envelope_hash: b.entry for b in box}
    assert all(entries[h] == f["entry"] for h, f in outage.receipts.items())
    result = next(r for r in json.loads(tally.cli("results", "--data", str(tally.data)))["rounds"] if r["id"] == "f1")
    assert result["returned"] == total
    assert {c["name"]: c["votes"] for c in result["posts"][0]["candidates"] if c["votes"]} == dict(outage.voted)
    assert 0 < outage.cast_at_kill < BURST
    print(f"killed at {outage.cast_at_kill} accepted, {outage.pending_after_kill} pending in the simulator's outboxes; "
          f"ack p50/p99 {s['ack_ms']['p50']}/{s['ack_ms']['p99']} ms over the outage")


def test_c_chain_head_after_the_restart_matches_the_export(outage: Outage, tally: TallyProcess) -> None:
    head = verify_box(outage.export, "f1")
    assert outage.chain_head == head
    assert replay_head(meeting_id(tally), "f1", read_box(outage.export, "f1")) == head
    assert json.loads((outage.export / "public.json").read_text())["rounds"]["f1"]["head"] == head


def test_b_a_kiosk_killed_with_pending_envelopes_resends_them_once(tally: TallyProcess, agents: list[KioskProcess],
                                                                  tmp_path: Path) -> None:
    kiosk = agents[0]
    tally.round("f2", "open")
    wait_form(kiosk, "f2")  # f1 is closed by now, or was never opened
    cards = tally.cards(2)
    assert tally.proc is not None
    os.killpg(tally.proc.pid, signal.SIGSTOP)  # the tally hangs: connections queue, nothing answers
    try:
        for j, card in enumerate(cards):
            kiosk.vote(card, {"f2": {"sections": ballot(j, "f2")["sections"]}})
        rows = [r for r in outbox_rows(kiosk.data) if r.round_id == "f2"]
        assert [r.state for r in rows] == ["pending", "pending"]
        kiosk.kill(signal.SIGKILL)  # its sender was waiting on the frozen tally for the first envelope
    finally:
        os.killpg(tally.proc.pid, signal.SIGCONT)
    # The frozen tally may still take the envelope whose sender died waiting: then the box
    # already holds it while the outbox says pending. Either way each must count once.
    # Keep-alive connections pooled before the freeze may be closed by the server as it resumes.
    tally.http.close()
    wait_for(lambda: answers(tally.url + "/api/v1/ballot"), "the tally to answer again", 30)
    taken_while_kiosk_dead = cast_count(tally, "f2")
    assert taken_while_kiosk_dead in (0, 1)
    print(f"envelopes the frozen tally took from the dead kiosk's connection: {taken_while_kiosk_dead}")
    assert [r.state for r in outbox_rows(kiosk.data) if r.round_id == "f2"] == ["pending", "pending"]

    kiosk.start()
    wait_for(lambda: all(r.state == "sent" for r in outbox_rows(kiosk.data) if r.round_id == "f2"),
             "the restarted kiosk to resend its outbox", 60)
    assert status_counts(kiosk)["pending"] == 0
    receipts = verified_receipts(kiosk.data, meeting_id(tally))
    tally.round("f2", "close")
    tally.count("f2")
    export = tmp_path / "export-f2"
    tally.cli("export", "--data", str(tally.data), "f2", "--out", str(export))
    box = read_box(export, "f2")
    assert round_state(tally, "f2")["cast"] == len(box) == 2
    assert {b.envelope_hash for b in box} == {r.envelope_hash for r in rows}
    assert all(receipts[b.envelope_hash]["entry"] == b.entry for b in box)
    assert verify_box(export, "f2") == round_state(tally, "f2")["chain_head"]
