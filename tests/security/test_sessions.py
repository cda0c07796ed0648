"""The chair's session, the CSRF rule, pairing offers, a voided score, error logs and the pages' markup.

In-process (Flask's test client over a real data directory and SQLite), with the clock a
parameter of the app (`CLOCK`), so that lifetimes and expiries are tested without waiting. The
review found: the judging blueprint's POST routes skipped the CSRF check; the card-sheet form
(now the card list's upload and void) and the judge-card form passed when both tokens were
absent; the chair's cookie never expired and survived sign-out; pairing offers never expired;
the chair could read a judge's value before 亮分 by voiding it and reading the audit log; error
logs quoted ballot text; JSON went into the pages with `|safe` and an inline script, with no
Content-Security-Policy.
"""
from __future__ import annotations

import io
import json
import logging
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest

from keys.canonical import b64e
from keys.identity import Identity
from keys.pairing import PairingOffer
from tally.services import services
from tests.tally.conftest import KEY_PASS, MEETING, pair_kiosk, shares_dir
from tests.tally.test_judging import MEETING as JUDGING_MEETING
from tests.tally.test_judging import POOL as JUDGING_POOL
from tests.tally.test_judging import judge_cards, score

ROOT = Path(__file__).resolve().parents[2]
JUDGING_ROUND = """
  - id: s1
    kind: score
    title: 面试
    judges: 3
    trim: 1
    contestants: [甲, 乙]
"""
EXEMPT = {"api.pair", "api.heartbeat", "api.claim_unlock", "api.check_card", "api.envelopes", "console.login"}


@dataclass
class Clock:
    now: datetime

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **kw: float) -> None:
        self.now += timedelta(**kw)


@dataclass
class Tally:
    app: Any
    data: Path
    clock: Clock
    admin: dict[str, str]

    @property
    def token(self) -> str:
        return self.admin["Authorization"][7:]

    def client(self) -> Any:
        return self.app.test_client()

    def chair(self) -> tuple[Any, str]:
        """A signed-in console: its client and the CSRF token of its pages."""
        c = self.client()
        r = c.post("/console/login", data={"token": self.token}, follow_redirects=True)
        assert r.status_code == 200
        return c, re.search(r'name="csrf" content="([^"]+)"', r.get_data(as_text=True)).group(1)  # type: ignore[union-attr]


def make_tally(tmp_path: Path, meeting: str, **config: Any) -> Iterator[Tally]:
    from tally import create_app
    from tally.setup.meeting import init_meeting

    f = tmp_path / "meeting.yaml"
    f.write_text(meeting, encoding="utf-8")
    d = tmp_path / "data"
    init_meeting(d, f, key_passphrase=KEY_PASS, scrutineers=3, quorum=2, shares_out=shares_dir(d))
    clock = Clock(datetime(2026, 12, 1, 8, 0))
    app = create_app({"DATA_DIR": str(d), "TESTING": True, "ENV": {"TALLY_KEY_PASSPHRASE": KEY_PASS}, "CLOCK": clock,
                      **config})
    admin = {"Authorization": "Bearer " + (d / "secrets" / "admin-token").read_text().strip()}
    yield Tally(app, d, clock, admin)
    services(app).store.engine.dispose()


@pytest.fixture
def tally(tmp_path: Path) -> Iterator[Tally]:
    yield from make_tally(tmp_path, MEETING)


def state_changing_routes(app: Any) -> list[tuple[str, str, str]]:
    out = []
    for rule in app.url_map.iter_rules():
        for method in sorted(rule.methods & {"POST", "PUT", "PATCH", "DELETE"}):
            path = rule.rule
            for arg, value in {"round_id": "r1", "kiosk_id": "x", "action": "open", "fmt": "pdf"}.items():
                path = path.replace(f"<{arg}>", value)
            out.append((rule.endpoint, method, path))
    return out


