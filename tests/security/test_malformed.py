"""A stranger on the hall LAN sends every malformed request there is, to every route of both apps.

The review found 500s (deep nesting on every JSON route, a non-ASCII display token or CSRF header,
a seat of 10**30, a lone surrogate in an id or a write-in) and wrong accepts (`true` taken as seat
1, control characters in write-ins). Here a table of malformed requests goes over real HTTP to a
running tally and a running kiosk agent: deep nesting, duplicate keys, non-UTF-8, NaN, integers
out of range, booleans where numbers go, surrogates and control characters in bodies, ids, query
strings and tokens, non-ASCII and over-long tokens, wrong content types, oversize bodies, wrong
methods, a foreign `Host` (DNS rebinding) at the kiosk; and, since the scrutineers hold the keys
(issue 9), card lists that are not this meeting's or come too late, card codes that cannot be
read, and shares that are missing, too few, damaged, another round's or another meeting's, even
valid ones without the CSRF token. Every row must answer a JSON 4xx with an error code, and the
database (the tally's `tally.db`, the kiosk's `outbox.sqlite`) must be the same, row for row,
before and after. A last test checks the modes of every file the programs wrote during the run
(the tally, the kiosk, the scrutineers' shares and cards): directories 0700, files 0600.
"""
from __future__ import annotations

import io
import json
import os
import re
import stat
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import requests
from flask import Flask

from keys.canonical import b64e
from keys.cards import Card, new_card, parse_card
from keys.credentials import make_cards, void_lines
from keys.identity import Identity
from keys.pairing import PairingOffer
from keys.record import parse_record
from keys.request import sign_request
from tests.e2e.conftest import Fleet
from tests.e2e.support import wait_drained, wait_for
from tests.harness import BIN, KioskProcess, TallyProcess

from .conftest import sql_dump

MEETING = """
meeting:
  title: 恶意请求测试
rounds:
  - id: r1
    kind: recommend
    title: 推荐
    expected: 4
    posts:
      - {id: mayor, title: 镇长, seats: 1, candidates: [张三, 李四], write_in: true}
  - id: d1
    kind: decide
    title: 票决
    expected: 4
    nominees: [王五]
  - id: s1
    kind: score
    title: 面试
    judges: 3
    trim: 1
    contestants: [甲, 乙]
"""
ROSTER = "编号,姓名\n" + "".join(f"{i:03d},代表{i}\n" for i in range(1, 5))
POOL = "编号,姓名\n" + "".join(f"P{i},评委{i}\n" for i in range(1, 5))
DEEP = b'{"a":' + b"[" * 5000 + b"]" * 5000 + b"}"
NESTED = "[" * 40 + "]" * 40  # deeper than the reader's 32, far shallower than Python's limit
OTHER_MEETING = "0123456789abcdef"


@dataclass
class Row:
    """One malformed request: what is sent, and the error code it must get (None: any code)."""

    name: str
    method: str
    path: str
    body: bytes | None = None
    content_type: str | None = "application/json"
    headers: dict[str, str] = field(default_factory=dict)
    code: str | None = None
    auth: str = "admin"  # admin (Bearer) | chair (the console's cookie) | none
    files: dict[str, Any] | None = None


def j(obj: Any) -> bytes:
    return json.dumps(obj, ensure_ascii=False).encode()


def ja(obj: Any) -> bytes:
    """JSON with every non-ASCII character escaped: how a lone surrogate travels (`"\\ud800"`)."""
    return json.dumps(obj).encode()


def raw(text: str) -> bytes:
    """JSON text as typed (to send what json.dumps would not: duplicate keys, lone surrogates, NaN)."""
    return text.encode("utf-8", "surrogatepass")


class Lan:
    def __init__(self, tally: TallyProcess, kiosk: KioskProcess, signer: Identity, signer_id: str,
                 chair: requests.Session, csrf: str, voter_session: str, cards: list[str]) -> None:
        self.tally, self.kiosk, self.signer, self.signer_id = tally, kiosk, signer, signer_id
        self.chair, self.csrf, self.voter_session, self.cards = chair, csrf, voter_session, cards
        self.lists: dict[str, Any] = {}  # card lists: this meeting's, and ones that are not
        self.void = ""  # a void line of one of this meeting's cards (keys cards void)
        self.desk_token = ""

    def signed(self, payload: Any) -> bytes:
        return j(sign_request(self.signer, self.signer_id, payload, int(time.time())))


