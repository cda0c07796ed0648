"""Shared set-up for benchmarks and end-to-end tests: a real tally process on loopback.

`TallyProcess` runs `tally init` and `tally serve` (gunicorn, gevent worker) in a temporary
data directory, waits until it answers, and drives it through the same admin API as the
console. Traffic goes to 127.0.0.1 only.
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
SCRUTINEER = "bench scrutineer passphrase"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class TallyProcess:
    def __init__(self, data_dir: Path, meeting_yaml: str, *, env: dict[str, str] | None = None, workers: int = 1) -> None:
        self.data = data_dir
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = dict(os.environ, TALLY_KEY_PASSPHRASE=KEY_PASS, TALLY_SCRUTINEER_PASSPHRASE=SCRUTINEER, **(env or {}))
        self.workers = workers
        meeting = data_dir.parent / (data_dir.name + "-meeting.yaml")
        meeting.write_text(meeting_yaml, encoding="utf-8")
        subprocess.run([str(BIN / "tally"), "init", "--data", str(data_dir), "--meeting", str(meeting)],
                       env=self.env, check=True, capture_output=True)
        self.proc: subprocess.Popen[bytes] | None = None
        self.http = requests.Session()
        self.http.headers["Authorization"] = "Bearer " + (data_dir / "secrets" / "admin-token").read_text().strip()

    def start(self) -> "TallyProcess":
        self.log = open(self.data / "serve.log", "ab")
        self.proc = subprocess.Popen([str(BIN / "tally"), "serve", "--data", str(self.data), "--port", str(self.port),
                                      "--workers", str(self.workers)], env=self.env, stdout=self.log, stderr=self.log,
                                     start_new_session=True)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("tally serve exited: " + (self.data / "serve.log").read_text()[-2000:])
            try:
                if requests.get(self.url + "/api/v1/ballot", timeout=1).status_code == 200:
                    return self
            except requests.RequestException:
                pass
            time.sleep(0.1)
        raise RuntimeError("tally did not start")

    def kill(self, sig: int = signal.SIGKILL) -> None:
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, sig)
            self.proc.wait(15)

    def stop(self) -> None:
        self.kill(signal.SIGTERM)
        if getattr(self, "log", None):
            self.log.close()

    def call(self, method: str, path: str, body: Any = None, **kw: Any) -> Any:
        r = self.http.request(method, self.url + path, json=body, timeout=120, **kw)
        if r.status_code >= 400:
            raise RuntimeError(f"{method} {path}: {r.status_code} {r.text[:300]}")
        return r.json()

    def roster(self, n: int) -> None:
        csv = "编号,姓名,类别\n" + "".join(f"{i:05d},代表{i},代表\n" for i in range(1, n + 1))
        self.call("POST", "/api/v1/admin/roster", files={"file": ("roster.csv", io.BytesIO(csv.encode()))})
        self.call("POST", "/api/v1/desk/signin", {"all": True})

    def cards(self, n: int) -> list[str]:
        out: list[str] = []
        while len(out) < n:
            out += self.call("POST", "/api/v1/admin/cards", {"count": min(5000, n - len(out)), "issued": True})["cards"]
        return out

    def offers(self, n: int) -> list[str]:
        return self.call("POST", "/api/v1/admin/offers", {"count": n, "preconfirm": True})["offers"]

    def round(self, round_id: str, action: str, body: dict[str, Any] | None = None) -> Any:
        return self.call("POST", f"/api/v1/admin/rounds/{round_id}/{action}", body or {})

    def __enter__(self) -> "TallyProcess":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def print_json(doc: Any) -> None:
    print(json.dumps(doc, ensure_ascii=False, indent=1))