def test_every_state_changing_route_of_every_blueprint_needs_the_sessions_csrf_token(tally: Tally) -> None:
    routes = state_changing_routes(tally.app)
    assert {e for e, _, _ in routes} >= EXEMPT | {"judging.draw", "judging.next_contestant", "admin.cards_import",
                                                 "admin.cards_void", "admin.settings", "admin.share_check",
                                                 "console.judge_cards", "console.logout"}
    chair, token = tally.chair()
    _other, other_token = tally.chair()  # another signed-in console: its token is not this one's
    assert other_token != token
    for endpoint, method, path in routes:
        if endpoint in EXEMPT:
            continue
        for headers in ({}, {"X-CSRF-Token": ""}, {"X-CSRF-Token": "x" * 32}, {"X-CSRF-Token": other_token},
                        {"X-CSRF-Token": "\u00e9" * 32}):
            r = chair.open(path, method=method, json={}, headers={"Accept": "application/json", **headers})
            assert r.status_code == 403 and r.get_json()["error"]["code"] == "csrf", (endpoint, headers, r.status_code)
        form = chair.open(path, method=method, data={"csrf": ""})
        assert form.status_code in (403, 415), (endpoint, form.status_code)
    # The same session with its own token passes the check (and the chair is still signed in).
    r = chair.post("/api/v1/admin/offers", json={"count": 1}, headers={"X-CSRF-Token": token})
    assert r.status_code == 201
    # The command line's Bearer token needs no CSRF token: it is no ambient cookie.
    assert tally.client().post("/api/v1/admin/offers", json={}, headers=tally.admin).status_code == 201


def test_the_card_forms_need_a_token_even_from_a_fresh_session(tmp_path: Path) -> None:
    """Before: a session that had never rendered the console held no token, and a form without
    one compared None with None and printed cards. The ballot cards are the scrutineers' now; the
    console's card forms are the card list's upload (a file, as the console sends it), the void of
    left-over cards and the judge-card sheet: from a fresh session none passes without its token,
    and nothing changes in the database."""
    from keys.credentials import make_cards, void_lines
    from keys.record import parse_record

    from .conftest import sql_dump

    for t in make_tally(tmp_path, MEETING + JUDGING_ROUND):
        admin = t.client()
        assert admin.post("/api/v1/admin/judges/pool", headers=t.admin, data={
            "file": (io.BytesIO(JUDGING_POOL.encode()), "pool.csv")}).status_code == 200
        assert admin.post("/api/v1/admin/rounds/s1/draw", json={}, headers=t.admin).status_code == 201
        doc_record = admin.get("/api/v1/admin/meeting-record", headers=t.admin).get_json()
        cards, doc = make_cards(parse_record(doc_record), 3)
        listed = json.dumps(doc).encode()

        c = t.client()
        assert c.post("/console/login", data={"token": t.token}).status_code == 302  # never renders the console
        before = sql_dump(t.data / "tally.db")
        for form in ({}, {"csrf": ""}):
            r = c.post("/api/v1/admin/cards/import", data={**form, "file": (io.BytesIO(listed), "credentials.json")},
                       headers={"Accept": "application/json"})
            assert r.status_code == 403 and r.get_json()["error"]["code"] == "csrf", form
            r = c.post("/console/rounds/s1/judge-cards", data={**form, "count": "2"},
                       headers={"Accept": "application/json"})
            assert r.status_code == 403 and r.get_json()["error"]["code"] == "csrf", form
        r = c.post("/api/v1/admin/cards/import", json=doc, headers={"Accept": "application/json"})
        assert r.status_code == 403 and r.get_json()["error"]["code"] == "csrf"
        assert sql_dump(t.data / "tally.db") == before
        state = c.get("/api/v1/admin/state").get_json()
        assert state["cards"] == {"listed": 0, "void": 0, "desk": 0} and state["card_list"] is None

        # The command line (Bearer) imports the list; the fresh session still cannot void a card.
        assert admin.post("/api/v1/admin/cards/import", json=doc, headers=t.admin).status_code == 200
        before = sql_dump(t.data / "tally.db")
        void = {"lines": void_lines(cards[:1], parse_record(doc_record).card_rounds)}
        for headers in ({}, {"X-CSRF-Token": ""}):
            r = c.post("/api/v1/admin/cards/void", json=void, headers=headers)
            assert r.status_code == 403 and r.get_json()["error"]["code"] == "csrf", headers
        assert sql_dump(t.data / "tally.db") == before
        assert c.get("/api/v1/admin/state").get_json()["cards"] == {"listed": 3, "void": 0, "desk": 0}

        # With the token of the page it renders, the same session passes.
        page = c.get("/console").get_data(as_text=True)
        token = re.search(r'name="csrf" content="([^"]+)"', page).group(1)  # type: ignore[union-attr]
        r = c.post("/api/v1/admin/cards/void", json=void, headers={"X-CSRF-Token": token})
        assert r.status_code == 200 and r.get_json()["voided"] == 1