@pytest.fixture(scope="module")
def lan(module_fleet: Fleet) -> Lan:
    tally = module_fleet.tally(MEETING)
    tally.call("POST", "/api/v1/admin/roster", files={"file": ("roster.csv", io.BytesIO(ROSTER.encode()))})
    tally.call("POST", "/api/v1/desk/signin", {"all": True})
    tally.call("POST", "/api/v1/admin/judges/pool", files={"file": ("pool.csv", io.BytesIO(POOL.encode()))})
    tally.call("POST", "/api/v1/admin/rounds/s1/draw", {"seed": "fixed"})
    tally.call("POST", "/api/v1/admin/rounds/s1/judge-cards", {})
    kiosk = module_fleet.kiosk("kiosk")
    assert kiosk.pair(tally.offers(1)[0], "终端") == "active"
    kiosk.start()
    # A kiosk of our own (a key in this process) for the tally's signed-request routes.
    offer = PairingOffer.parse(tally.offers(1)[0])
    signer = Identity.generate()
    paired = requests.post(tally.url + "/api/v1/kiosks/pair", timeout=10, json={
        "code": offer.code, "public_key": b64e(signer.public_bytes()), "name": "测试"}).json()
    tally.round("d1", "open")
    tally.round("d1", "close")  # closed, not counted: the rows below try to count it
    tally.round("r1", "open")
    tally.round("s1", "open")
    tally.call("POST", "/api/v1/admin/rounds/s1/next", {"contestant": "甲"})  # a contestant is being scored
    cards = tally.cards(4)
    wait_for(lambda: kiosk.call("GET", "/api/state")[1]["rounds"] == 1, "the kiosk to see r1", 30)
    kiosk.vote(cards[0], {"r1": {"sections": {"mayor": ["钱七"]}}})
    wait_drained(kiosk, 1)
    status, voter = kiosk.call("POST", "/api/card", {"card": cards[1]})  # a voter at the screen now
    assert status == 200, voter
    chair = requests.Session()
    r = chair.post(tally.url + "/console/login", data={"token": (tally.data / "secrets" / "admin-token").read_text().strip()})
    assert r.status_code == 200
    csrf = re.search(r'name="csrf" content="([^"]+)"', r.text).group(1)  # type: ignore[union-attr]
    lan = Lan(tally, kiosk, signer, paired["kiosk_id"], chair, csrf, voter["session"], cards[2:])
    lan.lists = card_lists(tally.call("GET", "/api/v1/admin/meeting-record"))
    rounds = parse_record(tally.call("GET", "/api/v1/admin/meeting-record")).card_rounds
    lan.void = void_lines([Card(*parse_card(cards[0]))], rounds)[0]
    lan.desk_token = tally.call("GET", "/api/v1/admin/links")["desk"].split("t=", 1)[1]
    return lan


def card_lists(record: dict[str, Any]) -> dict[str, Any]:
    """Card lists made as `keys cards make` makes them: one of this meeting (too late: a round is
    open), one of another meeting, one from another record of this meeting, and two damaged."""
    _cards, ours = make_cards(parse_record(record), 3)
    _cards, theirs = make_cards(parse_record({**record, "meeting": OTHER_MEETING}), 3)
    _cards, retitled = make_cards(parse_record({**record, "title": record["title"] + "（改）"}), 3)
    broken = {**ours, "fingerprint": theirs["fingerprint"]}
    shuffled = {**ours, "rounds": {**ours["rounds"], "r1": ours["rounds"]["r1"][::-1]}}
    return {"ours": ours, "theirs": theirs, "retitled": retitled, "broken": broken, "shuffled": shuffled}


def damaged(share: str) -> str:
    """One base32 character of the share's value changed (as a mistyped line would be)."""
    i = len(share) - 8
    return share[:i] + ("A" if share[i] != "A" else "B") + share[i + 1:]


# --- the kiosk agent ------------------------------------------------------------------------

KIOSK_ROUTES = ["/", "/status", "/api/state", "/api/card", "/api/judge", "/api/judge/score", "/api/judge/exit",
                "/api/cancel", "/api/cast", "/static/kiosk/voter.js"]


def kiosk_rows(lan: Lan | None) -> list[Row]:
    token = lan.voter_session if lan else "t"
    rows = [Row(f"foreign Host {p}", "POST" if p.startswith("/api/") and p != "/api/state" else "GET", p,
                j({}), headers={"Host": "evil.test:8100"}, code="bad_host") for p in KIOSK_ROUTES]

    def cast(rounds: Any, session: Any = token) -> bytes:
        return j({"session": session, "rounds": rounds})

    rows += [
        Row("rebinding name", "GET", "/api/state", headers={"Host": "127.0.0.1.evil.test"}, code="bad_host"),
        Row("card: deep nesting", "POST", "/api/card", DEEP, code="too_deep"),
        Row("card: nested 40", "POST", "/api/card", raw('{"card": ' + NESTED + "}"), code="too_deep"),
        Row("card: duplicate keys", "POST", "/api/card", raw('{"card": "a", "card": "b"}'), code="duplicate_key"),
        Row("card: text/plain", "POST", "/api/card", j({"card": "x"}), "text/plain", code="unsupported_media_type"),
        Row("card: a form", "POST", "/api/card", b"card=x", "application/x-www-form-urlencoded",
            code="unsupported_media_type"),
        Row("card: oversize", "POST", "/api/card", j({"card": "x" * 70_000}), code="too_large"),
        Row("card: not UTF-8", "POST", "/api/card", b'{"card": "\xff\xfe"}', code="not_utf8"),
        Row("card: NaN", "POST", "/api/card", raw('{"card": NaN}'), code="bad_number"),
        Row("card: 1e999", "POST", "/api/card", raw('{"card": "x", "form": 1e999}'), code="bad_number"),
        Row("card: 10**30", "POST", "/api/card", raw('{"card": 1000000000000000000000000000000}'), code="bad_number"),
        Row("card: lone surrogate", "POST", "/api/card", raw('{"card": "SCR1.\\ud800"}'), code="bad_text"),
        Row("card: NUL", "POST", "/api/card", raw('{"card": "SCR1.\\u0000"}'), code="bad_text"),
        Row("card: an array", "POST", "/api/card", j([1]), code="malformed"),
        Row("card: empty body", "POST", "/api/card", b"", code="malformed"),
        Row("card: true", "POST", "/api/card", j({"card": True}), code="malformed"),
        Row("cast: non-ASCII session token", "POST", "/api/cast", cast({"r1": {}}, "é" * 32), code="no_session"),
        Row("cast: a number for the token", "POST", "/api/cast", cast({"r1": {}}, 5), code="no_session"),
        Row("cast: write-in with a lone surrogate", "POST", "/api/cast",
            ja({"session": token, "rounds": {"r1": {"sections": {"mayor": ["\udc00"]}}}}), code="bad_text"),
        Row("cast: write-in with NUL", "POST", "/api/cast",
            ja({"session": token, "rounds": {"r1": {"sections": {"mayor": ["钱\u0000七"]}}}}), code="bad_text"),
        Row("cast: write-in with a bidi override", "POST", "/api/cast",
            cast({"r1": {"sections": {"mayor": ["\u202e七钱"]}}}), code="bad_name"),
        Row("cast: write-in with a zero-width space", "POST", "/api/cast",
            cast({"r1": {"sections": {"mayor": ["钱\u200b七"]}}}), code="bad_name"),
        Row("cast: write-in longer than the field", "POST", "/api/cast",
            cast({"r1": {"sections": {"mayor": ["钱" * 33]}}}), code="malformed"),
        Row("cast: deep nesting", "POST", "/api/cast", DEEP, code="too_deep"),
        Row("cast: selection not an object", "POST", "/api/cast", cast({"r1": [1]}), code="malformed"),
        Row("judge: deep nesting", "POST", "/api/judge", DEEP, code="too_deep"),
        Row("judge score: true", "POST", "/api/judge/score", j({"session": "x", "contestant": "甲", "score": True}),
            code="no_session"),
        Row("judge exit: duplicate keys", "POST", "/api/judge/exit", raw('{"session": 1, "session": 2}'),
            code="duplicate_key"),
        Row("cancel: text/plain", "POST", "/api/cancel", j({"session": token}), "text/plain",
            code="unsupported_media_type"),
        Row("PUT card", "PUT", "/api/card", j({}), code="method_not_allowed"),
        Row("GET cast", "GET", "/api/cast", None, None, code="method_not_allowed"),
        Row("unknown", "POST", "/api/nothing", j({}), code="not_found"),
    ]
    return rows


