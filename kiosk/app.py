"""The kiosk's local web app: the voter's and the judge's screens, their small JSON API, and the staff status page.

The app factory only wires (config, translation, routes, error handlers); the `Agent` does the
work. Views are thin: parse JSON, call the agent, answer. Bad input answers
`{"error": {"code", "message"}}` with a 4xx, never a 500. Every answer is `no-store`, so no
ballot screen survives in the browser's cache; the page keeps nothing in web storage.

Hardening, as on the tally: a request whose `Host` is not this kiosk's own address is refused
(`allowed_host`: a web page on another site that rebinds its name to 127.0.0.1 cannot drive the
screens); a body is read strictly (`keys.wire.read_json`: no deep nesting, duplicate keys, huge
numbers, control characters or lone surrogates) and must be JSON; a strict Content-Security-
Policy and the other security headers go on every answer; an unexpected error is logged by its
type and place only, never its message (it could quote a ballot).
"""
from __future__ import annotations

import logging
import time
import traceback
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from flask import Blueprint, Flask, current_app, jsonify, render_template, request
from flask.typing import ResponseReturnValue
from flask_babel import Babel, gettext
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Response

from keys.fingerprint import fingerprint
from keys.wire import WireError, read_json
from kiosk.agent import Agent
from kiosk.assets import static_dir, templates_dir
from kiosk.ballots import N_
from kiosk.judge import JudgeSession
from kiosk.refusal import Refusal

log = logging.getLogger("kiosk.app")
LANGUAGES = ("zh", "en")
LANG_COOKIE = "kiosk_lang"
TRANSLATIONS = Path(__file__).resolve().parent / "translations"

babel = Babel()
bp = Blueprint("kiosk", __name__)


def select_locale() -> str:
    asked = request.args.get("lang")
    if asked in LANGUAGES:
        return asked
    saved = request.cookies.get(LANG_COOKIE)
    return saved if saved in LANGUAGES else "zh"


def agent() -> Agent:
    found: Agent = current_app.extensions["kiosk_agent"]
    return found


def _error(code: str, message: str, status: int, **params: Any) -> ResponseReturnValue:
    return jsonify({"error": {"code": code, "message": gettext(message, **params)}}), status


LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1"})
WIRE_MESSAGES = {
    "not_utf8": N_("The request is not UTF-8 text."),
    "too_deep": N_("The request is nested too deeply."),
    "duplicate_key": N_("The request names one key twice."),
    "bad_number": N_("A number in the request is out of range."),
    "bad_text": N_("The request holds a control character or a character that is not text."),
}


def _json_body() -> dict[str, Any]:
    if request.mimetype != "application/json":
        # Also keeps other web pages from posting here: a JSON POST needs a CORS preflight.
        raise Refusal("unsupported_media_type", N_("Send JSON."), 415)
    try:
        body = read_json(request.get_data(cache=True))
    except WireError as exc:
        raise Refusal(exc.code, WIRE_MESSAGES.get(exc.code, N_("The request is not well formed.")), 400) from exc
    if not isinstance(body, dict):
        raise Refusal("malformed", N_("The request is not well formed."), 400)
    return body


def allowed_host() -> None:
    """Only this kiosk's own address: its loopback names, or the address it was told to serve on."""
    try:
        host = urlsplit("//" + request.host).hostname
    except ValueError:
        host = None
    allowed = LOOPBACK | {h.lower() for h in current_app.config.get("KIOSK_HOSTS", ())}
    if host is None or host not in allowed:
        raise Refusal("bad_host", N_("This kiosk answers only at its own address."), 421)


@bp.get("/")
def index() -> str:
    a = agent()
    return render_template(
        "kiosk/index.html",
        form=a.form,
        rounds=a.voter_rounds(),
        state=a.state(),
        receipt_seconds=a.receipt_seconds,
        lang=select_locale(),
    )


@bp.get("/status")
def status() -> str:
    a = agent()
    age = None if a.last_contact is None else int(time.monotonic() - a.last_contact)
    return render_template(
        "kiosk/status.html",
        pairing=a.pairing,
        kiosk_fingerprint=fingerprint(a.signer.identity.public_bytes()),
        state=a.state(),
        contact_age=age,
        counts=a.outbox.counts(),
        rejections=a.outbox.rejections(),
        lang=select_locale(),
    )


@bp.get("/api/state")
def api_state() -> ResponseReturnValue:
    return jsonify(agent().state())


@bp.post("/api/card")
def api_card() -> ResponseReturnValue:
    body = _json_body()
    form_version = body.get("form")
    if body.get("unlock") is True:
        session = agent().open_session(use_unlock=True, form_version=form_version)
    elif isinstance(body.get("card"), str):
        session = agent().open_session(card_text=body["card"], form_version=form_version)
    else:
        raise Refusal("malformed", N_("The request is not well formed."), 400)
    if isinstance(session, JudgeSession):
        return jsonify({"session": session.token, **_judge_screen(agent().judges.screen(session.token))})
    return jsonify({
        "mode": "voter",
        "session": session.token,
        "check_code": session.check_code,
        "rounds": [r.id for r in session.rounds],
    })


