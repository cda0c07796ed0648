"""Shared set-up for benchmarks and end-to-end tests: real tally and kiosk processes on loopback.

`TallyProcess` runs `tally init` (three scrutineers, any two open a round; their files beside
the data directory) and `tally serve` (gunicorn, gevent worker) in a temporary data directory,
waits until it answers, makes the meeting's ballot cards with the scrutineers' tool (`keys cards
make`) and imports their list (`tally cards import`) before any round opens, and drives it
through the same admin API as the console. `KioskProcess` runs `kiosk pair` and `kiosk serve`
for one kiosk agent. Each server runs in its own process group, so a kill takes its workers with
it. Traffic goes to 127.0.0.1 only. Passphrases come from the environment here: scripted tests
only (the hall procedure types them or reads the holder's file).
"""
from __future__ import annotations

import io
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import requests

BIN = Path(sys.executable).parent
KEY_PASS = "bench key passphrase"
KIOSK_PASS = "bench kiosk passphrase"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def run_cli(args: list[str], env: dict[str, str], *, timeout: float = 120, cwd: Path | None = None) -> str:
    """Run one of the project's commands (`tally`, `kiosk`, `keys`, ...); its stdout, or an error
    that carries its stderr."""
    done = subprocess.run([str(BIN / args[0]), *args[1:]], env=env, cwd=cwd, capture_output=True,
                          text=True, timeout=timeout)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(args[:3])} exited {done.returncode}: {done.stderr[-2000:]}")
    return done.stdout


def _stop_group(proc: subprocess.Popen[bytes] | None, sig: int) -> None:
    """Signal a server's whole process group; escalate to SIGKILL if it does not exit."""
    if proc is None or proc.poll() is not None:
        return
    try:
        os.killpg(proc.pid, sig)
        proc.wait(15)
    except ProcessLookupError:
        pass
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(15)


def _wait_answering(proc: subprocess.Popen[bytes], url: str, log: Path, what: str, timeout: float = 30,
                    verify: bool | str = True) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{what} exited: " + log.read_text(errors="replace")[-2000:])
        try:
            if requests.get(url, timeout=1, verify=verify).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"{what} did not start")


class TallyProcess:
    """`tls=True`: `tally init --tls-name 127.0.0.1` and `tally serve --tls`; requests trust the
    data directory's own certificate (`self.verify`), as the command line does."""

    def __init__(self, data_dir: Path, meeting_yaml: str, *, env: dict[str, str] | None = None, workers: int = 1,
                 tls: bool = False, cards: int = 64) -> None:
        self.data = data_dir
        self.port = free_port()
        self.tls = tls
        self.url = f"{'https' if tls else 'http'}://127.0.0.1:{self.port}"
        self.env = dict(os.environ, TALLY_KEY_PASSPHRASE=KEY_PASS, **(env or {}))
        self.workers = workers
        self.shares = data_dir.parent / (data_dir.name + "-shares")
        self.card_dir = data_dir.parent / (data_dir.name + "-cards")
        self.card_count = cards
        self._cards: list[str] | None = None
        meeting = data_dir.parent / (data_dir.name + "-meeting.yaml")
        meeting.write_text(meeting_yaml, encoding="utf-8")
        done = subprocess.run([str(BIN / "tally"), "init", "--data", str(data_dir), "--meeting", str(meeting),
                               "--scrutineers", "3", "--quorum", "2", "--shares-out", str(self.shares),
                               *(["--tls-name", "127.0.0.1"] if tls else [])],
                              env=self.env, check=True, capture_output=True, text=True)
        self.init_output = done.stdout
        self.verify: bool | str = str(data_dir / "tls-cert.pem") if tls else True
        self.proc: subprocess.Popen[bytes] | None = None
        self.http = requests.Session()
        self.http.headers["Authorization"] = "Bearer " + (data_dir / "secrets" / "admin-token").read_text().strip()

    def start(self) -> TallyProcess:
        """Serve (again, after a kill: same data directory, same port)."""
        if getattr(self, "log", None):
            self.log.close()
        self.log = open(self.data / "serve.log", "ab")
        self.proc = subprocess.Popen([str(BIN / "tally"), "serve", "--data", str(self.data), "--port", str(self.port),
                                      "--workers", str(self.workers), *(["--tls"] if self.tls else [])],
                                     env=self.env, stdout=self.log, stderr=self.log, start_new_session=True)
        _wait_answering(self.proc, self.url + "/api/v1/ballot", self.data / "serve.log", "tally serve", verify=self.verify)
        if self._cards is None and self.card_count:
            self.make_cards(self.card_count)
        return self

    def make_cards(self, n: int) -> None:
        """The scrutineers make `n` cards on "their machine" (`keys cards make`) and the chair imports the list."""
        run_cli(["keys", "cards", "make", "--meeting-record", str(self.data / "public" / "meeting.json"),
                 "--count", str(n), "--out", str(self.card_dir), "--no-pdf"], self.env, timeout=600)
        self.cli("cards", "import", "--data", str(self.data), str(self.card_dir / "credentials.json"))
        self._cards = (self.card_dir / "cards.txt").read_text(encoding="ascii").split()

    def share_files(self, who: tuple[int, ...] = (1, 2)) -> list[str]:
        return [str(self.shares / f"scrutineer-{i}.txt") for i in who]

    def shares_for(self, round_id: str, who: tuple[int, ...] = (1, 2)) -> list[str]:
        """The share lines of scrutineers `who` for one round (what the console's dialog sends)."""
        out = []
        for path in self.share_files(who):
            out += [ln for ln in Path(path).read_text(encoding="utf-8").splitlines()
                    if ln.startswith("SCRS1.") and ln.split(".")[2] == round_id]
        return out

    def count(self, round_id: str) -> Any:
        """Count a round with two scrutineers' shares."""
        return self.round(round_id, "count", {"shares": self.shares_for(round_id)})

    def kill(self, sig: int = signal.SIGKILL) -> None:
        _stop_group(self.proc, sig)

    def stop(self) -> None:
        self.kill(signal.SIGTERM)
        if getattr(self, "log", None):
            self.log.close()
            self.log = None

    def cli(self, *args: str, timeout: float = 120) -> str:
        """Run `tally ARGS` with this tally's passphrases in the environment; its stdout."""
        return run_cli(["tally", *args], self.env, timeout=timeout)

    def call(self, method: str, path: str, body: Any = None, **kw: Any) -> Any:
        r = self.http.request(method, self.url + path, json=body, timeout=120, verify=self.verify, **kw)
        if r.status_code >= 400:
            raise RuntimeError(f"{method} {path}: {r.status_code} {r.text[:300]}")
        return r.json()

    def roster(self, n: int) -> None:
        csv = "编号,姓名,类别\n" + "".join(f"{i:05d},代表{i},代表\n" for i in range(1, n + 1))
        self.call("POST", "/api/v1/admin/roster", files={"file": ("roster.csv", io.BytesIO(csv.encode()))})
        self.call("POST", "/api/v1/desk/signin", {"all": True})

    def cards(self, n: int) -> list[str]:
        """`n` card codes of the imported list no caller has taken yet (counted out like paper ballots)."""
        if self._cards is None:
            raise RuntimeError("no card list yet: start the tally first")
        if len(self._cards) < n:
            raise RuntimeError(f"the card list holds {len(self._cards)} unused cards, {n} wanted: pass cards=")
        taken, self._cards = self._cards[:n], self._cards[n:]
        return taken

    def offers(self, n: int) -> list[str]:
        return self.call("POST", "/api/v1/admin/offers", {"count": n, "preconfirm": True})["offers"]

    def round(self, round_id: str, action: str, body: dict[str, Any] | None = None) -> Any:
        return self.call("POST", f"/api/v1/admin/rounds/{round_id}/{action}", body or {})

    def __enter__(self) -> TallyProcess:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


