"""Reading a request's body: a JSON object, or a roster uploaded as a file or sent as rows.

Anything else (not JSON, an array, a string, a file that is not a roster) is refused with a
JSON 4xx and changes nothing.
"""
from __future__ import annotations

import json
from typing import Any

from flask import request

from tally.errors import ApiError
from tally.hall.checkin import parse_roster, read_roster_file


def json_body() -> dict[str, Any]:
    """The request's JSON object; anything else (not JSON, an array, a string) is refused."""
    if not request.is_json:
        raise ApiError(415, "unsupported_media_type", "Send JSON (Content-Type: application/json).")
    body = request.get_json(silent=True)
    if body is None:
        raise ApiError(400, "malformed", "The request body is not valid JSON.")
    if not isinstance(body, dict):
        raise ApiError(400, "malformed", "Send a JSON object.")
    return body


def roster_from_request() -> list[tuple[str, str, str]]:
    """A roster sent as an uploaded file (CSV or Excel) or as JSON rows with a header row."""
    if "file" in request.files:
        f = request.files["file"]
        return read_roster_file(f.filename or "roster.csv", f.read())
    body = request.get_json(silent=True) if request.is_json else None
    rows = body.get("rows") if isinstance(body, dict) else None
    if not isinstance(rows, list) or not all(isinstance(r, list) for r in rows):
        raise ApiError(400, "bad_roster", "Send the roster as a file or as rows with a header row.")
    return parse_roster([[str(c) for c in r] for r in rows])


CARD_LIST_MAX_BYTES = 16 * 1024 * 1024  # 20,000 cards with a key in each of seven rounds fit


def card_list_from_request() -> Any:
    """The scrutineers' card list (credentials.json), uploaded as a file or sent as the JSON body.

    A card list is far larger than any other request, so this one request may carry up to
    16 MiB; the shape is checked by `tally.hall.cards.import_list`."""
    request.max_content_length = CARD_LIST_MAX_BYTES
    if "file" in request.files:
        try:
            return json.loads(request.files["file"].read())
        except (ValueError, UnicodeDecodeError) as exc:
            raise ApiError(400, "bad_card_list", "This is not a valid ballot card list (credentials.json).") from exc
    return json_body()
