"""A red team of issue 8's hostile-input work: each test is an attack that got through it.

In-process where the thing attacked is the tally's app (Flask's and Flask-SocketIO's test
clients over a real data directory and SQLite), real commands where it is a terminal (`tally
count`, `keys verify-box`, `kiosk pair`), a real tally where it is an answer on the wire.
"""
from __future__ import annotations

import re
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tally.services import services
from tests.tally.conftest import MEETING


@dataclass
class Tally:
    """The tally's app over a real data directory (`tests.tally.conftest`), on a clock the test turns."""

    app: Any
    admin: dict[str, str]
    now: datetime

    def client(self) -> Any:
        return self.app.test_client()

    def chair(self) -> tuple[Any, str]:
        """A signed-in console: its client and the CSRF token of its pages."""
        c = self.client()
        r = c.post("/console/login", data={"token": self.admin["Authorization"][7:]}, follow_redirects=True)
        assert r.status_code == 200
        return c, re.search(r'name="csrf" content="([^"]+)"', r.get_data(as_text=True)).group(1)  # type: ignore[union-attr]

    def advance(self, **kw: float) -> None:
        self.now += timedelta(**kw)


@pytest.fixture
def tally(app: Any, admin_headers: dict[str, str]) -> Tally:
    t = Tally(app, admin_headers, datetime(2026, 12, 1, 8, 0))
    services(app).now = lambda: t.now
    return t


def _states(sock: Any) -> list[Any]:
    return [m["args"][0] for m in sock.get_received("/live") if m["name"] == "state"]


def _heard(sock: Any, present: int, timeout: float = 5.0) -> None:
    """Wait until `sock` is told that `present` attendees are signed in."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if any(st["attendance"]["present"] == present for st in _states(sock)):
            return
        time.sleep(0.02)
    raise AssertionError(f"no state with {present} present")


def test_a_console_socket_hears_nothing_once_its_session_is_signed_out_or_expired(tally: Tally) -> None:
    """Before: a Socket.IO connection opened with the chair's cookie (or a copy of it) stayed in
    the console's audience for good, and kept receiving the console's state (kiosks, cards,
    counted results before they are shown) after sign-out and after the session expired."""
    from tally.show.feed import socketio

    rows = [["编号", "姓名"], *([f"{i:03d}", f"代表{i}"] for i in range(1, 9))]
    assert tally.client().post("/api/v1/admin/roster", json={"rows": rows}, headers=tally.admin).status_code == 200
    present = 0

    def sign_in() -> int:  # a change the console hears about
        nonlocal present
        present += 1
        r = tally.client().post("/api/v1/desk/signin", json={"number": f"{present:03d}"}, headers=tally.admin)
        assert r.status_code == 200
        return present

    cli = socketio.test_client(tally.app, namespace="/live", headers=tally.admin)  # the command line's feed
    browser, csrf = tally.chair()
    thief = tally.client()
    thief.set_cookie("scrutineer_session", browser.get_cookie("scrutineer_session").value)
    stolen = socketio.test_client(tally.app, namespace="/live", flask_test_client=thief)
    assert cli.is_connected("/live") and stolen.is_connected("/live")
    _heard(stolen, sign_in())  # heard while the session lives

    assert browser.post("/console/logout", data={"csrf": csrf}).status_code == 302
    _states(stolen)
    _heard(cli, sign_in())  # the tick went out ...
    assert _states(stolen) == []  # ... and not to the signed-out session's socket

    # An hour idle ends a session, and its socket's hearing with it.
    browser, _ = tally.chair()
    idle = socketio.test_client(tally.app, namespace="/live", flask_test_client=browser)
    _heard(idle, sign_in())
    tally.advance(minutes=61)
    _states(idle)
    _heard(cli, sign_in())
    assert _states(idle) == []
    for sock in (cli, stolen, idle):
        sock.disconnect(namespace="/live")


def _xlsx(rows: list[list[str]], *, dimension: str | None = None, last_row: int | None = None,
          prolog: bytes = b"", cell: bytes | None = None) -> bytes:
    """An Excel roster as openpyxl writes it, then its sheet's XML edited as a hostile author would:
    the size it claims (`dimension`), a row far down (`last_row`), a DTD before it, a cell's XML."""
    import io
    import re
    import zipfile

    from openpyxl import Workbook

    wb = Workbook()
    for r in rows:
        wb.active.append(r)
    plain = io.BytesIO()
    wb.save(plain)
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(plain.getvalue())) as zin, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zout:
        for item in zin.infolist():
            data = zin.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                if dimension:
                    data = re.sub(rb'<dimension ref="[^"]*" ?/>', b'<dimension ref="%s"/>' % dimension.encode(), data)
                if last_row:
                    data = data.replace(b"</sheetData>", b'<row r="%d"><c r="A%d" t="inlineStr"><is><t>9</t></is></c></row>'
                                        b"</sheetData>" % (last_row, last_row))
                if cell:
                    data = data.replace(b"</sheetData>", b'<row r="%d">%s</row></sheetData>' % (len(rows) + 1, cell))
                data = prolog + data
            zout.writestr(item, data)
    return out.getvalue()