def send(base: str, row: Row, session: requests.Session | None = None, verify: Any = True) -> requests.Response:
    headers = {"Accept": "application/json", **row.headers}
    if row.content_type and row.body is not None:
        headers["Content-Type"] = row.content_type
    http = session or requests
    return http.request(row.method, base + row.path, data=row.body, headers=headers, files=row.files, timeout=30,
                        allow_redirects=False, verify=verify)


def refused(resp: requests.Response, row: Row) -> None:
    assert 400 <= resp.status_code < 500, (row.name, resp.status_code, resp.text[:300])
    try:
        err = resp.json()["error"]
    except (ValueError, KeyError, TypeError):
        raise AssertionError((row.name, resp.status_code, "not a JSON error", resp.text[:300])) from None
    assert err["code"] and err["message"], (row.name, err)
    if row.code is not None:
        assert err["code"] == row.code, (row.name, err)


@pytest.mark.parametrize("row", kiosk_rows(None), ids=lambda r: r.name)
def test_the_kiosk_agent_refuses_and_keeps_its_outbox(lan: Lan, row: Row) -> None:
    row = next(r for r in kiosk_rows(lan) if r.name == row.name)  # with the live voter's token
    outbox = lan.kiosk.data / "outbox.sqlite"
    before = sql_dump(outbox)
    refused(send(lan.kiosk.url, row), row)
    assert sql_dump(outbox) == before, row.name


# --- the tally ------------------------------------------------------------------------------

JSON_POSTS = ["/api/v1/admin/offers", "/api/v1/admin/kiosks/x/confirm", "/api/v1/admin/cards/import",
              "/api/v1/admin/cards/void", "/api/v1/admin/settings", "/api/v1/admin/rounds/d1/shares/check",
              "/api/v1/admin/rounds/d1/count", "/api/v1/admin/rounds/r1/open", "/api/v1/admin/roster",
              "/api/v1/desk/signin", "/api/v1/desk/unlock", "/api/v1/kiosks/pair", "/api/v1/kiosks/heartbeat",
              "/api/v1/kiosks/unlock", "/api/v1/cards/check", "/api/v1/envelopes", "/api/v1/admin/judges/pool",
              "/api/v1/admin/rounds/s1/draw", "/api/v1/admin/rounds/s1/judge-cards", "/api/v1/admin/rounds/s1/order",
              "/api/v1/admin/rounds/s1/next", "/api/v1/admin/rounds/s1/void", "/api/v1/admin/rounds/s1/show"]