def test_the_chairs_session_has_a_lifetime_and_an_idle_timeout(tally: Tally) -> None:
    chair, _ = tally.chair()
    assert chair.get("/api/v1/admin/state").status_code == 200
    tally.clock.advance(minutes=61)  # idle for longer than an hour
    r = chair.get("/api/v1/admin/state")
    assert r.status_code == 401 and r.get_json()["error"]["code"] == "unauthorized"
    chair, _ = tally.chair()
    for _ in range(14):  # busy all day: a request every 50 minutes, for 11 h 40
        tally.clock.advance(minutes=50)
        assert chair.get("/api/v1/admin/state").status_code == 200
    tally.clock.advance(minutes=30)  # 12 h 10 after signing in, however busy
    assert chair.get("/api/v1/admin/state").status_code == 401
    assert chair.get("/console").status_code == 302  # back to the sign-in page


def test_sign_in_starts_a_new_session_and_sign_out_ends_it_for_every_copy(tally: Tally) -> None:
    # A session planted before sign-in (a desk link's) is not the chair's after it.
    desk_link = tally.client().get("/api/v1/admin/links", headers=tally.admin).get_json()["desk"]
    browser = tally.client()
    assert browser.get(desk_link.split("localhost", 1)[1]).status_code == 200
    planted = browser.get_cookie("scrutineer_session").value
    assert browser.post("/console/login", data={"token": tally.token}).status_code == 302
    signed_in = browser.get_cookie("scrutineer_session").value
    assert signed_in != planted
    attacker = tally.client()
    attacker.set_cookie("scrutineer_session", planted)
    assert attacker.get("/api/v1/admin/state").status_code == 401

    # A copy of the chair's cookie dies with the sign-out.
    thief = tally.client()
    thief.set_cookie("scrutineer_session", signed_in)
    assert thief.get("/api/v1/admin/state").status_code == 200
    page = browser.get("/console").get_data(as_text=True)
    token = re.search(r'name="csrf" content="([^"]+)"', page).group(1)  # type: ignore[union-attr]
    assert browser.post("/console/logout", data={"csrf": token}).status_code == 302
    assert thief.get("/api/v1/admin/state").status_code == 401
    assert browser.get("/api/v1/admin/state").status_code == 401


def test_the_session_cookie_is_httponly_samesite_strict_and_secure_under_tls(tally: Tally, tmp_path: Path) -> None:
    r = tally.client().post("/console/login", data={"token": tally.token})
    cookie = r.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and "Path=/" in cookie and "Secure" not in cookie
    assert re.match(r"scrutineer_session=[A-Za-z0-9_-]{43};", cookie)  # a random id, no data in it

    from tally.setup.tls import make_certificate

    make_certificate(tally.data, ["10.0.0.5"], now=tally.clock.now)
    from tally import create_app

    app = create_app({"DATA_DIR": str(tally.data), "TESTING": True, "ENV": {"TALLY_KEY_PASSPHRASE": KEY_PASS},
                      "TLS": True})
    try:
        r = app.test_client().post("/console/login", data={"token": tally.token}, base_url="https://localhost")
        assert "Secure" in r.headers["Set-Cookie"] and "SameSite=Strict" in r.headers["Set-Cookie"]
    finally:
        services(app).store.engine.dispose()


def test_pairing_offers_expire_and_are_used_once(tally: Tally) -> None:
    c = tally.client()

    def offer() -> PairingOffer:
        return PairingOffer.parse(c.post("/api/v1/admin/offers", json={}, headers=tally.admin).get_json()["offers"][0])

    def pair(o: PairingOffer) -> Any:
        return c.post("/api/v1/kiosks/pair", json={"code": o.code, "public_key": b64e(Identity.generate().public_bytes()),
                                                   "name": "终端"})

    stale = offer()
    tally.clock.advance(minutes=30)
    r = pair(stale)
    assert r.status_code == 403 and r.get_json()["error"]["code"] == "pairing_code_expired"
    fresh = offer()
    tally.clock.advance(minutes=29)
    assert pair(fresh).status_code == 201
    again = pair(fresh)
    assert again.status_code == 403 and again.get_json()["error"]["code"] == "bad_pairing_code"
    assert len(c.get("/api/v1/admin/state", headers=tally.admin).get_json()["kiosks"]) == 1