ROSTER_ROWS = [["编号", "姓名"], ["001", "张三"]]
LAUGHS = (b'<?xml version="1.0"?><!DOCTYPE w [<!ENTITY a "aaaaaaaaaa">'
          + b"".join(b'<!ENTITY a%d "%s">' % (i, (b"&a%d;" % (i - 1) if i > 1 else b"&a;") * 10) for i in range(1, 10))
          + b"]>")


def test_a_hostile_excel_roster_is_refused_not_a_500(tally: Tally) -> None:
    """Before: the rows of an Excel roster or judge pool were parsed outside the reader's error
    handling, so a file whose sheet holds a DTD (billion laughs: expat stops it with an error)
    or a cell that is not what it says answered 500 instead of saying the file is bad."""
    bad = {
        "billion laughs": _xlsx(ROSTER_ROWS, prolog=LAUGHS, cell=b'<c r="A3" t="inlineStr"><is><t>&a9;</t></is></c>'),
        "a number cell that is not a number": _xlsx(ROSTER_ROWS, cell=b'<c r="A3" t="n"><v>not a number</v></c>'),
        "a sheet claiming a million rows": _xlsx(ROSTER_ROWS, dimension="A1:B1048576", last_row=1048576),
    }
    import io

    for path in ("/api/v1/admin/roster", "/api/v1/admin/judges/pool"):
        for what, data in bad.items():
            r = tally.client().post(path, headers=tally.admin, data={"file": (io.BytesIO(data), "roster.xlsx")})
            assert r.status_code == 400, (path, what, r.status_code)
            assert r.get_json()["error"]["code"] == "bad_roster", (path, what)
    assert tally.client().get("/api/v1/admin/state", headers=tally.admin).get_json()["attendance"]["expected"] == 0


def test_a_few_kilobytes_of_excel_cannot_fill_the_tallys_memory(tmp_path: Path) -> None:
    """Before: the reader believed the sheet's own dimension (A1:XFD1048576) and built every
    empty row it claims, 16384 cells wide, from a 5 KB file: gigabytes, then the worker dies.
    Read here in a process held to 1 GiB of address space, as the tally's worker would be by a
    hall machine's memory; the file must be refused as a bad roster, not end in MemoryError."""
    import subprocess
    import sys

    bomb = _xlsx(ROSTER_ROWS, dimension="A1:XFD1048576", last_row=1048576)
    assert len(bomb) < 10_000
    (tmp_path / "bomb.xlsx").write_bytes(bomb)
    probe = (
        "import resource, sys\n"
        "from tally.errors import ApiError\n"
        "from tally.hall.checkin import read_roster_file\n"
        "resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30))\n"
        "try:\n"
        "    read_roster_file('roster.xlsx', open(sys.argv[1], 'rb').read())\n"
        "except ApiError as exc:\n"
        "    print('refused', exc.status, exc.code)\n"
        "except MemoryError:\n"
        "    print('MemoryError')\n"
    )
    done = subprocess.run([sys.executable, "-c", probe, str(tmp_path / "bomb.xlsx")], capture_output=True, text=True,
                          timeout=120, cwd=Path(__file__).resolve().parents[2])
    assert done.stdout.strip() == "refused 400 bad_roster", (done.stdout, done.stderr[-500:])


