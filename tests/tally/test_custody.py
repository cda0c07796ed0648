"""Custody of round keys in the running tally: rounds open one at a time, and a spare key seals a round added live."""
from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy import select

from keys.record import record_fingerprint
from tally.box import rounds
from tally.plan import parse_plan
from tally.rules.kinds import RoundKind
from tally.services import services
from tally.setup.custody import assign_spare
from tally.setup.meeting import MeetingInfo, meeting_record
from tally.store.models import Ballot, Card, Round, SpareCard, SpareKey

from .conftest import count_body, issue_cards, load_forms, pair_kiosk, setup_meeting, shares_of


def error(resp) -> tuple[int, str]:  # type: ignore[no-untyped-def]
    return resp.status_code, resp.get_json()["error"]["code"]


def test_counting_r1_leaves_r2_unopenable_without_its_own_shares(client, app, admin_headers, meeting_dir: Path):
    setup_meeting(client, admin_headers, open_rounds=("r1", "e1"))
    kiosk = pair_kiosk(client, admin_headers)
    load_forms(client, kiosk)
    (card,) = issue_cards(client, admin_headers, kiosk.meeting, 1)
    assert client.post("/api/v1/envelopes", json=kiosk.envelope(card, {"round": "r1", "sections": {"mayor": ["张三"]}})
                       ).status_code == 201
    assert client.post("/api/v1/envelopes", json=kiosk.envelope(
        card, {"round": "e1", "grades": {"张三": 100, "李四": 80}})).status_code == 201
    for rid in ("r1", "e1"):
        assert client.post(f"/api/v1/admin/rounds/{rid}/close", json={}, headers=admin_headers).status_code == 200
    assert client.post("/api/v1/admin/rounds/r1/count", json=count_body(client, "r1"), headers=admin_headers
                       ).status_code == 200
    # r1 is open and counted: e1 still needs its own shares. r1's shares, every one of them, do nothing for it.
    every_r1 = {"shares": shares_of(meeting_dir, "r1", (1, 2, 3))}
    assert error(client.post("/api/v1/admin/rounds/e1/count", json=every_r1, headers=admin_headers)) == (
        400, "share_wrong_round")
    assert error(client.post("/api/v1/admin/rounds/e1/count", json={}, headers=admin_headers)) == (400, "shares_required")
    assert error(client.post("/api/v1/admin/rounds/e1/count", json=count_body(client, "e1", (2,)), headers=admin_headers)
                 ) == (400, "shares_needed")
    with services(app).store.writer() as s:
        assert s.get(Round, "e1").status == "closed"
        assert s.scalars(select(Ballot).where(Ballot.round_id == "e1")).first() is None
    # The tally keeps no round key in memory after a count (only score rounds' keys are cached).
    assert services(app).score_keys._keys == {}
    assert client.post("/api/v1/admin/rounds/e1/count", json=count_body(client, "e1", (3, 1)), headers=admin_headers
                       ).status_code == 200


def test_a_spare_key_seals_and_counts_a_round_added_live(client, app, admin_headers, meeting_dir: Path):
    """A re-vote added during the meeting takes a spare key made and split at set-up: the cards
    already hold its key, the scrutineers' sheets already hold its shares, no new ceremony."""
    setup_meeting(client, admin_headers, open_rounds=("d1",))
    svc = services(app)
    with svc.store.reader() as s:
        record_before = record_fingerprint(meeting_record(s))
    with svc.store.writer() as s, s.begin():
        rnd = assign_spare(s, kind=RoundKind.DECIDE, title="任职票决（重新投票）", expected=6)
        assert (rnd.id, rnd.status, rnd.secret) == ("spare-1", "draft", True)
    # Issue 12 adds the round to the plan; here the service level does it by hand.
    raw = json.loads(_plan_json(app))
    raw["rounds"].append({"id": "spare-1", "kind": "decide", "title": "任职票决（重新投票）", "expected": 6,
                          "nominees": ["王五"], "defer_rule": ">30%"})
    svc.meeting = MeetingInfo(svc.meeting.id, svc.meeting.title, parse_plan(raw, source="test"))
    with svc.store.writer() as s, s.begin():
        rounds.open_round(s, svc.meeting, "spare-1")
    kiosk = pair_kiosk(client, admin_headers)
    load_forms(client, kiosk)
    assert "spare-1" in kiosk.forms
    with svc.store.reader() as s:
        spare = s.get(SpareKey, "spare-1")
        assert spare.assigned and kiosk.forms["spare-1"]["public_key"]
        assert s.get(Round, "spare-1").public_key == spare.public_key
        # The list's credentials for the spare moved to the new round; the other spares' wait.
        assert s.scalars(select(SpareCard).where(SpareCard.spare_id == "spare-1")).first() is None
        assert len(list(s.scalars(select(Card).where(Card.round_id == "spare-1")))) == 12
    cards = issue_cards(client, admin_headers, kiosk.meeting, 3)
    for card, vote in zip(cards, ["agree", "agree", "disagree"], strict=True):
        resp = client.post("/api/v1/envelopes", json=kiosk.envelope(card, {"round": "spare-1", "votes": {"王五": vote}}))
        assert resp.status_code == 201, resp.get_json()
    assert client.post("/api/v1/admin/rounds/spare-1/close", json={}, headers=admin_headers).status_code == 200
    assert error(client.post("/api/v1/admin/rounds/spare-1/count", json=count_body(client, "d1"),
                             headers=admin_headers)) == (400, "share_wrong_round")
    resp = client.post("/api/v1/admin/rounds/spare-1/count", json=count_body(client, "spare-1", (2, 3)),
                       headers=admin_headers)
    assert resp.status_code == 200, resp.get_json()
    result = resp.get_json()["result"]
    assert (result["nominees"][0]["agree"], result["nominees"][0]["disagree"]) == (2, 1)
    with svc.store.reader() as s:
        assert record_fingerprint(meeting_record(s)) == record_before  # the record of set-up does not move
    # Two spares left, then none: the chair is told a new ceremony is needed.
    with svc.store.writer() as s, s.begin():
        assert assign_spare(s, kind=RoundKind.RECOMMEND, title="a").id == "spare-2"
        assert assign_spare(s, kind=RoundKind.EVALUATE, title="b").id == "spare-3"
    from tally.errors import ApiError

    with svc.store.writer() as s, s.begin():
        try:
            assign_spare(s, kind=RoundKind.DECIDE, title="c")
        except ApiError as exc:
            assert exc.code == "no_spare_key"
        else:
            raise AssertionError("a fourth spare key was handed out")
        try:
            assign_spare(s, kind=RoundKind.SCORE, title="judges")
        except ApiError as exc:
            assert exc.code == "not_secret"
        else:
            raise AssertionError("a score round took a spare key")


def _plan_json(app) -> str:  # type: ignore[no-untyped-def]
    from tally.store.models import Meeting

    with services(app).store.reader() as s:
        return s.scalars(select(Meeting.plan_json)).one()