def test_a_voided_score_stays_hidden_until_it_is_shown(tmp_path: Path) -> None:
    for t in make_tally(tmp_path, JUDGING_MEETING):
        c = t.client()
        cards = judge_cards(c, t.admin)
        kiosk = pair_kiosk(c, t.admin)
        assert c.post("/api/v1/admin/rounds/s1/open", json={}, headers=t.admin).status_code == 200
        kiosk.forms = {r["id"]: r for r in c.get("/api/v1/judging").get_json()["rounds"]}
        c.post("/api/v1/admin/rounds/s1/next", json={"contestant": "甲"}, headers=t.admin)
        assert score(c, kiosk, cards, 3, "甲", "63.5").status_code == 201
        assert c.post("/api/v1/admin/rounds/s1/void", json={"seat": 3, "reason": "按错"},
                      headers=t.admin).status_code == 200
        chair, _ = t.chair()
        seen = [c.get("/api/v1/admin/audit", headers=t.admin).get_data(as_text=True),
                chair.get("/console/audit").get_data(as_text=True),
                c.get("/api/v1/admin/rounds/s1/judging", headers=t.admin).get_data(as_text=True),
                c.get("/api/v1/admin/state", headers=t.admin).get_data(as_text=True),
                c.get("/api/v1/judging").get_data(as_text=True)]
        assert "score_voided" in seen[0] and "按错" in seen[0]
        for text in seen:
            assert "63.5" not in text


def test_an_unexpected_error_is_logged_without_its_message(tally: Tally, caplog: pytest.LogCaptureFixture,
                                                           tmp_path: Path) -> None:
    secret = "钱七的另推票<b>"

    def boom() -> None:
        raise ValueError(f"cannot read ballot {{'mayor': ['{secret}']}}")

    tally.app.add_url_rule("/api/v1/boom", "boom", boom)
    with caplog.at_level(logging.DEBUG):
        r = tally.client().get("/api/v1/boom")
    assert r.status_code == 500 and r.get_json()["error"]["code"] == "internal"
    assert "ValueError" in caplog.text and "boom" in caplog.text  # where, and what kind
    assert secret not in caplog.text and "cannot read ballot" not in caplog.text

    # The kiosk agent's app, likewise.
    from kiosk.agent import Agent
    from kiosk.app import create_app as kiosk_app
    from kiosk.config import Pairing, Paths, save_pairing

    paths = Paths(tmp_path / "kiosk")
    pairing = Pairing(kiosk_id="k1", tally_url="http://127.0.0.1:9", tally_public_key=b"\x01" * 32,
                      meeting="0123456789abcdef")
    save_pairing(paths, pairing)
    app = kiosk_app(Agent(paths, pairing, Identity.generate()), {"TESTING": False})
    app.add_url_rule("/api/boom", "boom", boom)
    caplog.clear()
    with caplog.at_level(logging.DEBUG):
        r = app.test_client().get("/api/boom")
    assert r.status_code == 500 and r.get_json()["error"]["code"] == "internal"
    assert "ValueError" in caplog.text and secret not in caplog.text


def test_every_page_has_a_strict_content_security_policy(tally: Tally) -> None:
    chair, _ = tally.chair()
    links = chair.get("/api/v1/admin/links").get_json()
    for path in ["/console", "/console/login", "/console/audit", links["desk"], links["projector"],
                 "/api/v1/admin/state", "/api/v1/admin/custody", "/api/v1/admin/meeting-record", "/api/v1/nothing"]:
        r = chair.get(path.split("localhost", 1)[-1])
        csp = r.headers.get("Content-Security-Policy", "")
        assert "script-src 'self'" in csp and "default-src 'none'" in csp and "connect-src 'self'" in csp, path
        assert "unsafe-inline" not in csp and "unsafe-eval" not in csp, path
        assert "frame-ancestors 'none'" in csp and r.headers["X-Content-Type-Options"] == "nosniff", path
        assert r.headers["Referrer-Policy"] == "no-referrer" and r.headers["Cache-Control"] == "no-store", path


