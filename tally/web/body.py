"""Reading a request: its body (a JSON object, a form, or a roster file), its path and its query.

Every request passes `check_request` before its view: a path id that is not `[A-Za-z0-9_-]`
is a 404; a query or form value with a control character (or over-long) is a 400; a body is
read once and strictly (`keys.wire.read_json`: no deep nesting, duplicate keys, huge integers,
control characters or lone surrogates) and must be of the type the route takes: JSON for the
API, a form for the console's three HTML forms, a file or JSON for the three uploads (roster,
judge pool, the scrutineers' card list).
An empty body is the empty object. Anything else is refused with a JSON 4xx and changes nothing.
"""
from __future__ import annotations

import re
from typing import Any, Final

from flask import Flask, g, request

from keys.wire import WireError, read_json
from tally.errors import ApiError
from tally.hall.checkin import parse_roster, read_roster_file

ID: Final = re.compile(r"[A-Za-z0-9_-]{1,64}")
MAX_QUERY: Final = 512
_CONTROL: Final = re.compile(r"[\x00-\x1f\x7f-\x9f\ud800-\udfff]")
WRITES: Final = frozenset({"POST", "PUT", "PATCH", "DELETE"})
# The console's HTML forms (sign-in, sign-out, the judge-card sheet) post form fields, not JSON.
FORM_ENDPOINTS: Final = frozenset({"console.login", "console.logout", "console.judge_cards"})
# A roster, a judge pool or the scrutineers' card list comes as an uploaded file, or as JSON.
UPLOAD_ENDPOINTS: Final = frozenset({"admin.roster", "judging.pool", "admin.cards_import"})
# The card list, and the void lines of left-over cards, are far larger than any other request.
LARGE_ENDPOINTS: Final = frozenset({"admin.cards_import", "admin.cards_void"})


def N_(msgid: str) -> str:
    """Marks a msgid for extraction; `ApiError` translates it when it is answered."""
    return msgid


WIRE_MESSAGES: Final = {
    "not_utf8": N_("The request body is not UTF-8 text."),
    "too_deep": N_("The request body is nested too deeply."),
    "duplicate_key": N_("The request body names one key twice."),
    "bad_number": N_("A number in the request is out of range."),
    "bad_text": N_("The request holds a control character or a character that is not text."),
    "malformed": N_("The request body is not valid JSON."),
}


def _check_text(value: str) -> None:
    if len(value) > MAX_QUERY or _CONTROL.search(value):
        raise ApiError(400, "bad_text", "The request holds a control character or a character that is not text.")


def check_request() -> None:
    """Path ids, query and form values, and the body: refused before any view runs."""
    if request.endpoint == "static" or request.routing_exception is not None:
        return  # no such page (404) or method (405): say that first
    for value in (request.view_args or {}).values():
        if not isinstance(value, str) or not ID.fullmatch(value):
            raise ApiError(404, "not_found", "There is no such page or item.")
    for key, value in request.args.items(multi=True):
        _check_text(key)
        _check_text(value)
    if request.method not in WRITES:
        return
    if request.endpoint in LARGE_ENDPOINTS:
        request.max_content_length = CARD_LIST_MAX_BYTES
    mimetype = request.mimetype
    if request.endpoint in FORM_ENDPOINTS or (request.endpoint in UPLOAD_ENDPOINTS and mimetype == "multipart/form-data"):
        if mimetype not in ("", "application/x-www-form-urlencoded", "multipart/form-data"):
            raise ApiError(415, "unsupported_media_type", "Send a form.")
        for key, value in request.form.items(multi=True):
            _check_text(key)
            _check_text(value)
        return
    raw = request.get_data(cache=True)
    if not raw:
        g.json_body = {}
        return
    if mimetype != "application/json":
        raise ApiError(415, "unsupported_media_type", "Send JSON (Content-Type: application/json).")
    try:
        g.json_body = read_json(raw)
    except WireError as exc:
        raise ApiError(400, exc.code, WIRE_MESSAGES.get(exc.code, WIRE_MESSAGES["malformed"])) from exc


def json_body() -> dict[str, Any]:
    """The request's JSON object (read by `check_request`); anything else is refused."""
    body = g.get("json_body")
    if body is None:
        if request.get_data(cache=True) and request.mimetype != "application/json":
            raise ApiError(415, "unsupported_media_type", "Send JSON (Content-Type: application/json).")
        raise ApiError(400, "malformed", "The request body is not valid JSON.")
    if not isinstance(body, dict):
        raise ApiError(400, "malformed", "Send a JSON object.")
    return body


def whole_number(body: dict[str, Any], key: str, low: int, high: int, *, code: str, message: str) -> int:
    """`body[key]` as a whole number from `low` to `high`; true/false, text and fractions are refused."""
    value = body.get(key)
    if type(value) is not int or not low <= value <= high:
        raise ApiError(400, code, message)
    return value


def roster_from_request() -> list[tuple[str, str, str]]:
    """A roster sent as an uploaded file (CSV or Excel) or as JSON rows with a header row."""
    if "file" in request.files:
        f = request.files["file"]
        return read_roster_file(f.filename or "roster.csv", f.read())
    body = g.get("json_body")
    rows = body.get("rows") if isinstance(body, dict) else None
    if not isinstance(rows, list) or not all(isinstance(r, list) for r in rows) or not all(
            c is None or isinstance(c, str) or type(c) is int for r in rows for c in r):
        raise ApiError(400, "bad_roster", "Send the roster as a file or as rows with a header row.")
    return parse_roster([["" if c is None else str(c) for c in r] for r in rows])


CARD_LIST_MAX_BYTES: Final = 16 * 1024 * 1024  # 20,000 cards with a key in each of seven rounds fit


def card_list_from_request() -> Any:
    """The scrutineers' card list (credentials.json), uploaded as a file or sent as the JSON body,
    read as strictly as any other body (`check_request` allowed this one request up to 16 MiB);
    the shape is checked by `tally.hall.cards.import_list`."""
    if "file" in request.files:
        try:
            return read_json(request.files["file"].read())
        except WireError as exc:
            raise ApiError(400, "bad_card_list", "This is not a valid ballot card list (credentials.json).") from exc
    return json_body()


def init_app(app: Flask) -> None:
    app.before_request(check_request)
