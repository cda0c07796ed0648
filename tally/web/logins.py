"""Sign-in sessions of the chair's console and the check-in desk, kept on the server.

- The session cookie carries only a random id; the session (role, CSRF token) is a row of
  `web_sessions` under the id's hash. A session lives at most `SESSION_HOURS` from sign-in and
  ends after `SESSION_IDLE_MINUTES` without a request; signing in starts a new session (a new id:
  a cookie planted before sign-in is worth nothing after it) and signing out deletes the row, so
  a copied cookie dies with the sign-out. The cookie is `HttpOnly`, `SameSite=Strict`, and
  `Secure` when the tally serves HTTPS. A request without a cookie writes nothing.
- Each session has its CSRF token (`csrf_token`); `tally.web.auth.check_csrf` holds every
  state-changing request to it.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import re
import secrets
from datetime import datetime, timedelta
from typing import Any, Final

from flask import Flask, Request, Response, request, session
from flask.sessions import SessionInterface, SessionMixin
from sqlalchemy import delete, or_
from werkzeug.datastructures import CallbackDict

from tally.services import services
from tally.store.models import WebSession

COOKIE: Final = "scrutineer_session"
SESSION_HOURS: Final = 12
SESSION_IDLE_MINUTES: Final = 60
SEEN_EVERY: Final = timedelta(minutes=1)  # how often a session's last use is written back
_SID: Final = re.compile(r"[A-Za-z0-9_-]{43}")


def _hash(sid: str) -> str:
    return hashlib.sha256(b"scrutineer/web-session/v1\0" + sid.encode()).hexdigest()


def same_token(given: object, expected: object) -> bool:
    """Constant-time equality of two tokens; anything that is not non-empty ASCII text is unequal."""
    if not isinstance(given, str) or not isinstance(expected, str) or not given or not expected:
        return False
    if not given.isascii() or not expected.isascii() or len(given) > 256:
        return False
    return hmac.compare_digest(given.encode(), expected.encode())


class LoginSession(CallbackDict[str, Any], SessionMixin):
    """One browser's session: its data, the id it came with, and whether sign-in asked for a new id."""

    def __init__(self, data: dict[str, Any] | None = None, sid: str | None = None,
                 seen: datetime | None = None) -> None:
        def on_update(_self: Any) -> None:
            self.modified = True

        super().__init__(data, on_update)
        self.sid = sid
        self.seen = seen
        self.modified = False
        self.rotate = False


class ServerSessions(SessionInterface):
    """Flask's session, kept in `web_sessions`; the cookie holds a random id and nothing else."""

    def _limits(self, app: Flask) -> tuple[timedelta, timedelta]:
        return (timedelta(hours=app.config.get("SESSION_HOURS", SESSION_HOURS)),
                timedelta(minutes=app.config.get("SESSION_IDLE_MINUTES", SESSION_IDLE_MINUTES)))

    def open_session(self, app: Flask, request: Request) -> LoginSession:
        sid = request.cookies.get(COOKIE, "")
        if not _SID.fullmatch(sid):
            return LoginSession()
        svc = services(app)
        now = svc.now()
        lifetime, idle = self._limits(app)
        with svc.store.reader() as s:
            row = s.get(WebSession, _hash(sid))
            if row is None or now - row.created_at >= lifetime or now - row.seen_at >= idle:
                return LoginSession()
            return LoginSession(json.loads(row.data), sid=sid, seen=row.seen_at)

    def save_session(self, app: Flask, session: SessionMixin, response: Response) -> None:
        assert isinstance(session, LoginSession)
        svc = services(app)
        now = svc.now()
        kw: dict[str, Any] = {"path": self.get_cookie_path(app), "secure": self.get_cookie_secure(app),
                              "httponly": True, "samesite": "Strict"}
        # Most requests (a kiosk's, a page's with a fresh session) write nothing at all.
        if session.sid is None and not session:
            if request.cookies.get(COOKIE) is not None:  # an expired or unknown id: drop it
                response.delete_cookie(COOKIE, **kw)
            return
        if session.sid is None and not session.modified:
            return
        if (session.sid is not None and session and not session.rotate and not session.modified
                and (response.status_code >= 400 or (session.seen is not None and now - session.seen < SEEN_EVERY))):
            return  # nothing new; a refused request changes nothing, not even the session's last use
        with svc.store.writer() as s, s.begin():
            if session.sid is not None and (session.rotate or not session):
                s.execute(delete(WebSession).where(WebSession.id_hash == _hash(session.sid)))
                session.sid = None
                if not session:  # signed out
                    response.delete_cookie(COOKIE, **kw)
                    return
            data = json.dumps(dict(session), sort_keys=True)
            if session.sid is None:
                lifetime, idle = self._limits(app)
                s.execute(delete(WebSession).where(or_(WebSession.created_at <= now - lifetime,
                                                       WebSession.seen_at <= now - idle)))
                session.sid = secrets.token_urlsafe(32)
                s.add(WebSession(id_hash=_hash(session.sid), data=data, created_at=now, seen_at=now))
                response.set_cookie(COOKIE, session.sid, **kw)
                response.vary.add("Cookie")
                return
            row = s.get(WebSession, _hash(session.sid))
            if row is not None:
                row.data = data
                row.seen_at = now


def start_session(role: str) -> None:
    """Sign in: forget what the session held and take a new id and a new CSRF token."""
    assert isinstance(session, LoginSession)
    session.clear()
    session.rotate = True
    session["role"] = role
    session["csrf"] = secrets.token_urlsafe(24)


def end_session() -> None:
    """Sign out: the session's row is deleted, so its cookie is worth nothing, anywhere."""
    session.clear()


def csrf_token() -> str:
    """The session's CSRF token for its pages (made once per session)."""
    if "csrf" not in session:
        session["csrf"] = secrets.token_urlsafe(24)
    token: str = session["csrf"]
    return token


def init_app(app: Flask) -> None:
    app.session_interface = ServerSessions()
    app.config.update(SESSION_COOKIE_NAME=COOKIE, SESSION_COOKIE_HTTPONLY=True, SESSION_COOKIE_SAMESITE="Strict")
