"""Live screens over Socket.IO: the only module that emits.

Views call `touch()` after their commit. A background task wakes a few times a second and, if
anything was touched, reads the aggregate state from the database and pushes it: one message
per audience per tick, never one per ballot (each delivery costs server CPU per client). With
several workers, Redis carries the messages (`TALLY_MESSAGE_QUEUE`), and every worker's ticker
reads the same database, so a projector on one worker sees ballots taken by another.

What each audience may see (DESIGN.md, anonymity): while a secret round is open, the projector
gets turnout only (cast / present), never partial counts; results only after the chair reveals.
"""
from __future__ import annotations

import json
import threading
from datetime import datetime, timedelta, timezone
from typing import Any

from flask import Flask, request
from flask_socketio import SocketIO, join_room
from sqlalchemy import select
from sqlalchemy.orm import Session

from keys.fingerprint import fingerprint
from tally.hall import checkin
from tally.hall import cards as credentials
from tally.judging import scoring as judging
from tally.setup.meeting import MeetingInfo
from tally.store.models import AuditEntry, Kiosk, Round

socketio = SocketIO()
TICK_SECONDS = 0.2
ONLINE_WITHIN = timedelta(seconds=20)  # kiosks heartbeat every few seconds


class _Dirty:
    """A version counter bumped by `touch()`; the ticker compares it with what it last sent.
    An urgent touch (a result to show) wakes the ticker at once instead of at the next tick."""

    def __init__(self) -> None:
        self.version = 0
        self.lock = threading.Lock()
        self.wake = threading.Event()

    def bump(self, urgent: bool) -> None:
        with self.lock:
            self.version += 1
        if urgent:
            self.wake.set()


_dirty = _Dirty()
# Bumped by each init_app: a ticker from an earlier app (tests make many) stops by itself.
_generation = {"n": 0}


def touch(urgent: bool = False) -> None:
    """Something changed (after the commit). Ballots coalesce; `urgent` (亮分, a round shown) goes out now."""
    _dirty.bump(urgent)


def round_public(rnd: Round) -> dict[str, Any]:
    out: dict[str, Any] = {"id": rnd.id, "kind": rnd.kind, "title": rnd.title, "status": rnd.status,
                           "cast": rnd.accepted, "present": rnd.present, "expected": rnd.expected,
                           "revealed": rnd.revealed}
    if rnd.revealed and rnd.result_json:
        out["result"] = json.loads(rnd.result_json)
        out["chain_head"] = rnd.chain_head
    if rnd.status in ("closed", "counted"):
        out["chain_head"] = rnd.chain_head
    return out


def revealed_order(s: Session) -> list[str]:
    """Rounds in the order the chair showed them (the projector shows the latest)."""
    rows = s.scalars(select(AuditEntry.detail).where(AuditEntry.action == "round_revealed").order_by(AuditEntry.id))
    return [json.loads(d)["round"] for d in rows]


def projector_state(s: Session, info: MeetingInfo, *, console: bool = False) -> dict[str, Any]:
    rounds = list(s.scalars(select(Round).order_by(Round.position)))
    out = {"meeting": info.title, "attendance": checkin.totals(s), "rounds": [round_public(r) for r in rounds],
           "revealed_order": revealed_order(s)}
    for r, rnd in zip(out["rounds"], rounds):
        if rnd.kind == "score" and rnd.status != "draft":
            r["judging"] = judging.state(s, info, rnd.id, console=console)
        if rnd.kind == "recommend":
            r["post_titles"] = {p["id"]: p.get("title") or p["id"] for p in info.round_raw(rnd.id).get("posts", [])}
    return out


def console_state(s: Session, info: MeetingInfo) -> dict[str, Any]:
    state = projector_state(s, info, console=True)
    rounds = {r.id: r for r in s.scalars(select(Round))}
    for r in state["rounds"]:
        rnd = rounds[r["id"]]
        if rnd.result_json:
            r["result"] = json.loads(rnd.result_json)
    now = datetime.now(timezone.utc).replace(tzinfo=None)
    state["kiosks"] = [{"id": k.id, "name": k.name, "status": k.status, "outbox": k.outbox,
                        "fingerprint": fingerprint(k.public_key),
                        "online": k.last_seen is not None and now - k.last_seen < ONLINE_WITHIN,
                        "last_seen": k.last_seen.isoformat() + "Z" if k.last_seen else None}
                       for k in s.scalars(select(Kiosk).order_by(Kiosk.name, Kiosk.id))]
    state["cards"] = credentials.counts(s)
    return state


def _ticker(app: Flask, generation: int) -> None:
    sent = -1
    while True:
        _dirty.wake.wait(TICK_SECONDS)
        _dirty.wake.clear()
        if _generation["n"] != generation:
            return
        version = _dirty.version
        if version == sent:
            continue
        sent = version
        try:
            with app.app_context():
                maker = app.extensions["tally.read_sessionmaker"]
                info = app.extensions["tally.setup.meeting"]
                with maker() as s:
                    proj = projector_state(s, info)
                    cons = console_state(s, info)
            socketio.emit("state", proj, to="projector", namespace="/live")
            socketio.emit("state", cons, to="console", namespace="/live")
        except Exception:  # keep the screens alive through a passing database error
            app.logger.exception("live update failed")
            sent = -1


def init_app(app: Flask) -> None:
    socketio.init_app(app, async_mode=app.config.get("ASYNC_MODE", "threading"),
                      message_queue=app.config.get("MESSAGE_QUEUE"),
                      logger=False, engineio_logger=False)
    _generation["n"] += 1
    generation = _generation["n"]
    started = {"done": False}
    lock = threading.Lock()

    def start_ticker() -> None:
        with lock:
            if not started["done"]:
                started["done"] = True
                socketio.start_background_task(_ticker, app, generation)

    app.extensions["tally.start_ticker"] = start_ticker


@socketio.on("connect", namespace="/live")
def _connect(auth: Any = None) -> bool:
    from flask import current_app

    from tally.web.auth import is_chair, token_role

    current_app.extensions["tally.start_ticker"]()
    token = auth.get("t") if isinstance(auth, dict) else None
    role = "console" if is_chair() else token_role(token or request.args.get("t"))
    if role not in ("console", "projector"):
        return False
    join_room(role)
    touch()
    return True