def _alias_bomb(levels: int = 8) -> str:
    """A YAML flow list of `levels` nested anchors, each ten aliases of the one before: 10**levels
    items for a few hundred bytes (PyYAML builds it as shared references: small until written out)."""
    parts = ['&b0 ["x","x","x","x","x","x","x","x","x","x"]']
    parts += [f"&b{i} [" + ",".join([f"*b{i - 1}"] * 10) + "]" for i in range(1, levels)]
    return "[" + ", ".join(parts) + "]"


BOMBED = {  # where the bomb sits -> a meeting file that puts it there
    "denominator": "  - {id: r1, kind: recommend, expected: 3, posts: [{id: p, seats: 1, candidates: [a, b]}], "
                   "denominator: BOMB}",
    "kind": "  - {id: r1, kind: BOMB}",
    "seats": "  - {id: d1, kind: decide, expected: 3, nominees: [a, b], seats: BOMB}",
    "a threshold preset": "  - {id: d1, kind: decide, expected: 3, nominees: [a]}\npresets: {x: BOMB}",
    "a score tie-break": "  - {id: s1, kind: score, judges: 3, trim: 1, contestants: [a], tie_break: [BOMB]}",
    "a grade value": "  - {id: e1, kind: evaluate, expected: 3, subjects: [a], grade_values: [BOMB, 1, 2, 3]}",
    "a candidate": "  - {id: r1, kind: recommend, expected: 3, posts: [{id: p, seats: 1, candidates: [a, BOMB]}]}",
}


def test_a_few_hundred_bytes_of_meeting_file_cannot_fill_the_memory(tmp_path: Path) -> None:
    """Before: an error about a wrong value wrote the value out with `repr`, and YAML aliases let
    a 500-byte meeting file hold a list of a hundred million strings: `tally init` and `tally
    count` (the auditor's tool) ran out of memory with a traceback instead of naming the line.
    Run as the real `tally count` held to 1 GiB of address space."""
    import resource
    import subprocess
    import sys

    def limited() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30))

    ballots = tmp_path / "ballots.jsonl"
    ballots.write_text("")
    for where, rounds in BOMBED.items():
        meeting = tmp_path / "meeting.yaml"
        meeting.write_text("meeting: {title: t}\nrounds:\n" + rounds.replace("BOMB", _alias_bomb()) + "\n", encoding="utf-8")
        assert meeting.stat().st_size < 1000
        done = subprocess.run([str(Path(sys.executable).parent / "tally"), "count", str(meeting), str(ballots)],
                              capture_output=True, text=True, timeout=120, preexec_fn=limited)
        assert done.returncode == 1 and done.stdout == "", (where, done.stderr[-300:])
        assert "Traceback" not in done.stderr and len(done.stderr.splitlines()) == 1, (where, done.stderr[-300:])
        assert done.stderr.startswith(f"{meeting}:") and "a list" in done.stderr, (where, done.stderr)


ESCAPES = "\x1b]0;pwned\x07\x1b[2J\x1b]52;c;ZWNobyBwd25lZA==\x07\x9b31m\u202e"  # retitle, clear, clipboard, C1 CSI, bidi


def _no_escape(text: str) -> bool:
    return not any(c in text for c in "\x1b\x07\x9b\u202e")


