"""Who may do what: the chair (console and admin API), the check-in desk, the projector.

- The chair signs in with the admin token made by `tally init` (or the CLI sends it as a
  Bearer token). The console session is kept on the server (`tally.web.logins`).
- The desk and the projector open links carrying a role token: an HMAC of the role under the
  display key, a key used for nothing else. Anyone with the projector link sees only what the
  hall sees anyway.
- CSRF, one rule for every blueprint (`check_csrf`, before every view): a state-changing request
  (POST, PUT, PATCH, DELETE) must carry its session's token (the `X-CSRF-Token` header, or the
  `csrf` field of the console's HTML forms), non-empty and equal to the session's, or the chair's
  admin token as a Bearer token (the command line). Exempt, and why: the kiosk API
  (`CSRF_EXEMPT`), which reads no cookie at all (a kiosk proves itself by its signature or its
  pairing code), and the sign-in form, which reads no cookie either and starts a new session
  only for the holder of the chair's token.
"""
from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable
from functools import wraps
from typing import Final, TypeVar

from flask import current_app, redirect, request, session, url_for

from tally.errors import ApiError
from tally.web.logins import same_token, start_session

F = TypeVar("F", bound=Callable[..., object])
ROLES = ("projector", "desk")
CSRF_EXEMPT: Final = frozenset({"api.pair", "api.heartbeat", "api.claim_unlock", "api.check_card", "api.envelopes",
                                "console.login"})
WRITES: Final = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def role_token(role: str) -> str:
    key = current_app.config["DISPLAY_KEY"].value.encode()
    return hmac.new(key, b"scrutineer/display/v1\0" + role.encode(), hashlib.sha256).hexdigest()[:32]


def token_role(token: object) -> str | None:
    for role in ROLES:
        if same_token(token, role_token(role)):
            return role
    return None


def admin_token_ok(token: object) -> bool:
    return same_token(token, current_app.config["ADMIN_TOKEN"].value)


def bearer() -> str | None:
    h = request.headers.get("Authorization", "")
    return h[7:].strip() if h.startswith("Bearer ") else None


def is_chair() -> bool:
    return session.get("role") == "chair" or admin_token_ok(bearer())


def chair_required(view: F) -> F:
    @wraps(view)
    def wrapped(*args, **kwargs):  # type: ignore[no-untyped-def]
        if is_chair():
            return view(*args, **kwargs)
        if request.path.startswith("/api/"):
            raise ApiError(401, "unauthorized", "Please sign in first.")
        return redirect(url_for("console.login", next=request.full_path))

    return wrapped  # type: ignore[return-value]


def desk_required(view: F) -> F:
    @wraps(view)
    def wrapped(*args, **kwargs):  # type: ignore[no-untyped-def]
        if token_role(request.args.get("t")) == "desk" and session.get("role") not in ("chair", "desk"):
            start_session("desk")
        if is_chair() or session.get("role") == "desk":
            return view(*args, **kwargs)
        raise ApiError(401, "unauthorized", "Open the check-in desk link given by the chair.")

    return wrapped  # type: ignore[return-value]


def check_csrf() -> None:
    """The one CSRF rule (see the module's docstring), before every view of every blueprint."""
    if request.method not in WRITES or request.endpoint in CSRF_EXEMPT or request.endpoint is None:
        return
    if admin_token_ok(bearer()):
        return
    sent = request.headers.get("X-CSRF-Token") or (request.form.get("csrf") if request.mimetype in (
        "application/x-www-form-urlencoded", "multipart/form-data") else None)
    if not same_token(sent, session.get("csrf")):
        raise ApiError(403, "csrf", "This page has expired; reload it and try again.")
