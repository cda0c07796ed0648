"""The scrutineers' ceremony, step by step, with real processes on loopback (the issue's named steps).

1. `tally init` with 3 scrutineers, quorum 2: each gets a share file and a sheet, outside the
   data directory; a bad set-up is refused.
2. The scrutineers make the cards (`keys cards make`) and the chair imports the list.
3. Voters vote through `kiosk simulate` (real kiosk code over HTTP).
4. The chair closes the round.
5. Counting with one share is refused, saying how many more are needed; nothing changes.
6. A damaged share is named; nothing changes.
7. Two shares count the round.
8. `tally count-box` over the export, on "another machine", prints the same document byte for
   byte as `tally results --json --round`; `keys verify-box` accepts the box and its cards.
9. The whole data directory after the meeting (database, WAL, logs, every file) holds no share,
   no round private key and no card secret, in any spelling.
"""
from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from keys.canonical import b64e
from keys.cards import parse_card
from keys.shares import open_round_key, parse_custody, parse_share, valid_shares
from tests.e2e.conftest import Fleet
from tests.e2e.support import ENGLISH, round_state
from tests.harness import BIN, TallyProcess, run_cli

pytestmark = pytest.mark.slow

MEETING = """
meeting:
  title: 监票仪式测试会议
rounds:
  - id: r1
    kind: recommend
    title: 推荐
    expected: 5
    posts:
      - {id: p, title: 职位, seats: 1, candidates: [张三, 李四, 王五]}
  - id: d1
    kind: decide
    title: 票决
    expected: 5
    nominees: [王五]
"""
VOTERS = 5