def test_tally_count_never_sends_a_ballot_files_escape_sequences_to_the_terminal(tmp_path: Path) -> None:
    """Before: `tally count` quoted a ballot line's unknown round id (and the names of fields a
    ballot marked invalid may not carry) raw in its one-line error, so a ballot file from someone
    else retitled the auditor's terminal, cleared it, or wrote to its clipboard (OSC 52)."""
    import json
    import subprocess
    import sys

    meeting = tmp_path / "meeting.yaml"
    meeting.write_text("meeting: {title: 某镇}\nrounds:\n  - {id: r1, kind: recommend, expected: 9, present: 9, posts: "
                       "[{id: mayor, seats: 1, candidates: [张三, 李四], write_in: true}]}\n", encoding="utf-8")
    for line in ({"round": "r1" + ESCAPES, "sections": {}},
                 {"round": "r1", "invalid": True, ESCAPES: 1},
                 {"round": "r1", "sections": {"mayor" + ESCAPES: ["张三"]}},
                 {"round": "r1", "sections": {"mayor": ["张三" + ESCAPES]}}):
        ballots = tmp_path / "ballots.jsonl"
        ballots.write_text(json.dumps(line) + "\n", encoding="utf-8")
        done = subprocess.run([str(Path(sys.executable).parent / "tally"), "count", str(meeting), str(ballots)],
                              capture_output=True, text=True, timeout=60)
        assert done.returncode == 1 and done.stdout == "", done.stderr
        assert _no_escape(done.stderr), done.stderr
        assert done.stderr.startswith(f"{ballots}:1: ") and "\\x1b]0;pwned\\x07" in done.stderr, done.stderr


def test_keys_verify_box_never_sends_an_exports_escape_sequences_to_the_terminal(tmp_path: Path) -> None:
    """Before: `keys verify-box` named a line's unknown round raw, so an export handed to an
    auditor could drive the auditor's terminal (escape sequences in `envelopes.jsonl`)."""
    import json
    import os
    import subprocess
    import sys

    from tests.keys.test_cli import Export

    export = Export(tmp_path)
    export.write()
    with open(tmp_path / "envelopes.jsonl", "a", encoding="utf-8") as f:
        f.write(json.dumps({"round": "r1" + ESCAPES, "body": {}, "entry": "0" * 64}) + "\n")
    done = subprocess.run([str(Path(sys.executable).parent / "keys"), "verify-box", str(tmp_path)], capture_output=True,
                          text=True, timeout=60, env=dict(os.environ, LANGUAGE="en"))
    assert done.returncode == 1
    assert "line 6: round r1\\x1b]0;pwned\\x07" in done.stderr, done.stderr
    assert _no_escape(done.stdout + done.stderr), done.stderr


def test_kiosk_pair_never_prints_an_impostors_escape_sequences(tmp_path: Path) -> None:
    """Before: `kiosk pair` printed the pairing refusal's code and message as the answering machine
    sent them, and the kiosk agent logged them so. Before the tally's key is checked, whoever
    answers at the offer's address (an impostor on the LAN) is that machine: its refusal drove
    the technician's terminal and could forge lines in the kiosk's log."""
    import json
    import os
    import subprocess
    import sys
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    from keys.fingerprint import fingerprint
    from keys.identity import Identity
    from keys.pairing import PairingOffer
    from tests.harness import KIOSK_PASS

    class Impostor(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length", 0)))
            body = json.dumps({"error": {"code": "x" + ESCAPES, "message": "refused\n2026-12-01 INFO kiosk: forged" + ESCAPES}})
            self.send_response(403)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(body.encode())

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Impostor)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        offer = PairingOffer(url=f"http://127.0.0.1:{server.server_address[1]}", code="abcdefgh",
                             fingerprint=fingerprint(Identity.generate().public_bytes())).to_url()
        done = subprocess.run([str(Path(sys.executable).parent / "kiosk"), "pair", offer, "--data", str(tmp_path / "k")],
                              capture_output=True, text=True, timeout=60, env=dict(os.environ, KIOSK_PASSPHRASE=KIOSK_PASS))
    finally:
        server.shutdown()
        server.server_close()
    assert done.returncode == 1
    assert "the tally refused pairing" in done.stderr and "\\x1b]0;pwned\\x07" in done.stderr, done.stderr
    assert _no_escape(done.stderr) and len(done.stderr.splitlines()) == 1, done.stderr


