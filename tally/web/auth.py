"""Who may do what: the chair (console and admin API), the check-in desk, the projector.

- The chair signs in with the admin token made by `tally init` (or the CLI sends it as a
  Bearer token). The console session lives in a signed cookie (session key).
- The desk and the projector open links carrying a role token: an HMAC of the role under the
  display key, a key used for nothing else. Anyone with the projector link sees only what the
  hall sees anyway.
"""
from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable
from functools import wraps
from typing import TypeVar

from flask import current_app, redirect, request, session, url_for

from tally.errors import ApiError

F = TypeVar("F", bound=Callable[..., object])
ROLES = ("projector", "desk")


def role_token(role: str) -> str:
    key = current_app.config["DISPLAY_KEY"].value.encode()
    return hmac.new(key, b"scrutineer/display/v1\0" + role.encode(), hashlib.sha256).hexdigest()[:32]


def token_role(token: str | None) -> str | None:
    if not token:
        return None
    for role in ROLES:
        if hmac.compare_digest(token, role_token(role)):
            return role
    return None


def admin_token_ok(token: str | None) -> bool:
    if not token:
        return False
    return hmac.compare_digest(token.encode(), current_app.config["ADMIN_TOKEN"].value.encode())


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
        if token_role(request.args.get("t")) == "desk":
            session["role"] = session.get("role") or "desk"
        if is_chair() or session.get("role") == "desk":
            return view(*args, **kwargs)
        raise ApiError(401, "unauthorized", "Open the check-in desk link given by the chair.")

    return wrapped  # type: ignore[return-value]