def run(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """A command that may fail: its exit code and output, for the refusals."""
    return subprocess.run([str(BIN / args[0]), *args[1:]], env=env, capture_output=True, text=True, timeout=120)


def spellings(secret: bytes) -> list[bytes]:
    """Every way a secret could rest in a file: raw, hex, base64 (both alphabets), base32."""
    b32 = base64.b32encode(secret).decode().rstrip("=")
    return [secret, secret.hex().encode(), secret.hex().upper().encode(), b64e(secret).encode(),
            base64.b64encode(secret).rstrip(b"="), b32.encode(), b32.lower().encode()]


def everything_in(directory: Path) -> dict[str, bytes]:
    return {str(p.relative_to(directory)): p.read_bytes() for p in sorted(directory.rglob("*")) if p.is_file()}


def step_1_init_refuses_a_bad_set_up(tmp: Path, env: dict[str, str]) -> None:
    meeting = tmp / "m.yaml"
    meeting.write_text(MEETING, encoding="utf-8")
    for extra, said in [(["--quorum", "1", "--shares-out", str(tmp / "s1")], "at least 2"),
                        (["--quorum", "4", "--shares-out", str(tmp / "s2")], "cannot be more than"),
                        (["--quorum", "2", "--shares-out", str(tmp / "bad" / "shares")], "inside the data directory")]:
        done = run("tally", "init", "--data", str(tmp / "bad"), "--meeting", str(meeting), "--scrutineers", "3",
                   *extra, env=env)
        assert done.returncode != 0 and said in done.stderr, done.stderr
        assert not (tmp / "bad" / "meeting.json").exists()


def test_the_scrutineers_ceremony(fleet: Fleet, tmp_path: Path) -> None:
    step_1_init_refuses_a_bad_set_up(tmp_path, dict(os.environ, TALLY_KEY_PASSPHRASE="a long ceremony passphrase"))

    # 1. init: three scrutineers, any two open a round.
    tally: TallyProcess = fleet.tally(MEETING, cards=0)
    d, env = str(tally.data), tally.env
    kits = sorted(p.name for p in tally.shares.iterdir())
    assert kits == [f"scrutineer-{i}.{x}" for i in (1, 2, 3) for x in ("pdf", "txt")]
    assert all(oct(p.stat().st_mode & 0o777) == "0o600" for p in tally.shares.iterdir())
    record = json.loads((tally.data / "public" / "meeting.json").read_text(encoding="utf-8"))
    assert (record["scrutineers"], record["quorum"]) == (3, 2) and [s["id"] for s in record["spares"]] == [
        "spare-1", "spare-2", "spare-3"]
    for i in (1, 2, 3):
        lines = [ln for ln in (tally.shares / f"scrutineer-{i}.txt").read_text().splitlines() if ln.startswith("SCRS1.")]
        assert [ln.split(".")[2] for ln in lines] == ["r1", "d1", "spare-1", "spare-2", "spare-3"]
        assert all(parse_share(ln).index == i for ln in lines)

    # 2. the scrutineers make the cards on their machine; the chair imports the list.
    cards_dir = tmp_path / "scrutineers-machine"
    out = run_cli(["keys", "cards", "make", "--meeting-record", str(tally.data / "public" / "meeting.json"),
                   "--count", str(VOTERS + 2), "--out", str(cards_dir)], {**env, **ENGLISH})
    fingerprint = json.loads((cards_dir / "credentials.json").read_text())["fingerprint"]
    assert fingerprint in out and (cards_dir / "cards.pdf").read_bytes().startswith(b"%PDF")
    assert fingerprint in tally.cli("cards", "import", "--data", d, str(cards_dir / "credentials.json"))
    codes = (cards_dir / "cards.txt").read_text().split()
    assert tally.call("GET", "/api/v1/admin/state")["card_list"] == {"fingerprint": fingerprint, "cards": VOTERS + 2}

    # 3. vote through the kiosk code (kiosk simulate), two rounds.
    tally.roster(VOTERS)
    tally.round("r1", "open")
    tally.round("d1", "open")
    assert run("tally", "cards", "import", "--data", d, str(cards_dir / "credentials.json"), env=env).returncode != 0
    ballots = [{"round": "r1", "sections": {"p": [["张三", "李四", "张三", "王五", "张三"][i]]}} for i in range(VOTERS)]
    ballots += [{"round": "d1", "votes": {"王五": ["agree", "agree", "disagree", "abstain", "agree"][i]}}
                for i in range(VOTERS)]
    (tmp_path / "offers.txt").write_text("\n".join(tally.offers(2)) + "\n")
    (tmp_path / "cards.txt").write_text("\n".join(codes[:VOTERS]) + "\n")
    (tmp_path / "ballots.jsonl").write_text("".join(json.dumps(b, ensure_ascii=False) + "\n" for b in ballots))
    summary = json.loads(run_cli(["kiosk", "simulate", "--offers", str(tmp_path / "offers.txt"), "--cards",
                                  str(tmp_path / "cards.txt"), "--ballots", str(tmp_path / "ballots.jsonl"),
                                  "--data", str(tmp_path / "sim")], env))
    assert summary["accepted"] == 2 * VOTERS, summary
    # The two cards left over are voided: their codes stay on the scrutineers' machine, which
    # makes void lines from them; the tally gets only those (and refuses the codes, sending nothing).
    (cards_dir / "left.txt").write_text("\n".join(codes[VOTERS:]) + "\n")
    run_cli(["keys", "cards", "void", "--meeting-record", str(tally.data / "public" / "meeting.json"),
             str(cards_dir / "left.txt"), "--out", str(cards_dir / "void.txt")], env)
    refused = run("tally", "cards", "void", "--data", d, str(cards_dir / "left.txt"), env=env)
    assert refused.returncode != 0 and "nothing was sent" in refused.stderr, refused.stderr
    assert "voided 2" in tally.cli("cards", "void", "--data", d, str(cards_dir / "void.txt"))

    # 4. close.
    tally.cli("rounds", "close", "--data", d, "r1")
    tally.cli("rounds", "close", "--data", d, "d1")
    before = round_state(tally, "r1")

    # 5. one share: refused, how many more said, nothing changed.
    s1, s2, s3 = tally.share_files((1, 2, 3))
    done = run("tally", "rounds", "count", "--data", d, "r1", "--share", s2, env=env)
    assert done.returncode != 0 and "还需要 1 个" in done.stderr and "shares_needed" in done.stderr, done.stderr
    assert round_state(tally, "r1") == before and tally.call("GET", "/api/v1/admin/results")["rounds"] == []

    # 6. a damaged share: named, nothing changed.
    damaged = tmp_path / "scrutineer-1-damaged.txt"
    text = Path(s1).read_text()
    line = next(ln for ln in text.splitlines() if ln.startswith("SCRS1.") and ".r1." in ln)
    damaged.write_text(text.replace(line, line[:-6] + ("A" if line[-6] != "A" else "B") + line[-5:]))
    done = run("tally", "rounds", "count", "--data", d, "r1", "--share", str(damaged), "--share", s2, env=env)
    assert done.returncode != 0 and "监票人 1 在轮次 r1 的分片不符" in done.stderr, done.stderr
    assert round_state(tally, "r1") == before

    # 7. two shares: counted.
    counted = json.loads(tally.cli("rounds", "count", "--data", d, "r1", "--share", s1, "--share", s3))
    assert counted["status"] == "counted"
    assert {c["name"]: c["votes"] for c in counted["result"]["posts"][0]["candidates"]} == {"张三": 3, "李四": 1, "王五": 1}

    # 8. the scrutineers count without the tally: count-box over the export prints the same bytes.
    export = tmp_path / "export-r1"
    tally.cli("export", "--data", d, "r1", "--out", str(export))
    assert {"key.json", "credentials.json", "envelopes.jsonl", "public.json", "meeting.yaml", "ballots.jsonl",
            "result.signed.json", "meeting-record.json"} <= {p.name for p in export.iterdir()}
    offline = tmp_path / "another-machine"
    shutil.copytree(export, offline)
    live = tally.cli("results", "--data", d, "--json", "--round", "r1")
    box = run_cli(["tally", "count-box", str(offline), "--share", s2, "--share", s3, "--json"], env)
    assert box == live
    refused = run("tally", "count-box", str(offline), "--share", s3, "--json", env=env)
    assert refused.returncode != 0 and "1 more needed" in refused.stderr
    verified = run_cli(["keys", "verify-box", str(offline), "--credentials", str(cards_dir / "credentials.json")],
                       {**env, **ENGLISH})
    assert f"Card list: fingerprint {fingerprint}, {VOTERS + 2} cards" in verified
    assert "Round r1: 0 ballots by desk unlock" in verified

    # Round d1, closed and exported before its count: its own shares, and only they, open it.
    export_d1 = tmp_path / "export-d1"
    tally.cli("export", "--data", d, "d1", "--out", str(export_d1))
    assert not (export_d1 / "ballots.jsonl").exists()
    r1_lines = tmp_path / "r1-only.txt"
    r1_lines.write_text("\n".join(ln for f in (s1, s2, s3) for ln in Path(f).read_text().splitlines() if ".r1." in ln))
    assert run("tally", "count-box", str(export_d1), "--share", str(r1_lines), env=env).returncode != 0
    tally.cli("rounds", "count", "--data", d, "d1", "--share", s2, "--share", s1)
    assert run_cli(["tally", "count-box", str(export_d1), "--share", s1, "--share", s3, "--json"], env) == tally.cli(
        "results", "--data", d, "--json", "--round", "d1")

    # 9. the whole data directory after the meeting: no share, no round private key, no card secret.
    secrets: dict[str, bytes] = {}
    for f in (s1, s2, s3):
        for ln in Path(f).read_text().splitlines():
            if ln.startswith("SCRS1."):
                share = parse_share(ln)
                secrets[f"share {share.index} {share.round_id}"] = share.value
    for exp in (export, export_d1):
        meeting, custody = parse_custody(json.loads((exp / "key.json").read_text()))
        key = open_round_key(meeting, custody, valid_shares(meeting, custody, [
            ln for f in (s1, s2) for ln in Path(f).read_text().splitlines() if f".{custody.round_id}." in ln]))
        secrets[f"round key {custody.round_id}"] = key.private_bytes()
    for code in codes:
        secrets[f"card {code[:12]}"] = parse_card(code)[1]
    found = {}
    for phase in ("running", "stopped"):
        files = everything_in(tally.data)
        assert any(name.startswith("tally.db") for name in files) and "serve.log" in files
        # The search does find what rests there: r1's public key, and a card's public key for d1.
        r1_public = base64.urlsafe_b64decode(record["rounds"][0]["public_key"] + "=")
        card_public = parse_card(codes[0])
        from keys.cards import card_key

        d1_card = card_key(card_public[1], card_public[0], "d1").public_bytes()
        assert all(any(any(sp in data for sp in spellings(k)) for data in files.values()) for k in (r1_public, d1_card))
        for name, data in files.items():
            for what, secret in secrets.items():
                if any(sp in data for sp in spellings(secret)):
                    found.setdefault(phase, []).append(f"{what} in {name}")
        if phase == "running":
            tally.stop()
    assert found == {}, found
    assert all(code not in (tally.data / "serve.log").read_text(errors="replace") for code in codes)


def test_the_tally_serve_asks_for_the_key_passphrase_or_reads_the_holders_file(fleet: Fleet, tmp_path: Path) -> None:
    """The hall procedure: no passphrase in the environment; a file the holder brings works."""
    tally: TallyProcess = fleet.tally(MEETING, cards=0)
    tally.stop()
    env = {k: v for k, v in tally.env.items() if k != "TALLY_KEY_PASSPHRASE"}
    done = subprocess.run([str(BIN / "tally"), "serve", "--data", str(tally.data), "--port", "1"], env=env,
                          capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)
    assert done.returncode != 0 and "--key-passphrase-file" in done.stderr
    wrong = tmp_path / "wrong"
    wrong.write_text("not the passphrase at all\n")
    done = subprocess.run([str(BIN / "tally"), "serve", "--data", str(tally.data), "--port", "1",
                           "--key-passphrase-file", str(wrong)], env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode != 0 and "wrong key passphrase" in done.stderr
    assert "not the passphrase" not in done.stderr + done.stdout