def test_the_live_feeds_endpoint_answers_like_every_other_and_logs_a_strangers_request_as_text(tmp_path: Path) -> None:
    """Before, on a real `tally serve`: the Socket.IO endpoint answers before Flask, so its answers
    carried no Content-Security-Policy, no `nosniff` and no `no-store` (docs/security.md said every
    answer did). Its polling answers are plain text that may echo the request, and Engine.IO
    still speaks JSONP (`j=`): without `nosniff`, `<script src="/socket.io/?…&j=0">` is a
    same-origin script that `script-src 'self'` lets run. And it logged a stranger's unknown
    session id raw: an escape sequence or a line break in a query string reached the operator's
    terminal and forged a line of the tally's log."""
    import requests

    from tests.harness import TallyProcess

    tally = TallyProcess(tmp_path / "data", MEETING).start()
    try:
        bait = "\x1b]0;pwned\x07\n2026-12-01 ERROR tally: forged line<script>"
        for query in ({"EIO": "4", "transport": "polling"}, {"EIO": "4", "transport": "polling", "j": "0"},
                      {"EIO": "4", "transport": "polling", "sid": bait}):
            r = requests.get(tally.url + "/socket.io/", params=query, timeout=10)
            assert r.status_code in (200, 400), (query, r.status_code)
            assert r.headers.get("X-Content-Type-Options") == "nosniff", query
            assert "script-src 'self'" in r.headers.get("Content-Security-Policy", ""), query
            assert r.headers.get("Cache-Control") == "no-store" and r.headers.get("X-Frame-Options") == "DENY", query
    finally:
        tally.stop()
    log = (tmp_path / "data" / "serve.log").read_text(encoding="utf-8", errors="replace")
    assert "Invalid session" in log
    assert "\x1b" not in log and "\x07" not in log and "\nforged" not in log and "\n2026-12-01 ERROR" not in log, log
    assert "\\x1b]0;pwned\\x07\\n2026-12-01 ERROR tally: forged line" in log, log


def test_refusals_by_http_status_speak_chinese_first(tally: Tally) -> None:
    """Before: a body over the limit (413), a method a route does not take (405) and a bare 403
    answered in English whatever the language: their messages were never marked for translation."""
    c = tally.client()
    big = c.post("/api/v1/envelopes", data=b'{"a":"' + b"a" * (300 * 1024) + b'"}', content_type="application/json")
    wrong = c.delete("/api/v1/envelopes")
    assert (big.status_code, big.get_json()["error"]["code"]) == (413, "too_large")
    assert (wrong.status_code, wrong.get_json()["error"]["code"]) == (405, "method_not_allowed")
    assert big.get_json()["error"]["message"] == "请求内容过大。"
    assert wrong.get_json()["error"]["message"] == "此地址不接受该请求方法。"
    assert c.delete("/api/v1/envelopes?lang=en").get_json()["error"]["message"] == "This address does not accept that method."


