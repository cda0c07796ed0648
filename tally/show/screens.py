"""The screens' read models: what the projector and the chair's console are shown, built from the database.

Plain dictionaries that the pages render and the live feed pushes. What each audience may see
(DESIGN.md, anonymity): while a secret round is open, the projector gets turnout only (cast /
present), never partial counts; results only after the chair reveals. Emits nothing.
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
from tally.hall import cards as credentials
from tally.hall import checkin
from tally.judging import standings
from tally.rules import RecommendRound
from tally.setup.meeting import MeetingInfo, meeting_record
from tally.store.models import Kiosk, Round

ONLINE_WITHIN = timedelta(seconds=20)  # kiosks heartbeat every few seconds


def round_public(rnd: Round) -> dict[str, Any]:
    out: dict[str, Any] = {"id": rnd.id, "kind": rnd.kind, "title": rnd.title, "status": rnd.status,
                           "cast": rnd.accepted, "present": rnd.present, "expected": rnd.expected,
                           "revealed": rnd.revealed, "secret": rnd.secret}
    if rnd.revealed and rnd.result_json:
        out["result"] = json.loads(rnd.result_json)
        out["chain_head"] = rnd.chain_head
    if rnd.status in ("closed", "counted"):
        out["chain_head"] = rnd.chain_head
    return out


def revealed_order(s: Session) -> list[str]:
    """Rounds in the order the chair last showed them (the projector shows the latest)."""
    return list(s.scalars(select(Round.id).where(Round.reveal_seq.is_not(None)).order_by(Round.reveal_seq)))


def projector_state(s: Session, info: MeetingInfo, *, console: bool = False) -> dict[str, Any]:
    rounds = list(s.scalars(select(Round).order_by(Round.position)))
    shown = [round_public(r) for r in rounds]
    for r, rnd in zip(shown, rounds, strict=True):
        if rnd.round_kind.opened_at_intake and rnd.status != "draft":
            r["judging"] = standings.state(s, info, rnd.id, console=console)
        plan = info.plan.round(rnd.id)
        if isinstance(plan, RecommendRound):
            r["post_titles"] = {p.id: p.title or p.id for p in plan.posts}
    return {"meeting": info.title, "attendance": checkin.totals(s), "rounds": shown, "revealed_order": revealed_order(s),
            "card_list": credentials.list_info(s)}


def box_watch(k: Kiosk) -> dict[str, Any] | None:
    """What the kiosk last reported of its receipts against the published boxes, with `alarm` set
    when a receipt it holds is missing from a box or a box did not carry the tally's signature."""
    if not k.box_report:
        return None
    report = json.loads(k.box_report)
    rounds = report.get("rounds", {})
    alarm = any(r["missing_total"] or not r["verified"] for r in rounds.values())
    return {"rounds": rounds, "alarm": alarm}


def console_state(s: Session, info: MeetingInfo) -> dict[str, Any]:
    state = projector_state(s, info, console=True)
    rounds = {r.id: r for r in s.scalars(select(Round))}
    for r in state["rounds"]:
        rnd = rounds[r["id"]]
        if rnd.result_json:
            r["result"] = json.loads(rnd.result_json)
    now = datetime.now(UTC).replace(tzinfo=None)
    state["kiosks"] = [{"id": k.id, "name": k.name, "status": k.status, "outbox": k.outbox,
                        "fingerprint": fingerprint(k.public_key),
                        "online": k.last_seen is not None and now - k.last_seen < ONLINE_WITHIN,
                        "last_seen": k.last_seen.isoformat() + "Z" if k.last_seen else None,
                        "box": box_watch(k)}
                       for k in s.scalars(select(Kiosk).order_by(Kiosk.name, Kiosk.id))]
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
