"""`keys.wire.read_json`: the strict reader both servers use for every request body."""
from __future__ import annotations

import json

import pytest

from keys.wire import MAX_DEPTH, MAX_INT, WireError, read_json


def nested(depth: int) -> bytes:
    return ("[" * depth + "]" * depth).encode()


def test_nesting_up_to_the_limit_is_read_and_one_more_is_refused() -> None:
    assert read_json(nested(MAX_DEPTH)) == json.loads(nested(MAX_DEPTH))
    with pytest.raises(WireError) as err:
        read_json(nested(MAX_DEPTH + 1))
    assert err.value.code == "too_deep"
    with pytest.raises(WireError, match="nested"):
        read_json(nested(100_000))  # Python's own parser would fail with a RecursionError


def test_brackets_inside_strings_are_text() -> None:
    text = json.dumps({"name": "[" * 100 + '\\"' + "{" * 100, "list": [[["x]]]"]]]}).encode()
    assert read_json(text)["list"] == [[["x]]]"]]]


@pytest.mark.parametrize("body, code", [
    (b'{"a": 1, "a": 2}', "duplicate_key"),
    (b'{"x": {"a": 1, "a": 1}}', "duplicate_key"),
    (b"NaN", "bad_number"),
    (b"[Infinity]", "bad_number"),
    (b"[-Infinity]", "bad_number"),
    (b"[1e400]", "bad_number"),
    (str(MAX_INT + 1).encode(), "bad_number"),
    (str(-MAX_INT - 1).encode(), "bad_number"),
    (b"1" * 5000, "bad_number"),
    (b'["\\u0000"]', "bad_text"),
    (b'["\\u001b[31m"]', "bad_text"),
    (b'["\\u0085"]', "bad_text"),
    (b'["\\ud800"]', "bad_text"),
    (b'{"\\udfff": 1}', "bad_text"),
    (b'["\xff"]', "not_utf8"),
    (b"\xef\xbb\xbf{}", "not_utf8"),
    (b"", "malformed"),
    (b"{", "malformed"),
    (b"{} {}", "malformed"),
    (b"'x'", "malformed"),
])
def test_what_is_refused_and_why(body: bytes, code: str) -> None:
    with pytest.raises(WireError) as err:
        read_json(body)
    assert err.value.code == code


def test_what_is_read() -> None:
    assert read_json(str(MAX_INT).encode()) == MAX_INT
    assert read_json(b'{"name": "\\u738b\\u3000\\u4e94", "tab": "a b", "emoji": "\\ud83d\\ude00"}') == {
        "name": "王　五", "tab": "a b", "emoji": "😀"}
    assert read_json(b'{"x": [1.5, true, null, "<b>"]}') == {"x": [1.5, True, None, "<b>"]}
