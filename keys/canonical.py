"""Canonical bytes: the one JSON encoding that is signed, hashed and sealed.

`canonical(obj)` is JSON in UTF-8 with sorted keys, no spaces and no ASCII escaping, over a
closed set of types (dict with str keys, list, str, int, bool, None). Floats are refused:
a float has no single decimal spelling, and counts travel as ints or decimal strings.
`parse_canonical(b)` accepts bytes only if they are exactly what `canonical` would produce, so
two different byte strings can never carry the same signed value. Binary travels as unpadded
base64url (`b64e`/`b64d`, the decoder is strict).

Touches no keys, no files and no clock.
"""
from __future__ import annotations

import base64
import binascii
import json
import re
from typing import Any

from keys.errors import Malformed

_B64URL = re.compile(r"[A-Za-z0-9_-]*")


def _check(obj: Any, depth: int = 0) -> None:
    if depth > 64:
        raise ValueError("value is nested too deeply")
    if obj is None or isinstance(obj, (bool, int, str)):
        if isinstance(obj, str):
            try:
                obj.encode("utf-8")
            except UnicodeEncodeError as exc:
                raise ValueError("string is not valid Unicode") from exc
        return
    if isinstance(obj, float):
        raise TypeError("floats have no canonical form; use an int or a decimal string")
    if isinstance(obj, dict):
        for key, value in obj.items():
            if not isinstance(key, str):
                raise TypeError(f"dict keys must be str, not {type(key).__name__}")
            _check(key, depth + 1)
            _check(value, depth + 1)
        return
    if isinstance(obj, list):
        for value in obj:
            _check(value, depth + 1)
        return
    raise TypeError(f"{type(obj).__name__} has no canonical form")


def canonical(obj: Any) -> bytes:
    """The canonical bytes of `obj`; raises TypeError for a float or any other foreign type."""
    _check(obj)
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def _refuse_float(text: str) -> Any:
    raise Malformed("floats are not canonical")


def _refuse_constant(text: str) -> Any:
    raise Malformed(f"{text} is not JSON")


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise Malformed("duplicate key")
        out[key] = value
    return out


def parse_canonical(data: bytes) -> Any:
    """Parse canonical bytes; raises `Malformed` unless `canonical(result) == data`."""
    if not isinstance(data, (bytes, bytearray)):
        raise Malformed("canonical input must be bytes")
    data = bytes(data)
    try:
        text = data.decode("utf-8")
        obj = json.loads(
            text,
            parse_float=_refuse_float,
            parse_constant=_refuse_constant,
            object_pairs_hook=_no_duplicates,
        )
        again = canonical(obj)
    except Malformed:
        raise
    except (ValueError, TypeError, RecursionError) as exc:
        raise Malformed("not canonical JSON") from exc
    if again != data:
        raise Malformed("not in canonical form")
    return obj


def b64e(data: bytes) -> str:
    """Unpadded base64url of `data`."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64d(text: str) -> bytes:
    """Strict inverse of `b64e`: refuses padding, other alphabets and non-zero spare bits."""
    if not isinstance(text, str) or not _B64URL.fullmatch(text) or len(text) % 4 == 1:
        raise Malformed("not unpadded base64url")
    try:
        data = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError) as exc:
        raise Malformed("not unpadded base64url") from exc
    if b64e(data) != text:
        # Non-zero spare bits would give two spellings of the same bytes.
        raise Malformed("not unpadded base64url")
    return data
