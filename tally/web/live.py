"""The live feed's door: who may join which audience of the Socket.IO feed (`/live`).

The chair's console (session cookie or admin token) joins `console`; a projector link's display
token joins `projector`; anyone else is refused in `connect`. Emitting is `tally.show.feed`'s job.
"""
from __future__ import annotations

from typing import Any

from flask import request
from flask_socketio import join_room

from tally.services import services
from tally.show.feed import socketio, touch
from tally.web.auth import is_chair, token_role


def connect(auth: Any = None) -> bool:
    """Join the console or the projector audience; refuse anyone else."""
    services().start_live()
    token = auth.get("t") if isinstance(auth, dict) else None
    role = "console" if is_chair() else token_role(token or request.args.get("t"))
    if role not in ("console", "projector"):
        return False
    join_room(role)
    touch()
    return True


def init_app() -> None:
    socketio.on_event("connect", connect, namespace="/live")
