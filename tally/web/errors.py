"""One error shape for the whole tally: `{"error": {"code", "message"}}` with a 4xx status.

Pages get the same message rendered in Chinese (or English); a 500 rolls the session back and
never shows a stack trace. Messages are msgids of the translation layer.

The log of an unexpected error names the exception's type and where it was raised (file, line,
function), never its message or arguments: those can quote what a voter wrote in or a ballot
line, and logs must never carry ballot content.
"""
from __future__ import annotations

import traceback

from flask import Flask, Response, jsonify, render_template, request
from flask_babel import gettext
from werkzeug.exceptions import HTTPException

from tally.errors import ApiError
from tally.web import sessions
from tally.web.body import N_


def _wants_json() -> bool:
    if request.path.startswith("/api/"):
        return True
    best = request.accept_mimetypes.best_match(["application/json", "text/html"])
    return best == "application/json" and request.accept_mimetypes[best] > request.accept_mimetypes["text/html"]


MAX_DETAILS = 20


def translated_details(details: tuple[tuple[str, dict[str, object]], ...]) -> list[str]:
    """Each thing found wrong, translated; at most MAX_DETAILS, then how many more there are."""
    out = [gettext(msgid, **params) for msgid, params in details[:MAX_DETAILS]]
    if len(details) > MAX_DETAILS:
        out.append(gettext("… and %(n)s more.", n=len(details) - MAX_DETAILS))
    return out


def error_response(status: int, code: str, message: str, details: tuple[tuple[str, dict[str, object]], ...] = (),
                   **params: object) -> tuple[Response | str, int]:
    text = gettext(message, **params) if params else gettext(message)
    lines = translated_details(details)
    if lines:
        # The message names the first thing wrong; `details` lists them all (up to MAX_DETAILS).
        text = f"{text} {lines[0]}"
    if _wants_json():
        error: dict[str, object] = {"code": code, "message": text}
        if lines:
            error["details"] = lines
        return jsonify({"error": error}), status
    return render_template("console/error.html", status=status, code=code, message=text, details=lines), status


def where(err: BaseException) -> str:
    """An exception's type and the frames it passed through, without its message (see above)."""
    frames = traceback.extract_tb(err.__traceback__)[-8:]
    return type(err).__name__ + " at " + " < ".join(f"{f.filename.rsplit('/', 1)[-1]}:{f.lineno} {f.name}"
                                                    for f in reversed(frames))


_HTTP_CODES = {  # N_: extracted for translation (they answered in English before)
    400: ("malformed", N_("The request could not be read.")),
    401: ("unauthorized", N_("Please sign in first.")),
    403: ("forbidden", N_("You are not allowed to do this.")),
    404: ("not_found", N_("There is no such page or item.")),
    405: ("method_not_allowed", N_("This address does not accept that method.")),
    413: ("too_large", N_("The request is too large.")),
    415: ("unsupported_media_type", N_("Send JSON (Content-Type: application/json).")),
}


def init_app(app: Flask) -> None:
    @app.errorhandler(ApiError)
    def _api_error(err: ApiError):  # type: ignore[no-untyped-def]
        return error_response(err.status, err.code, err.message, err.details, **err.params)

    @app.errorhandler(HTTPException)
    def _http_error(err: HTTPException):  # type: ignore[no-untyped-def]
        code, message = _HTTP_CODES.get(err.code or 500, ("error", N_("The request could not be handled.")))
        return error_response(err.code or 500, code, message)

    @app.errorhandler(Exception)
    def _unexpected(err: Exception):  # type: ignore[no-untyped-def]

        sessions.close_session(err)
        app.logger.error("unexpected error on %s %s: %s", request.method, request.url_rule or "-", where(err))
        return error_response(500, "internal", "Something went wrong on the tally; nothing was recorded.")
