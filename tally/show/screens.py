"""The screens' read models: what the projector and the chair's console are shown, built from the database.

Plain dictionaries that the pages render and the live feed pushes. What each audience may see
(DESIGN.md, anonymity): while a secret round is open, the projector gets turnout only (cast /
present), never partial counts; results only after the chair reveals. A counted round's result
travels with its `view` (`tally.show.results`), the one model every screen and sheet renders.
Each round carries its own 应到/实到 (and, while it is a draft, how many of its electorate have
signed in), so a screen shows the round's figures, never the meeting's. Emits nothing.
"""
from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from keys.fingerprint import fingerprint
from keys.record import record_fingerprint
from keys.shares import check_code
from tally.box.rounds import electorate_present
from tally.hall import cards as credentials
from tally.hall import checkin
from tally.judging import standings
from tally.setup.meeting import MeetingInfo, meeting_record
from tally.show.results import round_view
from tally.store.models import Kiosk, Round

ONLINE_WITHIN = timedelta(seconds=20)  # kiosks heartbeat every few seconds
# A kiosk not heard from for this long (and not waiting for confirmation) folds into a count on
# the console: after a simulation or a long day, hundreds of old rows would bury the live ones.
STALE_AFTER = timedelta(minutes=5)


def round_public(rnd: Round, info: MeetingInfo, *, with_result: bool = False) -> dict[str, Any]:
    """One round for a screen: its own 应到/实到 and turnout; its result (and view) once revealed,
    or always with `with_result` (the chair's console)."""
    plan = info.plan.round(rnd.id)
    out: dict[str, Any] = {"id": rnd.id, "kind": rnd.kind, "title": rnd.title, "status": rnd.status,
                           "cast": rnd.accepted, "present": rnd.present, "expected": rnd.expected,
                           "revealed": rnd.revealed, "secret": rnd.round_kind.secret,
                           "electorate": getattr(plan, "electorate", None)}
    if rnd.status in ("closed", "counted"):
        out["chain_head"] = rnd.chain_head
    if (rnd.revealed or with_result) and rnd.result_json:
        result = json.loads(rnd.result_json)
        out["result"] = result
        out["view"] = round_view(result, plan, chain_head=rnd.chain_head if rnd.round_kind.takes_ballots else None
                                 ).to_json()
    return out


def revealed_order(s: Session) -> list[str]:
    """Rounds in the order the chair last showed them (the projector shows the latest)."""
    return list(s.scalars(select(Round.id).where(Round.reveal_seq.is_not(None)).order_by(Round.reveal_seq)))


def electorates(info: MeetingInfo) -> list[str]:
    """The attendee groups some round draws its 实到 from, in the meeting file's order."""
    return list(dict.fromkeys(e for r in info.plan.rounds if (e := getattr(r, "electorate", None))))


def projector_state(s: Session, info: MeetingInfo, *, console: bool = False) -> dict[str, Any]:
    rounds = list(s.scalars(select(Round).order_by(Round.position)))
    shown = [round_public(r, info, with_result=console) for r in rounds]
    for r, rnd in zip(shown, rounds, strict=True):
        if rnd.round_kind.opened_at_intake and rnd.status != "draft":
            r["judging"] = standings.state(s, info, rnd.id, console=console)
        if rnd.round_kind.has_attendance and rnd.status == "draft":
            r["signed_in"] = electorate_present(s, r["electorate"])
    return {"meeting": info.title, "attendance": checkin.totals(s, electorates(info)), "rounds": shown,
            "revealed_order": revealed_order(s), "card_list": credentials.list_info(s)}


def box_watch(k: Kiosk) -> dict[str, Any] | None:
    """What the kiosk last reported of its receipts against the published boxes, with `alarm` set
    when a receipt it holds is missing from a box or a box did not carry the tally's signature."""
    if not k.box_report:
        return None
    report = json.loads(k.box_report)
    rounds = report.get("rounds", {})
    alarm = any(r["missing_total"] or not r["verified"] for r in rounds.values())
    return {"rounds": rounds, "alarm": alarm}


def kiosk_row(k: Kiosk, now: datetime) -> dict[str, Any]:
    """One kiosk on the console. `stale` (folded into a count) when not heard from for a while,
    unless its last box report raised the alarm: a missing receipt stays in sight."""
    box = box_watch(k)
    silent = k.last_seen is None or now - k.last_seen > STALE_AFTER
    return {"id": k.id, "name": k.name, "status": k.status, "outbox": k.outbox,
            "fingerprint": fingerprint(k.public_key),
            "online": k.last_seen is not None and now - k.last_seen < ONLINE_WITHIN,
            "stale": k.status != "pending" and silent and not (box and box["alarm"]),
            "last_seen": k.last_seen.isoformat() + "Z" if k.last_seen else None,
            "box": box}


def console_state(s: Session, info: MeetingInfo) -> dict[str, Any]:
    state = projector_state(s, info, console=True)
    now = datetime.now(UTC).replace(tzinfo=None)
    state["kiosks"] = [kiosk_row(k, now) for k in s.scalars(select(Kiosk).order_by(Kiosk.name, Kiosk.id))]
    state["cards"] = credentials.counts(s)
    state["desk_unlock"] = credentials.desk_unlock_allowed(s)
    state["card_list_frozen"] = credentials.frozen(s)
    return state


def custody_state(s: Session) -> dict[str, Any]:
    """The public meeting record's fingerprint and, for every round key the scrutineers hold,
    each scrutineer's check code: what they compare with their printed sheets at set-up."""
    record = meeting_record(s)
    keys = [{"round": r["id"], "title": r["title"], "codes": [check_code(c) for c in r["commitments"]]}
            for r in record["rounds"] if r["commitments"]]
    keys += [{"round": sp["id"], "title": "", "codes": [check_code(c) for c in sp["commitments"]]}
             for sp in record["spares"]]
    return {"record_fingerprint": record_fingerprint(record), "meeting": record["meeting"],
            "scrutineers": record["scrutineers"], "quorum": record["quorum"], "keys": keys}
