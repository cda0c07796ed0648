"""`kiosk pair`, `kiosk serve` and `kiosk simulate` as a hall technician or a benchmark runs them."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests
from click.testing import CliRunner

from keys.fingerprint import fingerprint
from kiosk.cli import main
from kiosk.config import Paths, load_pairing
from kiosk.pairing import load_identity
from kiosk.simulate import SimulationError, simulate

from .conftest import LiveTally, closed_port, local_offer

REPO = Path(__file__).resolve().parents[2]


def test_pair_refuses_to_run_without_a_passphrase(tmp_path: Path, tally: LiveTally) -> None:
    result = CliRunner().invoke(main, ["pair", local_offer(tally).to_url(), "--data", str(tmp_path / "k")],
                                env={"KIOSK_PASSPHRASE": ""})
    assert result.exit_code == 1
    assert "passphrase is required" in result.output
    assert not (tmp_path / "k" / "kiosk.key").exists()


@pytest.mark.parametrize("weak", ["kiosk pass", "password1234", "123456789012", "qwertyuiopas"])
def test_pair_refuses_a_weak_passphrase_and_saves_nothing(tmp_path: Path, tally: LiveTally, weak: str) -> None:
    result = CliRunner().invoke(main, ["pair", local_offer(tally).to_url(), "--data", str(tmp_path / "k")],
                                env={"KIOSK_PASSPHRASE": weak})
    assert result.exit_code == 1
    assert "passphrase is too weak" in result.output and "口令太弱" in result.output and weak not in result.output
    assert not (tmp_path / "k" / "kiosk.key").exists() and not (tmp_path / "k" / "kiosk.json").exists()


def test_pair_refuses_what_is_not_an_offer(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["pair", "http://tally/", "--data", str(tmp_path / "k")],
                                env={"KIOSK_PASSPHRASE": "pw"})
    assert result.exit_code == 1 and "not a pairing offer" in result.output


def test_pair_prints_the_fingerprint_the_chair_compares(tmp_path: Path, tally: LiveTally) -> None:
    passfile = tmp_path / "pass"
    passfile.write_text("kiosk tablet passphrase\n", encoding="utf-8")
    d = tmp_path / "k"
    result = CliRunner().invoke(main, ["pair", local_offer(tally).to_url(), "--data", str(d), "--name", "大厅3号",
                                       "--passphrase-file", str(passfile)], env={"KIOSK_PASSPHRASE": ""})
    assert result.exit_code == 0, result.output
    identity = load_identity(Paths(d), "kiosk tablet passphrase")
    assert fingerprint(identity.public_bytes()) in result.output
    assert "kiosk tablet passphrase" not in result.output


def test_serve_runs_gunicorn_and_starts_the_heartbeat_in_the_worker(tmp_path: Path, tally: LiveTally) -> None:
    d = tmp_path / "k"
    env = {**os.environ, "KIOSK_PASSPHRASE": "kiosk tablet passphrase"}
    assert CliRunner().invoke(main, ["pair", local_offer(tally).to_url(), "--data", str(d)], env=env).exit_code == 0
    port = closed_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "kiosk.cli", "serve", "--data", str(d), "--port", str(port), "--heartbeat-seconds", "1"],
        cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    try:
        state = None
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                state = requests.get(f"http://127.0.0.1:{port}/api/state", timeout=2).json()
                if state["status"] != "unknown" and state["rounds"]:
                    break
            except requests.ConnectionError:
                pass
            time.sleep(0.1)
        # "active" and the rounds can only come from the heartbeat thread: it runs in the worker.
        assert state is not None and state["status"] == "active" and state["rounds"] == 3
        page = requests.get(f"http://127.0.0.1:{port}/", timeout=5)
        assert page.status_code == 200 and "欢迎" in page.text
    finally:
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=20)
    assert proc.returncode == 0
    assert "gthread" in out
    assert load_pairing(Paths(d)).kiosk_id in out


def ballot_lines(n: int) -> list[dict[str, object]]:
    r1 = [{"round": "r1", "sections": {"mayor": [["张三"], ["李四"], ["张三", "李四"]][i % 3]}} for i in range(n)]
    d1 = [{"round": "d1", "votes": {"王五": ["agree", "disagree", "abstain"][i % 3]}} for i in range(n)]
    return r1 + d1


def test_simulate_casts_every_line_through_real_kiosks(tmp_path: Path, tally: LiveTally) -> None:
    offers = [local_offer(tally).to_url() for _ in range(2)]
    meeting = json.loads(tally.client.get("/api/v1/ballot").get_data())["meeting"]["id"]
    cards = [c.qr_text for c in tally.cards(meeting, 6)]
    summary = simulate(offers, cards, ballot_lines(6), concurrency=3, data_dir=tmp_path / "sim")
    assert summary["kiosks"] == 2 and summary["ballots"] == 12 and summary["cast"] == 12
    assert summary["accepted"] == 12 and summary["rejected"] == {} and summary["unacknowledged"] == 0
    assert summary["ack_ms"]["p50"] is not None and summary["ack_ms"]["p50"] <= summary["ack_ms"]["p99"]
    # Each simulated kiosk kept its own durable outbox, all acknowledged.
    assert sorted(p.name for p in (tmp_path / "sim").iterdir()) == ["kiosk-0", "kiosk-1"]

    # The same cards again, through new kiosks: the tally refuses every one, and says why.
    again = simulate([local_offer(tally).to_url()], cards, ballot_lines(6))
    assert again["accepted"] == 0 and again["rejected"] == {"card_used": 12}


def test_simulate_cli_prints_a_json_summary(tmp_path: Path, tally: LiveTally) -> None:
    meeting = json.loads(tally.client.get("/api/v1/ballot").get_data())["meeting"]["id"]
    (tmp_path / "offers").write_text(local_offer(tally).to_url() + "\n", encoding="utf-8")
    (tmp_path / "cards").write_text("\n".join(c.qr_text for c in tally.cards(meeting, 2)) + "\n", encoding="utf-8")
    (tmp_path / "ballots").write_text(
        "\n".join(json.dumps(b, ensure_ascii=False) for b in ballot_lines(2)) + "\n", encoding="utf-8")
    args = ["simulate", "--offers", str(tmp_path / "offers"), "--cards", str(tmp_path / "cards"),
            "--ballots", str(tmp_path / "ballots")]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["accepted"] == 4


@pytest.mark.parametrize(
    ("ballots", "message"),
    [
        ('{"round": "zz", "votes": {}}\n', "round zz is not open"),
        ('{"round": "r1", "sections": {"mayor": ["张三"]}}\n' * 3, "more ballot lines than there are cards"),
        ('{"round": "r1", "score": 88.5}\n', "ballots:1"),
    ],
)
def test_simulate_cli_refuses_bad_input(tmp_path: Path, tally: LiveTally, ballots: str, message: str) -> None:
    meeting = json.loads(tally.client.get("/api/v1/ballot").get_data())["meeting"]["id"]
    (tmp_path / "offers").write_text(local_offer(tally).to_url() + "\n", encoding="utf-8")
    (tmp_path / "cards").write_text("\n".join(c.qr_text for c in tally.cards(meeting, 2)) + "\n", encoding="utf-8")
    (tmp_path / "ballots").write_text(ballots, encoding="utf-8")
    args = ["simulate", "--offers", str(tmp_path / "offers"), "--cards", str(tmp_path / "cards"),
            "--ballots", str(tmp_path / "ballots")]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 1
    assert message in result.output


def test_simulate_wants_preconfirmed_offers(tally: LiveTally) -> None:
    meeting = json.loads(tally.client.get("/api/v1/ballot").get_data())["meeting"]["id"]
    cards = [c.qr_text for c in tally.cards(meeting, 1)]
    with pytest.raises(SimulationError, match="--preconfirm"):
        simulate([local_offer(tally, preconfirm=False).to_url()], cards, ballot_lines(1))