class KioskProcess:
    """One kiosk agent: `kiosk pair` into its own data directory, then `kiosk serve` on a free port."""

    def __init__(self, data_dir: Path, *, env: dict[str, str] | None = None, heartbeat_seconds: float = 1,
                 receipt_seconds: int = 8) -> None:
        self.data = data_dir
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = dict(os.environ, KIOSK_PASSPHRASE=KIOSK_PASS, **(env or {}))
        self.heartbeat_seconds = heartbeat_seconds
        self.receipt_seconds = receipt_seconds
        self.proc: subprocess.Popen[bytes] | None = None
        self.log: Any = None
        self.kiosk_id = ""
        self.fingerprint = ""

    def pair(self, offer: str, name: str) -> str:
        """Pair from an offer URL; returns the standing the tally gave (`active` or `pending`)."""
        out = run_cli(["kiosk", "pair", offer, "--data", str(self.data), "--name", name], self.env)
        first, _, fp = out.strip().splitlines()
        # "paired as kiosk <id> for meeting <m> (<status>)" / "kiosk fingerprint …:" / "  <fingerprint>"
        words = first.split()
        self.kiosk_id, self.fingerprint = words[3], fp.strip()
        return words[-1].strip("()")

    def start(self) -> KioskProcess:
        if self.log is not None:
            self.log.close()
        self.log = open(self.data / "serve.log", "ab")
        self.proc = subprocess.Popen(
            [str(BIN / "kiosk"), "serve", "--data", str(self.data), "--port", str(self.port),
             "--heartbeat-seconds", str(self.heartbeat_seconds), "--receipt-seconds", str(self.receipt_seconds)],
            env=self.env, stdout=self.log, stderr=self.log, start_new_session=True)
        _wait_answering(self.proc, self.url + "/api/state", self.data / "serve.log", "kiosk serve")
        return self

    def kill(self, sig: int = signal.SIGKILL) -> None:
        _stop_group(self.proc, sig)

    def stop(self) -> None:
        self.kill(signal.SIGTERM)
        if self.log is not None:
            self.log.close()
            self.log = None

    def call(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        """The kiosk page's JSON API: (HTTP status, answer)."""
        r = requests.request(method, self.url + path, json=body, timeout=30)
        return r.status_code, r.json()

    def vote(self, card: str, rounds: dict[str, Any]) -> list[str]:
        """One voter at this kiosk, through its page API: the card, then the cast; the receipt codes."""
        status, session = self.call("POST", "/api/card", {"card": card})
        if status != 200:
            raise RuntimeError(f"kiosk refused the card: {status} {session}")
        status, done = self.call("POST", "/api/cast", {"session": session["session"], "rounds": rounds})
        if status != 201:
            raise RuntimeError(f"kiosk refused the cast: {status} {done}")
        return list(done["receipts"])


def print_json(doc: Any) -> None:
    print(json.dumps(doc, ensure_ascii=False, indent=1))
