"""The live feed's door: who may join which audience of the Socket.IO feed (`/live`).

The chair's console joins the `console` audience: with the admin token (the command line) the
`console` room itself; with the session cookie (the console page) its session's own room
(`tally.web.logins.feed_room`), which the feed speaks to only while that session is alive, so a
socket outlives neither sign-out nor expiry. A projector link's display token joins `projector`;
anyone else is refused in `connect`. Emitting is `tally.show.feed`'s job.
"""
from __future__ import annotations

from typing import Any

from flask import request
from flask_socketio import join_room
from sqlalchemy.orm import Session

from tally.services import services
from tally.show import feed
from tally.show.feed import socketio, touch
from tally.web.auth import admin_token_ok, bearer, is_chair, token_role
from tally.web.logins import COOKIE, feed_room, live_console_rooms


def connect(auth: Any = None) -> bool:
    """Join the console or the projector audience; refuse anyone else."""
    services().start_live()
    token = auth.get("t") if isinstance(auth, dict) else None
    if is_chair():
        join_room("console" if admin_token_ok(bearer()) else feed_room(request.cookies.get(COOKIE, "")))
    elif token_role(token or request.args.get("t")) == "projector":
        join_room("projector")
    else:
        return False
    touch()
    return True


def _console_rooms(s: Session) -> list[str]:
    return ["console", *live_console_rooms(s)]


def init_app() -> None:
    feed.console_rooms = _console_rooms
    socketio.on_event("connect", connect, namespace="/live")