def test_a_score_off_the_step_by_less_than_decimals_can_see_is_refused(tmp_path: Path) -> None:
    """Before: the step check computed `(score - min) % step` in Decimal's 28 digits, so a score
    line of 50.000…0001 (40 zeros) passed as on the step of 0.1 and counted exactly as written:
    a hand-made ballot file (or a rebuilt judge's kiosk) could tip a tie no judge could type."""
    import json
    import subprocess
    import sys

    meeting = tmp_path / "meeting.yaml"
    meeting.write_text("meeting: {title: t}\nrounds:\n  - {id: s1, kind: score, judges: 3, trim: 1, min: 0, max: 100, "
                       "step: '0.1', contestants: [甲]}\n", encoding="utf-8")
    ballots = tmp_path / "ballots.jsonl"
    lines = [{"round": "s1", "judge": f"J0{i}", "contestant": "甲", "score": s}
             for i, s in enumerate(["50.0", "60.5", "50." + "0" * 40 + "1"], start=1)]
    ballots.write_text("".join(json.dumps(x) + "\n" for x in lines), encoding="utf-8")
    done = subprocess.run([str(Path(sys.executable).parent / "tally"), "count", str(meeting), str(ballots), "--json"],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 1 and done.stdout == "", done.stdout
    assert done.stderr.startswith(f"{ballots}:3: ") and "is not on the step 0.1" in done.stderr, done.stderr


def _tally_init(tmp_path: Path, meeting: Path) -> Any:
    """The real `tally init` of `meeting` into `tmp_path/data` (with the scrutineers' custody
    options when this tally's `init` takes them)."""
    import os
    import subprocess
    import sys

    tally = str(Path(sys.executable).parent / "tally")
    custody = ["--scrutineers", "3", "--quorum", "2", "--shares-out", str(tmp_path / "shares")]
    takes = "--scrutineers" in subprocess.run([tally, "init", "--help"], capture_output=True, text=True, timeout=60).stdout
    env = dict(os.environ, TALLY_KEY_PASSPHRASE="a long key passphrase for a test",
               TALLY_SCRUTINEER_PASSPHRASE="another long one")
    return subprocess.run([tally, "init", "--data", str(tmp_path / "data"), "--meeting", str(meeting),
                           *(custody if takes else [])], capture_output=True, text=True, timeout=120, env=env)


def test_a_round_id_the_wire_cannot_carry_is_refused_by_tally_init_before_anything_is_made(tmp_path: Path) -> None:
    """Before: the meeting file took a round id of any length, the wire (signatures, sealing,
    paths) only 1-64 characters: a 65-character id made `tally init` end in a traceback after it
    had written the secrets and the database, and running it again failed on what it had left."""

    meeting = tmp_path / "meeting.yaml"
    meeting.write_text("meeting: {title: t}\nrounds:\n  - {id: " + "r" * 65 + ", kind: decide, expected: 3, nominees: [a]}\n",
                       encoding="utf-8")
    done = _tally_init(tmp_path, meeting)
    assert done.returncode == 1 and "Traceback" not in done.stderr, done.stderr[-500:]
    assert f"{meeting}:3: rounds[0].id:" in done.stderr and "at most 64" in done.stderr, done.stderr
    assert not (tmp_path / "data").exists()


@pytest.mark.parametrize("rounds", [
    "  - {id: d1, kind: decide, expected: 99999999999999999999, nominees: [a]}",
    "  - {id: d1, kind: decide, expected: 3000000000, nominees: [a]}",  # past PostgreSQL's integer column
    "  - {id: s1, kind: score, judges: 100000000, trim: 1, contestants: [a]}",  # 10**8 judge cards to print
])
def test_a_count_no_meeting_has_is_refused_by_tally_init_before_anything_is_made(tmp_path: Path, rounds: str) -> None:
    """Before: whole numbers had no upper bound: `expected: 99999999999999999999` ended `tally init`
    in an OverflowError after the secrets were written (3000000000 the same on PostgreSQL), and a
    panel of 10**8 judges was taken, to be printed as cards."""

    meeting = tmp_path / "meeting.yaml"
    meeting.write_text("meeting: {title: t}\nrounds:\n" + rounds + "\n", encoding="utf-8")
    done = _tally_init(tmp_path, meeting)
    assert done.returncode == 1 and "Traceback" not in done.stderr, done.stderr[-500:]
    assert f"{meeting}:3: rounds[0]." in done.stderr and "must be at most" in done.stderr, done.stderr
    assert not (tmp_path / "data").exists()
