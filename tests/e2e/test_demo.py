"""`make run`'s main job: `tally demo` makes the demo meeting, starts a tally and a paired kiosk,
prints where to look, and every printed address answers; Ctrl-C (SIGINT) stops it all."""
from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from tests.harness import free_port

pytestmark = pytest.mark.slow


def test_tally_demo_starts_everything_and_prints_the_addresses(tmp_path: Path):
    port, kport = free_port(), free_port()
    proc = subprocess.Popen([str(Path(sys.executable).parent / "tally"), "demo", "--data", str(tmp_path / "demo"),
                             "--port", str(port), "--kiosk-port", str(kport)],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True)
    out = ""
    try:
        deadline = time.monotonic() + 90
        while "Ctrl-C" not in out and time.monotonic() < deadline and proc.poll() is None:
            out += proc.stdout.readline()
        assert "Ctrl-C" in out, out[-3000:]
        console = re.search(r"主持人控制台: (\S+)", out).group(1)
        token = re.search(r"登录口令:\s+(\S+)", out).group(1)
        projector = re.search(r"投影:\s+(\S+)", out).group(1)
        desk = re.search(r"签到台:\s+(\S+)", out).group(1)
        kiosk = re.search(r"投票平板:\s+(\S+)", out).group(1)
        s = requests.Session()
        r = s.post(console.replace("/console", "/console/login"), data={"token": token})
        assert r.status_code == 200 and "投票轮次" in r.text  # signed in, redirected to the console
        assert "示范镇换届推荐会议" in requests.get(projector, timeout=5).text
        assert requests.get(desk, timeout=5).status_code == 200
        assert requests.get(kiosk, timeout=5).status_code == 200
        state = s.get(console.replace("/console", "/api/v1/admin/state")).json()
        assert state["attendance"] == {"expected": 30, "present": 30}
        assert [k["status"] for k in state["kiosks"]] == ["active"]
        # The cards come from the scrutineers' tool, beside the data directory; the tally has their list.
        cards = (tmp_path / "demo-cards" / "cards.txt").read_text().split()
        judges = (tmp_path / "demo" / "demo-judge-cards.txt").read_text().splitlines()
        assert len(cards) == 30 and all(c.startswith("SCR1.") for c in cards) and len(judges) == 7
        assert (tmp_path / "demo-cards" / "cards.pdf").read_bytes().startswith(b"%PDF")
        assert state["cards"]["listed"] == 30 and state["card_list"]["cards"] == 30 and state["desk_unlock"] is True
        # The scrutineers' shares are beside the data directory (and printed where), never in it.
        assert sorted(p.name for p in (tmp_path / "demo-shares").iterdir()) == [
            f"scrutineer-{i}.{ext}" for i in (1, 2, 3) for ext in ("pdf", "txt")]
        assert str(tmp_path / "demo-shares") in out
        assert not any("SCRS1." in p.read_text(errors="replace") for p in (tmp_path / "demo").rglob("*")
                       if p.is_file() and p.suffix in (".txt", ".json", ".log", ""))
    finally:
        os.killpg(proc.pid, signal.SIGINT)
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            raise
    assert proc.returncode is not None


def test_a_demo_directory_of_version_0_1_is_refused_with_a_message(tmp_path: Path):
    """An old demo (one scrutineers' passphrase, cards made by the tally) cannot be counted with
    shares: `tally demo` says so and what to do, and touches nothing."""
    from click.testing import CliRunner

    from tally.cli import main

    old = tmp_path / "demo"
    old.mkdir()
    (old / "meeting.json").write_text('{"id": "0123456789abcdef", "title": "x", "database": "sqlite"}')
    result = CliRunner().invoke(main, ["demo", "--data", str(old)])
    assert result.exit_code == 1 and "older version" in result.output and "make clean" in result.output
    assert sorted(p.name for p in old.iterdir()) == ["meeting.json"]
