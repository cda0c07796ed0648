"""Live screens over Socket.IO: the only module that emits.

Views call `touch()` after their commit. A background task wakes a few times a second and, if
anything was touched, reads the aggregate state from the database (`tally.show.screens`) and
pushes it: one message per audience per tick, never one per ballot (each delivery costs server
CPU per client). With several workers, Redis carries the messages (`TALLY_MESSAGE_QUEUE`), and
every worker's ticker reads the same database, so a projector on one worker sees ballots taken
by another.
"""
from __future__ import annotations

import threading

from flask import Flask
from flask_socketio import SocketIO

from tally.services import services
from tally.show.screens import console_state, projector_state

socketio = SocketIO()
TICK_SECONDS = 0.2


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
            svc = services(app)
            with app.app_context(), svc.store.reader() as s:
                proj = projector_state(s, svc.meeting)
                cons = console_state(s, svc.meeting)
            socketio.emit("state", proj, to="projector", namespace="/live")
            socketio.emit("state", cons, to="console", namespace="/live")
        except Exception as exc:  # noqa: BLE001 - keep the screens alive through a passing database error
            app.logger.error("live update failed: %s", type(exc).__name__)  # never a message: it may quote a ballot
            sent = -1


def init_app(app: Flask) -> None:
    # One channel per meeting: two meetings (or two test runs) on one Redis never hear each other.
    socketio.init_app(app, async_mode=app.config.get("ASYNC_MODE", "threading"),
                      message_queue=app.config.get("MESSAGE_QUEUE"), channel=f"scrutineer-{services(app).meeting.id}",
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

    services(app).start_live = start_ticker
