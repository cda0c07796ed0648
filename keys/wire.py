"""Reading a JSON request body from the network, strictly: what the tally and the kiosk agent both accept.

`read_json(data)` parses the bytes of one request body and refuses, with a `WireError` whose
`code` says why, anything a hand-made request could use to break a server or slip past a check:

- `not_utf8`       bytes that are not UTF-8 (a byte-order mark included);
- `too_deep`       arrays and objects nested deeper than `max_depth` (Python's parser would
                   otherwise recurse until it fails);
- `duplicate_key`  an object naming one key twice (two readers could take different values);
- `bad_number`     NaN, Infinity, a number too large to be finite, or an integer outside
                   ±(2**53 − 1) (JSON's exact integers; nothing here counts that far);
- `bad_text`       a string (value or key) holding a control character (C0, DEL, C1) or a
                   lone surrogate (not text: it cannot even be written as UTF-8);
- `malformed`      anything else that is not one JSON value.

Pure: bytes in, a value out; no I/O. Both servers map the codes to their JSON 400 answers.
"""
from __future__ import annotations

import json
import re
from typing import Any, Final

from keys.errors import Malformed

MAX_DEPTH: Final = 32
MAX_INT: Final = 2**53 - 1
# Strings (with their escapes) are skipped before counting brackets; a bracket in a string is text.
_STRING: Final = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)  # the unrolled loop: linear and fast
_BRACKET: Final = re.compile(r"[\[\]{}]")
_NOT_TEXT: Final = re.compile(r"[\x00-\x1f\x7f-\x9f\ud800-\udfff]")


class WireError(Malformed):
    """A request body that is not acceptable JSON; `code` is a stable machine word."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


def _depth(text: str) -> int:
    deepest = depth = 0
    for m in _BRACKET.finditer(_STRING.sub('""', text)):
        depth += 1 if m.group() in "[{" else -1
        deepest = max(deepest, depth)
    return deepest


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise WireError("duplicate_key", "an object names one key twice")
        out[key] = value
    return out


def _integer(text: str) -> int:
    if len(text) > 17:  # more digits than 2**53 has: refused before Python builds a huge int
        raise WireError("bad_number", "an integer is out of range")
    value = int(text)
    if abs(value) > MAX_INT:
        raise WireError("bad_number", "an integer is out of range")
    return value


def _float(text: str) -> float:
    value = float(text)
    if value in (float("inf"), float("-inf")):
        raise WireError("bad_number", "a number is out of range")
    return value


def _constant(name: str) -> Any:
    raise WireError("bad_number", f"{name} is not a JSON number")


def _check_text(value: Any) -> None:
    if isinstance(value, str):
        if _NOT_TEXT.search(value):
            raise WireError("bad_text", "a string holds a control character or a lone surrogate")
    elif isinstance(value, dict):
        for key, item in value.items():
            _check_text(key)
            _check_text(item)
    elif isinstance(value, list):
        for item in value:
            _check_text(item)


def read_json(data: bytes, *, max_depth: int = MAX_DEPTH) -> Any:
    """The one JSON value in `data`, or `WireError` (see the module's docstring for the codes)."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise WireError("not_utf8", "the body is not UTF-8 text") from exc
    if text.startswith("\ufeff"):
        raise WireError("not_utf8", "the body starts with a byte-order mark")
    if _depth(text) > max_depth:
        raise WireError("too_deep", f"arrays and objects are nested more than {max_depth} deep")
    try:
        value = json.loads(text, object_pairs_hook=_no_duplicates, parse_int=_integer, parse_float=_float,
                           parse_constant=_constant)
    except WireError:
        raise
    except (ValueError, RecursionError) as exc:
        raise WireError("malformed", "the body is not one JSON value") from exc
    _check_text(value)
    return value