def test_no_template_puts_markup_from_data_or_runs_inline_code() -> None:
    """No `|safe`, no inline `<script>` (only JSON data blocks), no `on…=` handler, no `style=`."""
    found = []
    for path in sorted((ROOT / "templates").rglob("*.html")):
        text = path.read_text(encoding="utf-8")
        rel = path.relative_to(ROOT)
        if "|safe" in text.replace(" ", ""):
            found.append(f"{rel}: |safe")
        for tag in re.findall(r"<script\b[^>]*>", text):
            if "src=" not in tag and 'type="application/json"' not in tag:
                found.append(f"{rel}: inline script {tag}")
        for m in re.finditer(r"<[a-z][^>]*\s(on[a-z]+|style)\s*=", text):
            found.append(f"{rel}: {m.group(1)}= attribute")
        if re.search(r'type="application/json"[^>]*>(?!\{\{[^}]*\|\s*tojson\s*\}\}</script>)', text.replace("\n", " ")):
            for block in re.findall(r'type="application/json">(.*?)</script>', text, re.DOTALL):
                if not re.fullmatch(r"\{\{.*\|\s*tojson\s*\}\}", block.strip(), re.DOTALL):
                    found.append(f"{rel}: a JSON block not made by tojson")
    assert found == []


def test_roster_and_pool_rows_are_held_to_the_name_rule(tally: Tally) -> None:
    c = tally.client()
    for name in ["\u202e五王", "王\u0000五", "王\u2028五", "x" * 65]:
        csv = f"编号,姓名\n001,{name}\n".encode()
        for path in ("/api/v1/admin/roster", "/api/v1/admin/judges/pool"):
            r = c.post(path, data={"file": (io.BytesIO(csv), "r.csv")}, headers=tally.admin)
            assert r.status_code == 400 and r.get_json()["error"]["code"] == "bad_roster", (path, name)
    assert c.get("/api/v1/admin/state", headers=tally.admin).get_json()["attendance"]["expected"] == 0
    ok = "编号,姓名,类别\n001,<b>王　五</b>,=代表\n".encode()
    assert c.post("/api/v1/admin/roster", data={"file": (io.BytesIO(ok), "r.csv")}, headers=tally.admin).status_code == 200


def test_the_kiosk_pages_have_a_strict_content_security_policy(tmp_path: Path) -> None:
    from kiosk.agent import Agent
    from kiosk.app import create_app as kiosk_app
    from kiosk.config import Pairing, Paths, save_pairing

    paths = Paths(tmp_path / "kiosk")
    pairing = Pairing(kiosk_id="k1", tally_url="http://127.0.0.1:9", tally_public_key=b"\x01" * 32,
                      meeting="0123456789abcdef", name="<img src=x onerror=alert(1)>")
    save_pairing(paths, pairing)
    client = kiosk_app(Agent(paths, pairing, Identity.generate()), {"TESTING": True}).test_client()
    for path in ("/", "/status", "/api/state", "/api/nothing"):
        r = client.get(path)
        csp = r.headers.get("Content-Security-Policy", "")
        assert "script-src 'self'" in csp and "default-src 'none'" in csp and "frame-ancestors 'none'" in csp, path
        assert "unsafe-inline" not in csp and r.headers["X-Content-Type-Options"] == "nosniff", path
    status = client.get("/status").get_data(as_text=True)
    assert "&lt;img src=x onerror=alert(1)&gt;" in status and "<img src=x" not in status


def test_the_live_feed_refuses_a_token_that_is_not_text(tally: Tally) -> None:
    """A token that is not short ASCII text is no token (before, it raised a TypeError inside
    `connect`, which refused the client only by accident)."""
    from tally.show.feed import socketio

    for token in (12345, "\u00e9" * 32, ["x"], {"t": 1}, "x" * 10_000):
        client = socketio.test_client(tally.app, namespace="/live", auth={"t": token})
        assert not client.is_connected("/live"), token
    good = tally.client().get("/api/v1/admin/links", headers=tally.admin).get_json()["projector"].split("t=")[1]
    client = socketio.test_client(tally.app, namespace="/live", auth={"t": good})
    assert client.is_connected("/live")
    client.disconnect(namespace="/live")


def test_signing_in_never_sends_the_chair_to_another_site(tally: Tally) -> None:
    for nxt, where in (("/console/audit", "/console/audit"), ("//evil.test/x", "/console"),
                       ("/\\evil.test/x", "/console"), ("/\\/evil.test", "/console"), ("https://evil.test", "/console"),
                       ("/ /evil.test", "/console")):
        r = tally.client().post("/console/login?" + urlencode({"next": nxt}), data={"token": tally.token})
        assert r.status_code == 302 and r.headers["Location"] == where, (nxt, r.headers["Location"])
