"""Every endpoint answers bad input with a 4xx JSON error, never a 500, and changes nothing."""
from __future__ import annotations

import pytest

from .conftest import setup_meeting

BODIES = [None, [], "x", 7, {"count": "x"}, {"count": True}, {"count": -1}, {"numbers": "001"}, {"numbers": [1, 2]},
          {"number": None}, {"seat": "1", "reason": 5}, {"order": "甲"}, {"order": [1]}, {"contestant": 5},
          {"passphrase": 5}, {"seed": {"x": 1}}, {"card": 5}, {"kiosk": []}, {"seats": "all"}, {"all": "yes"},
          {"rows": "x"}, {"rows": [[1, 2], "x"]}, {"preconfirm": "yes", "count": 10**9},
          {"shares": "x"}, {"shares": [5]}, {"shares": []}, {"shares": ["SCRS1.x"] * 16}, {"share": 5},
          {"desk_unlock": "yes"}, {"cards": "x"}, {"cards": [5]}, {"cards": []}, {"v": 1, "type": "credentials"}]
POSTS = ["/api/v1/admin/offers", "/api/v1/admin/cards/import", "/api/v1/admin/cards/void", "/api/v1/admin/settings",
         "/api/v1/admin/rounds/r1/shares/check", "/api/v1/admin/roster", "/api/v1/admin/rounds/e1/close",
         "/api/v1/admin/rounds/r1/count", "/api/v1/admin/rounds/zz/close", "/api/v1/admin/rounds/r1/nonsense",
         "/api/v1/admin/kiosks/nope/confirm", "/api/v1/admin/kiosks/nope/explode", "/api/v1/admin/judges/pool",
         "/api/v1/admin/rounds/r1/draw", "/api/v1/admin/rounds/r1/judge-cards", "/api/v1/admin/rounds/r1/order",
         "/api/v1/admin/rounds/r1/next", "/api/v1/admin/rounds/r1/void", "/api/v1/admin/rounds/r1/show",
         "/api/v1/desk/signin", "/api/v1/desk/unlock", "/api/v1/kiosks/pair",
         "/api/v1/kiosks/heartbeat", "/api/v1/kiosks/unlock", "/api/v1/cards/check", "/api/v1/envelopes"]
GETS = ["/api/v1/admin/rounds/zz/export", "/api/v1/admin/rounds/r1/export", "/api/v1/admin/rounds/r1/sheet.pdf",
        "/api/v1/admin/rounds/r1/sheet.doc", "/api/v1/admin/rounds/r1/scoresheet.xlsx", "/api/v1/admin/rounds/zz/judging",
        "/api/v1/admin/rounds/r1/draw", "/console/rounds/zz/sheet", "/console/rounds/r1/draw"]


def state_of(client, admin):  # type: ignore[no-untyped-def]
    s = client.get("/api/v1/admin/state", headers=admin).get_json()
    return s["attendance"], s["cards"], [(r["id"], r["status"], r["cast"]) for r in s["rounds"]], len(s["kiosks"])


@pytest.mark.parametrize("path", POSTS)
def test_posts_with_bad_bodies_are_4xx_json_and_change_nothing(client, admin_headers, path):
    setup_meeting(client, admin_headers, open_rounds=())
    before = state_of(client, admin_headers)
    # Making one pairing offer needs no body at all (an empty body is the empty object): only
    # count the bodies that say a count.
    bodies = ([b for b in BODIES if b is not None and (not isinstance(b, dict) or "count" in b)]
              if path.endswith("/offers") else BODIES)
    for body in bodies:
        r = client.post(path, json=body, headers=admin_headers)
        assert 400 <= r.status_code < 500, (path, body, r.status_code, r.get_data(as_text=True)[:300])
        err = r.get_json()["error"]
        assert err["code"] and err["message"]
    assert state_of(client, admin_headers) == before


@pytest.mark.parametrize("path", GETS)
def test_gets_of_missing_things_are_4xx(client, admin_headers, path):
    r = client.get(path, headers={**admin_headers, "Accept": "application/json"})
    assert 400 <= r.status_code < 500, (path, r.status_code)