def _judge_screen(screen: dict[str, Any]) -> dict[str, Any]:
    """The judge desk's screen with its notice translated for the page."""
    notice = screen.get("notice")
    if notice:
        msgid, params = notice.pop("message"), notice.pop("params")
        notice["message"] = gettext(msgid, **params)  # msgids from kiosk.judge, marked there with N_
    return screen


def _token(body: dict[str, Any]) -> str:
    """A session token as the page sent it; anything but short ASCII text is no token at all."""
    token = body.get("session")
    return token if isinstance(token, str) and token.isascii() and len(token) <= 64 else ""


@bp.post("/api/judge")
def api_judge() -> ResponseReturnValue:
    """The judge's page polls this about once a second: which screen, which contestant."""
    return jsonify(_judge_screen(agent().judges.poll(_token(_json_body()))))


@bp.post("/api/judge/score")
def api_judge_score() -> ResponseReturnValue:
    body = _json_body()
    screen = agent().judges.cast(_token(body), body.get("contestant"), body.get("score"))
    return jsonify(_judge_screen(screen)), 201


@bp.post("/api/judge/exit")
def api_judge_exit() -> ResponseReturnValue:
    agent().judges.unbind(_token(_json_body()))
    return jsonify({"ok": True})


@bp.post("/api/cancel")
def api_cancel() -> ResponseReturnValue:
    agent().end_session(_token(_json_body()))
    return jsonify({"ok": True})


@bp.post("/api/cast")
def api_cast() -> ResponseReturnValue:
    body = _json_body()
    done = agent().cast(_token(body), body.get("rounds"))
    return jsonify({"receipts": list(done.receipt_codes), "clear_after": agent().receipt_seconds}), 201


def _on_refusal(exc: Refusal) -> ResponseReturnValue:
    return _error(exc.code, exc.message, exc.status, **exc.params)


_HTTP_ERRORS = {
    400: ("malformed", N_("The request is not well formed.")),
    404: ("not_found", N_("Not found.")),
    405: ("method_not_allowed", N_("Method not allowed.")),
    413: ("too_large", N_("The request is too large.")),
    415: ("unsupported_media_type", N_("Send JSON.")),
}


def _on_http(exc: HTTPException) -> ResponseReturnValue:
    status = exc.code or 500
    if not request.path.startswith("/api/"):
        return exc
    code, message = _HTTP_ERRORS.get(status, ("internal", N_("Something went wrong. Please call the staff.")))
    return _error(code, message, status)


def _on_unexpected(exc: Exception) -> ResponseReturnValue:
    frames = traceback.extract_tb(exc.__traceback__)[-8:]
    place = " < ".join(f"{f.filename.rsplit('/', 1)[-1]}:{f.lineno} {f.name}" for f in reversed(frames))
    log.error("unexpected error on %s %s: %s at %s", request.method, request.url_rule or "-", type(exc).__name__, place)
    if not request.path.startswith("/api/"):
        return gettext("Something went wrong. Please call the staff."), 500
    return _error("internal", N_("Something went wrong. Please call the staff."), 500)


def _headers(resp: Response) -> Response:
    resp.headers["Cache-Control"] = "no-store"
    resp.headers["Referrer-Policy"] = "no-referrer"
    resp.headers["X-Content-Type-Options"] = "nosniff"
    resp.headers["X-Frame-Options"] = "DENY"
    resp.headers["Content-Security-Policy"] = (
        "default-src 'none'; img-src 'self' data: blob:; media-src 'self' blob:; style-src 'self'; "
        "script-src 'self'; connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
    )
    resp.headers["Cross-Origin-Opener-Policy"] = "same-origin"
    resp.headers["Cross-Origin-Resource-Policy"] = "same-origin"
    asked = request.args.get("lang")
    if asked in LANGUAGES:
        resp.set_cookie(LANG_COOKIE, asked, max_age=365 * 24 * 3600, samesite="Strict", httponly=True)
    return resp


def create_app(kiosk_agent: Agent, test_config: Mapping[str, Any] | None = None) -> Flask:
    app = Flask(__name__, template_folder=str(templates_dir()), static_folder=str(static_dir()),
                static_url_path="/static")
    app.config.update(
        MAX_CONTENT_LENGTH=64 * 1024,
        BABEL_DEFAULT_LOCALE="zh",
        BABEL_TRANSLATION_DIRECTORIES=str(TRANSLATIONS),
    )
    if test_config:
        app.config.update(test_config)
    app.json.ensure_ascii = False  # type: ignore[attr-defined]
    babel.init_app(app, locale_selector=select_locale)
    app.extensions["kiosk_agent"] = kiosk_agent
    app.register_blueprint(bp)
    app.register_error_handler(Refusal, _on_refusal)
    app.register_error_handler(HTTPException, _on_http)
    app.register_error_handler(Exception, _on_unexpected)
    app.before_request(allowed_host)
    app.after_request(_headers)
    return app