def tally_rows(lan: Lan | None) -> list[Row]:
    rows = [Row(f"deep nesting {p}", "POST", p, DEEP, code="too_deep") for p in JSON_POSTS]
    signed = lan.signed if lan else (lambda payload: b"{}")
    card = lan.cards[0] if lan else "SCR1.x"  # a card of the list: voiding it would change rows
    void = lan.void if lan else "SCRV1.x"  # its void line (never sent in a batch that succeeds)
    lists = lan.lists if lan else {k: {} for k in ("ours", "theirs", "retitled", "broken", "shuffled")}
    d1 = lan.tally.shares_for("d1") if lan else ["SCRS1.x.d1.1.x", "SCRS1.x.d1.2.x"]  # two valid: a quorum
    r1 = lan.tally.shares_for("r1") if lan else ["SCRS1.x.r1.1.x", "SCRS1.x.r1.2.x"]
    desk = lan.desk_token if lan else "t"
    rows += [
        # Tokens: non-ASCII, over-long, of the wrong kind.
        Row("non-ASCII projector token", "GET", "/projector?t=%C3%A9%C3%A9", code="unauthorized", auth="none"),
        Row("non-ASCII desk token", "GET", "/desk?t=%E5%BC%A0", code="unauthorized", auth="none"),
        Row("non-ASCII desk token (API)", "GET", "/api/v1/desk/kiosks?t=%E5%BC%A0", code="unauthorized", auth="none"),
        Row("non-ASCII Bearer token", "GET", "/api/v1/admin/state", headers={"Authorization": "Bearer \u00e9\u00e9"},
            code="unauthorized", auth="none"),
        Row("over-long Bearer token", "GET", "/api/v1/admin/links", headers={"Authorization": "Bearer " + "a" * 4_000},
            code="unauthorized", auth="none"),
        Row("non-ASCII CSRF header", "POST", "/api/v1/admin/offers", j({}), headers={"X-CSRF-Token": "\u00e9" * 32},
            code="csrf", auth="chair"),
        Row("empty CSRF header", "POST", "/api/v1/admin/cards/void", j({"lines": [void]}),
            headers={"X-CSRF-Token": ""}, code="csrf", auth="chair"),
        Row("no CSRF token, count with a quorum of valid shares", "POST", "/api/v1/admin/rounds/d1/count",
            j({"shares": d1}), code="csrf", auth="chair"),
        Row("wrong CSRF token, share check", "POST", "/api/v1/admin/rounds/d1/shares/check", j({"share": d1[0]}),
            headers={"X-CSRF-Token": "x" * 43}, code="csrf", auth="chair"),
        Row("no CSRF token, settings", "POST", "/api/v1/admin/settings", j({"desk_unlock": True}), code="csrf",
            auth="chair"),
        Row("no CSRF token, card list file", "POST", "/api/v1/admin/cards/import", None, None,
            files={"file": ("credentials.json", io.BytesIO(j(lists["ours"])))}, code="csrf", auth="chair"),
        Row("custody with the desk's token", "GET", f"/api/v1/admin/custody?t={desk}", code="unauthorized",
            auth="none"),
        Row("meeting record without signing in", "GET", "/api/v1/admin/meeting-record", code="unauthorized",
            auth="none"),
        Row("no CSRF token, judging blueprint", "POST", "/api/v1/admin/rounds/s1/show", j({}), code="csrf",
            auth="chair"),
        Row("no CSRF token, judge pool", "POST", "/api/v1/admin/judges/pool", j({"rows": [["编号", "姓名"]]}),
            code="csrf", auth="chair"),
        Row("no CSRF token, card list import", "POST", "/api/v1/admin/cards/import", j({"v": 1}),
            code="csrf", auth="chair"),
        Row("empty CSRF field, judge card form", "POST", "/console/rounds/s1/judge-cards", b"csrf=",
            "application/x-www-form-urlencoded", code="csrf", auth="chair"),
        Row("no CSRF token, sign-out", "POST", "/console/logout", b"", "application/x-www-form-urlencoded",
            code="csrf", auth="chair"),
        Row("no CSRF token, desk", "POST", "/api/v1/desk/signin", j({"number": "001", "present": False}),
            code="csrf", auth="chair"),
        # Booleans where numbers go (and numbers where booleans go); integers out of range.
        Row("void lines true", "POST", "/api/v1/admin/cards/void", j({"lines": True}), code="bad_count"),
        Row("offer count true", "POST", "/api/v1/admin/offers", j({"count": True}), code="bad_count"),
        Row("offer count 501", "POST", "/api/v1/admin/offers", j({"count": 501}), code="bad_count"),
        Row("void 20001 lines", "POST", "/api/v1/admin/cards/void", j({"lines": ["x"] * 20_001}), code="bad_count"),
        Row("card list of 10**30 cards", "POST", "/api/v1/admin/cards/import",
            raw('{"v": 1, "type": "credentials", "cards": 1000000000000000000000000000000}'), code="bad_number"),
        Row("desk unlock setting 1", "POST", "/api/v1/admin/settings", j({"desk_unlock": 1}), code="malformed"),
        Row("desk unlock setting \"true\"", "POST", "/api/v1/admin/settings", j({"desk_unlock": "true"}),
            code="malformed"),
        Row("judge card seat true", "POST", "/api/v1/admin/rounds/s1/judge-cards", j({"seats": [True]}),
            code="bad_seat"),
        Row("judge card seat 10**30", "POST", "/api/v1/admin/rounds/s1/judge-cards", j({"seats": [10**30]}),
            code="bad_number"),
        Row("judge card seat 2**40", "POST", "/api/v1/admin/rounds/s1/judge-cards", j({"seats": [2**40]}),
            code="bad_seat"),
        Row("void seat true", "POST", "/api/v1/admin/rounds/s1/void", j({"seat": True, "reason": "x"}),
            code="bad_seat"),
        Row("void seat 10**30", "POST", "/api/v1/admin/rounds/s1/void", j({"seat": 10**30, "reason": "x"}),
            code="bad_number"),
        Row("void seat 2**40", "POST", "/api/v1/admin/rounds/s1/void", j({"seat": 2**40, "reason": "x"}),
            code="bad_seat"),
        Row("void seat 2.5", "POST", "/api/v1/admin/rounds/s1/void", j({"seat": 2.5, "reason": "x"}), code="bad_seat"),
        Row("void seat NaN", "POST", "/api/v1/admin/rounds/s1/void", raw('{"seat": NaN, "reason": "x"}'),
            code="bad_number"),
        Row("draw seed Infinity", "POST", "/api/v1/admin/rounds/s1/draw", raw('{"seed": Infinity}'), code="bad_number"),
        # Surrogates and control characters, in bodies, ids and queries.
        Row("unlock kiosk id lone surrogate", "POST", "/api/v1/desk/unlock", raw('{"kiosk": "\\ud800"}'),
            code="bad_text"),
        Row("sign-in number lone surrogate", "POST", "/api/v1/desk/signin", raw('{"number": "\\udfff"}'),
            code="bad_text"),
        Row("sign-in number NUL", "POST", "/api/v1/desk/signin", raw('{"number": "001\\u0000"}'), code="bad_text"),
        Row("next contestant lone surrogate", "POST", "/api/v1/admin/rounds/s1/next",
            raw('{"contestant": "\\ud83d"}'), code="bad_text"),
        Row("order with a control character", "POST", "/api/v1/admin/rounds/s1/order",
            raw('{"order": ["甲\\u0007", "乙"]}'), code="bad_text"),
        Row("void reason NUL", "POST", "/api/v1/admin/rounds/s1/void", raw('{"seat": 1, "reason": "\\u0000"}'),
            code="bad_text"),
        Row("void line lone surrogate", "POST", "/api/v1/admin/cards/void", raw('{"lines": ["SCRV1.\\udc00"]}'),
            code="bad_text"),
        Row("share with a control character", "POST", "/api/v1/admin/rounds/d1/shares/check",
            raw('{"share": "SCRS1.\\u001b[31m"}'), code="bad_text"),
        Row("share check of round NUL", "POST", "/api/v1/admin/rounds/%00/shares/check", j({"share": "x"}),
            code="not_found"),
        Row("pair name lone surrogate", "POST", "/api/v1/kiosks/pair",
            ja({"code": "abcdefgh", "public_key": b64e(b"\x01" * 32), "name": "\ud800"}), code="bad_text"),
        Row("pair name bidi override", "POST", "/api/v1/kiosks/pair",
            j({"code": "abcdefgh", "public_key": b64e(b"\x01" * 32), "name": "\u202e终端"}), code="bad_name"),
        Row("roster rows with a bell", "POST", "/api/v1/admin/roster",
            raw('{"rows": [["编号", "姓名"], ["9", "a\\u0007"]]}'), code="bad_text"),
        Row("roster file with a control character", "POST", "/api/v1/admin/roster", None, None,
            files={"file": ("r.csv", io.BytesIO("编号,姓名\n9,王\x1b五\n".encode()))}, code="bad_roster"),
        Row("roster file with a 40-character number", "POST", "/api/v1/admin/roster", None, None,
            files={"file": ("r.csv", io.BytesIO(("编号,姓名\n" + "9" * 40 + ",王五\n").encode()))}, code="bad_roster"),
        Row("round id NUL", "POST", "/api/v1/admin/rounds/%00/open", j({}), code="not_found"),
        Row("round id not UTF-8", "POST", "/api/v1/admin/rounds/%ED%A0%80/close", j({}), code="not_found"),
        Row("kiosk id 65 characters", "POST", "/api/v1/admin/kiosks/" + "a" * 65 + "/revoke", j({}), code="not_found"),
        Row("export of round NUL", "GET", "/api/v1/admin/rounds/%00/export", code="not_found"),
        Row("sheet of an unknown format", "GET", "/api/v1/admin/rounds/r1/sheet.doc", code="not_found"),
        Row("score sheet of an unknown format", "GET", "/api/v1/admin/rounds/s1/scoresheet.exe", code="not_found"),
        Row("judging of round id with a space", "GET", "/api/v1/admin/rounds/s%201/judging", code="not_found"),
        Row("draw record of round NUL", "GET", "/api/v1/admin/rounds/%00/draw", code="not_found"),
        Row("printable sheet of round NUL", "GET", "/console/rounds/%00/sheet", code="not_found", auth="chair"),
        Row("result sheet page with NUL in its query", "GET", "/api/v1/admin/rounds/r1/sheet.html?file=%00", code="bad_text"),
        Row("the sheets' style with NUL in the query", "GET", "/console/sheet.css?x=%00", code="bad_text"),
        Row("printable draw of round NUL", "GET", "/console/rounds/%00/draw", code="not_found", auth="chair"),
        Row("desk search NUL", "GET", "/api/v1/desk/search?q=%00", code="bad_text"),
        Row("meeting with a control character in the query", "GET", "/api/v1/admin/meeting?x=%01", code="bad_text"),
        Row("results with NUL in a query key", "GET", "/api/v1/admin/results?%00=1", code="bad_text"),
        Row("results of round NUL (tally results --round)", "GET", "/api/v1/admin/results?round=%00",
            code="bad_text"),
        Row("meeting record with NUL in the query", "GET", "/api/v1/admin/meeting-record?x=%00", code="bad_text"),
        Row("custody with DEL in the query", "GET", "/api/v1/admin/custody?x=%7F", code="bad_text"),
        Row("audit with DEL in the query", "GET", "/api/v1/admin/audit?x=%7F", code="bad_text"),
        Row("judging with an over-long query", "GET", "/api/v1/judging?x=" + "a" * 600, code="bad_text"),
        Row("ballot with NUL in the query", "GET", "/api/v1/ballot?x=%00", code="bad_text"),
        Row("published box of round NUL", "GET", "/api/v1/box/%00", code="not_found", auth="none"),
        Row("published box of an unknown round", "GET", "/api/v1/box/zz", code="unknown_round", auth="none"),
        Row("box page with NUL in the query", "GET", "/box?x=%00", code="bad_text", auth="none"),
        Row("box QR code with a control character in the query", "GET", "/box/qr.svg?x=%01", code="bad_text",
            auth="none"),
        Row("state with NUL in the query", "GET", "/api/v1/admin/state?lang=%00", code="bad_text"),
        Row("links with NUL in the query", "GET", "/api/v1/admin/links?x=%00", code="bad_text"),
        Row("console with NUL in the query", "GET", "/console?lang=%00", code="bad_text", auth="chair"),
        Row("index with NUL in the query", "GET", "/?lang=%00", code="bad_text", auth="none"),
        Row("audit page with NUL in the query", "GET", "/console/audit?x=%00", code="bad_text", auth="chair"),
        Row("login with NUL in the token", "POST", "/console/login", b"token=%00", "application/x-www-form-urlencoded",
            code="bad_text", auth="none"),
        Row("login page with NUL in the query", "GET", "/console/login?next=%00", code="bad_text", auth="none"),
        # Duplicate keys, wrong types, wrong content types, oversize, not UTF-8.
        Row("void: duplicate keys", "POST", "/api/v1/admin/cards/void", raw('{"lines": [], "lines": ["x"]}'),
            code="duplicate_key"),
        Row("count: duplicate keys", "POST", "/api/v1/admin/rounds/d1/count",
            raw('{"shares": ' + json.dumps(d1) + ', "shares": []}'), code="duplicate_key"),
        Row("offers: text/plain", "POST", "/api/v1/admin/offers", j({}), "text/plain", code="unsupported_media_type"),
        Row("void: a form", "POST", "/api/v1/admin/cards/void", b"lines=x", "application/x-www-form-urlencoded",
            code="unsupported_media_type"),
        Row("card list: a form", "POST", "/api/v1/admin/cards/import", b"v=1", "application/x-www-form-urlencoded",
            code="unsupported_media_type"),
        Row("card list: text/plain", "POST", "/api/v1/admin/cards/import", j(lists["ours"]), "text/plain",
            code="unsupported_media_type"),
        Row("settings: text/plain", "POST", "/api/v1/admin/settings", j({"desk_unlock": True}), "text/plain",
            code="unsupported_media_type"),
        Row("card list file: nested 40 deep", "POST", "/api/v1/admin/cards/import", None, None,
            files={"file": ("credentials.json", io.BytesIO(raw('{"rounds": ' + NESTED + "}")))}, code="bad_card_list"),
        Row("card list file: not UTF-8", "POST", "/api/v1/admin/cards/import", None, None,
            files={"file": ("credentials.json", io.BytesIO(b'{"v": "\xff"}'))}, code="bad_card_list"),
        Row("card list file: over 16 MiB", "POST", "/api/v1/admin/cards/import", None, None,
            files={"file": ("credentials.json", io.BytesIO(b" " * (17 * 1024 * 1024)))}, code="too_large"),
        Row("desk sign-in: multipart", "POST", "/api/v1/desk/signin", None, None,
            files={"number": (None, "001")}, code="unsupported_media_type"),
        Row("judge card sheet: JSON", "POST", "/console/rounds/s1/judge-cards", j({"count": 1}),
            code="unsupported_media_type"),
        Row("login: JSON", "POST", "/console/login", j({"token": "x"}), code="unsupported_media_type", auth="none"),
        Row("envelope: oversize", "POST", "/api/v1/envelopes", j({"envelope": "A" * 300_000}), code="too_large"),
        Row("roster: oversize file", "POST", "/api/v1/admin/roster", None, None,
            files={"file": ("r.csv", io.BytesIO(b"x" * 300_000))}, code="too_large"),
        Row("envelope: not UTF-8", "POST", "/api/v1/envelopes", b'{"envelope": "\xc3\x28"}', code="not_utf8"),
        Row("envelope: byte-order mark", "POST", "/api/v1/envelopes", b"\xef\xbb\xbf{}", code="not_utf8"),
        Row("envelope: empty", "POST", "/api/v1/envelopes", b"", code="malformed"),
        Row("envelope: an array", "POST", "/api/v1/envelopes", j([]), code="malformed"),
        Row("heartbeat: payload nested 40 deep", "POST", "/api/v1/kiosks/heartbeat",
            raw('{"request": "x", "sig": ' + NESTED + "}"), code="too_deep"),
        Row("card check: keys not an object", "POST", "/api/v1/cards/check", signed({"cards": [1]}), code="malformed"),
        Row("unlock claim: grant a number", "POST", "/api/v1/kiosks/unlock", signed({"grant": 1, "cards": {}}),
            code="malformed"),
        Row("kiosk action unknown", "POST", "/api/v1/admin/kiosks/x/explode", j({}), code="not_found"),
        # The scrutineers' card list: another meeting's, another record's, damaged, or too late.
        Row("card list of another meeting", "POST", "/api/v1/admin/cards/import", j(lists["theirs"]),
            code="wrong_meeting"),
        Row("card list from another meeting record", "POST", "/api/v1/admin/cards/import", j(lists["retitled"]),
            code="wrong_meeting_record"),
        Row("card list with another list's fingerprint", "POST", "/api/v1/admin/cards/import", j(lists["broken"]),
            code="bad_card_list"),
        Row("card list out of key order", "POST", "/api/v1/admin/cards/import", j(lists["shuffled"]),
            code="bad_card_list"),
        Row("card list with a fraction for its meeting", "POST", "/api/v1/admin/cards/import",
            j({**lists["ours"], "meeting": 1.5}), code="bad_card_list"),  # was a 500 (no canonical bytes)
        Row("card list of version 1.0", "POST", "/api/v1/admin/cards/import", j({**lists["ours"], "v": 1.0}),
            code="bad_card_list"),  # was a 500
        Row("card list file naming its record with a lone surrogate", "POST", "/api/v1/admin/cards/import", None,
            None, files={"file": ("credentials.json", io.BytesIO(ja({**lists["ours"], "meeting_record": "\ud800"})))},
            code="bad_card_list"),
        Row("card list of this meeting once a round is open", "POST", "/api/v1/admin/cards/import",
            j(lists["ours"]), code="card_list_frozen"),
        # Void lines (keys cards void): one that cannot be read voids none of the batch; a card's
        # code is refused (the tally must never see one).
        Row("void: no lines", "POST", "/api/v1/admin/cards/void", j({"lines": []}), code="bad_count"),
        Row("void: a number among the lines", "POST", "/api/v1/admin/cards/void", j({"lines": [void, 5]}),
            code="bad_count"),
        Row("void: a good line, then one that is not a void line", "POST", "/api/v1/admin/cards/void",
            j({"lines": [void, "SCRV1.nonsense"]}), code="bad_void_line"),
        Row("void: a good line, then another meeting's", "POST", "/api/v1/admin/cards/void",
            j({"lines": [void, void_lines([new_card(OTHER_MEETING)], ["d1"])[0]]}), code="wrong_meeting"),
        Row("void: a good line, then a card's code", "POST", "/api/v1/admin/cards/void",
            j({"lines": [void, card]}), code="card_code_refused"),
        Row("void: card codes, as the console once sent them", "POST", "/api/v1/admin/cards/void",
            j({"cards": [card]}), code="card_code_refused"),
        # The scrutineers' shares: missing, too few, damaged, another round's or meeting's, or too soon.
        Row("count with no shares", "POST", "/api/v1/admin/rounds/d1/count", j({}), code="shares_required"),
        Row("count with a number for a share", "POST", "/api/v1/admin/rounds/d1/count", j({"shares": [5]}),
            code="shares_required"),
        Row("count with the shares as one text", "POST", "/api/v1/admin/rounds/d1/count",
            j({"shares": " ".join(d1)}), code="shares_required"),
        Row("count with 16 shares", "POST", "/api/v1/admin/rounds/d1/count", j({"shares": d1 * 8}),
            code="shares_required"),
        Row("count with one share", "POST", "/api/v1/admin/rounds/d1/count", j({"shares": d1[:1]}),
            code="shares_needed"),
        Row("count with one scrutineer's share twice", "POST", "/api/v1/admin/rounds/d1/count",
            j({"shares": [d1[0], d1[0].lower()]}), code="shares_needed"),
        Row("count with a damaged share", "POST", "/api/v1/admin/rounds/d1/count",
            j({"shares": [d1[0], damaged(d1[1])]}), code="share_mismatch"),
        Row("count with another round's shares", "POST", "/api/v1/admin/rounds/d1/count", j({"shares": r1}),
            code="share_wrong_round"),
        Row("count with another meeting's share", "POST", "/api/v1/admin/rounds/d1/count",
            j({"shares": [d1[0], d1[1].replace(d1[1].split(".")[1], OTHER_MEETING)]}), code="share_wrong_meeting"),
        Row("count with a share of scrutineer 9", "POST", "/api/v1/admin/rounds/d1/count",
            j({"shares": [d1[0], ".".join([*d1[1].split(".")[:3], "9", d1[1].split(".")[4]])]}),
            code="share_unknown_scrutineer"),
        Row("count with a line that is no share", "POST", "/api/v1/admin/rounds/d1/count",
            j({"shares": [d1[0], "SCRS1.<b>"]}), code="share_malformed"),
        Row("count of an open round with its own shares", "POST", "/api/v1/admin/rounds/r1/count", j({"shares": r1}),
            code="round_not_closed"),
        Row("share check: a number", "POST", "/api/v1/admin/rounds/d1/shares/check", j({"share": 5}),
            code="shares_required"),
        Row("share check: another round's share", "POST", "/api/v1/admin/rounds/d1/shares/check",
            j({"share": r1[0]}), code="share_wrong_round"),
        Row("share check: a damaged share", "POST", "/api/v1/admin/rounds/d1/shares/check",
            j({"share": damaged(d1[0])}), code="share_mismatch"),
        Row("share check: an open round", "POST", "/api/v1/admin/rounds/r1/shares/check", j({"share": r1[0]}),
            code="round_not_closed"),
        Row("share check: a score round", "POST", "/api/v1/admin/rounds/s1/shares/check", j({"share": d1[0]}),
            code="round_not_closed"),
        Row("GET share check", "GET", "/api/v1/admin/rounds/d1/shares/check", code="method_not_allowed"),
        Row("POST custody", "POST", "/api/v1/admin/custody", j({}), code="method_not_allowed"),
        Row("POST meeting record", "POST", "/api/v1/admin/meeting-record", j({}), code="method_not_allowed"),
        Row("GET settings", "GET", "/api/v1/admin/settings", code="method_not_allowed"),
        Row("DELETE state", "DELETE", "/api/v1/admin/state", code="method_not_allowed"),
        Row("PUT envelopes", "PUT", "/api/v1/envelopes", j({}), code="method_not_allowed"),
        Row("GET audit without signing in", "GET", "/api/v1/admin/audit", code="unauthorized", auth="none"),
        Row("GET export, round not counted", "GET", "/api/v1/admin/rounds/r1/export", code=None),
        Row("GET projector without a token", "GET", "/projector", code="unauthorized", auth="none"),
    ]
    return rows


@pytest.fixture(scope="module")
def quiet(lan: Lan) -> Lan:
    """The kiosk agent stopped: its heartbeats would change the tally's database (`last_seen`)."""
    lan.kiosk.stop()
    return lan


@pytest.mark.parametrize("row", tally_rows(None), ids=lambda r: r.name)
def test_the_tally_refuses_and_changes_nothing(quiet: Lan, row: Row) -> None:
    lan = quiet
    row = next(r for r in tally_rows(lan) if r.name == row.name)  # with the live kiosk's signature
    tally = lan.tally
    if row.auth == "admin":
        session, row.headers = requests.Session(), {"Authorization": tally.http.headers["Authorization"], **row.headers}
    elif row.auth == "chair":
        session = lan.chair
    else:
        session = requests.Session()
    db = tally.data / "tally.db"
    before = sql_dump(db)
    refused(send(tally.url, row, session, tally.verify), row)
    assert sql_dump(db) == before, row.name


@pytest.mark.parametrize("round_id", ["zz", "d1", "\u202e1r", "<b>r1</b>", "r" * 2000],
                         ids=["unknown", "closed-not-counted", "bidi", "markup", "long"])
def test_tally_results_for_one_round_refuses_a_round_not_counted(quiet: Lan, round_id: str) -> None:
    """`tally results --round` (what `tally count-box` is compared with) says the round has not been
    counted, with exit status 1 and no traceback, and changes nothing."""
    tally = quiet.tally
    db = tally.data / "tally.db"
    before = sql_dump(db)
    done = subprocess.run([str(BIN / "tally"), "results", "--data", str(tally.data), "--round", round_id],
                          env=tally.env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 1 and done.stdout == "", (done.returncode, done.stdout[:300])
    assert "has not been counted" in done.stderr and "Traceback" not in done.stderr, done.stderr[-500:]
    assert sql_dump(db) == before


def test_every_route_of_both_apps_is_in_the_table() -> None:
    """A route added later without a malformed request against it fails here."""
    import kiosk.app
    from tally.web import admin, judging, kiosk_api, pages

    for blueprints, rows in (([kiosk_api.bp, admin.bp, judging.bp, pages.bp], tally_rows(None)),
                             ([kiosk.app.bp], kiosk_rows(None))):
        app = Flask("routes", static_folder=None)
        for bp in blueprints:
            app.register_blueprint(bp)
        urls = app.url_map.bind("localhost")
        endpoints = {r.endpoint for r in app.url_map.iter_rules()}
        hit = set()
        for row in rows:
            path = row.path.split("?")[0]
            for method in ("GET", "POST"):
                try:
                    hit.add(urls.match(path, method)[0])
                except Exception:  # a wrong method or an unknown path: that row covers no route
                    continue
        assert endpoints - hit == set()
    assert len(tally_rows(None)) + len(kiosk_rows(None)) >= 60


def test_every_file_the_programs_wrote_is_the_operators_only(quiet: Lan, tmp_path: Path) -> None:
    """After a real run (init, serve, pairing, a ballot, an export): directories 0700, files 0600."""
    tally = quiet.tally
    tally.round("r1", "close")
    tally.count("r1")
    export = tally.data.parent / "export-r1"
    tally.cli("export", "--data", str(tally.data), "r1", "--out", str(export))
    checked = []
    for root in (tally.data, quiet.kiosk.data, export, tally.shares):
        assert stat.S_IMODE(root.stat().st_mode) == 0o700, root
        for dirpath, dirnames, filenames in os.walk(root):
            for d in dirnames:
                assert stat.S_IMODE((Path(dirpath) / d).stat().st_mode) == 0o700, Path(dirpath) / d
            for f in filenames:
                if f == "serve.log":
                    continue  # the test harness's own capture of the server's output
                mode = stat.S_IMODE((Path(dirpath) / f).stat().st_mode)
                assert mode == 0o600, (Path(dirpath) / f, oct(mode))
                checked.append(f)
    for name in ("tally.db", "tally.db-wal", "outbox.sqlite", "kiosk.key", "kiosk.json",
                 "tally.key", "admin-token", "ballots.jsonl", "scrutineer-1.txt", "scrutineer-3.pdf"):
        assert name in checked, name
    # The scrutineers' tool keeps the card secrets to its operator too (the public list may be read).
    assert stat.S_IMODE((tally.card_dir / "cards.txt").stat().st_mode) == 0o600
