"""Canonical bytes and strict base64url: vectors, refusals and a Hypothesis round trip."""
from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from keys.canonical import b64d, b64e, canonical, parse_canonical
from keys.errors import Malformed

VECTORS = [
    ({}, b"{}"),
    ([], b"[]"),
    ({"b": 1, "a": [True, False, None]}, b'{"a":[true,false,null],"b":1}'),
    ({"round": "r1", "sections": {"mayor": ["张三"]}},
     '{"round":"r1","sections":{"mayor":["张三"]}}'.encode()),
    # Non-ASCII is raw UTF-8, control characters and quotes are escaped, keys sort by code point.
    ({"é": "x", "a": '张三 "q"\n\t'}, '{"a":"张三 \\"q\\"\\n\\t","é":"x"}'.encode()),
    ({"民主推荐": -7, "Z": 0}, '{"Z":0,"民主推荐":-7}'.encode()),
    ("\u2028", "\"\u2028\"".encode("utf-8")),
    (12345678901234567890, b"12345678901234567890"),
]


@pytest.mark.parametrize(("value", "expected"), VECTORS)
def test_canonical_vectors(value: object, expected: bytes) -> None:
    assert canonical(value) == expected
    assert parse_canonical(expected) == value


def test_exact_bytes_of_a_chinese_ballot() -> None:
    data = canonical({"round": "e1", "grades": {"张三": "优秀", "李四": ["称职", "优秀"]}})
    assert data.hex() == (
        "7b22677261646573223a7b22e5bca0e4b889223a22e4bc98e7a780222c22e69d8ee59b9b223a5b22e7a7b0e8818c"
        "222c22e4bc98e7a780225d7d2c22726f756e64223a226531227d"
    )


@pytest.mark.parametrize("value", [1.0, {"a": 0.5}, [float("nan")], (1, 2), {1: "a"}, b"x", {"a": {1, 2}}])
def test_foreign_types_are_refused(value: object) -> None:
    with pytest.raises(TypeError):
        canonical(value)


def test_lone_surrogate_is_refused() -> None:
    with pytest.raises(ValueError):
        canonical({"a": "\ud800"})


@pytest.mark.parametrize("data", [
    b'{"b":1,"a":2}',            # keys out of order
    b'{"a": 1}',                 # whitespace
    b' {"a":1}',
    b'{"a":1}\n',
    b'{"a":"\\u5f20"}',          # escaped non-ASCII
    b'{"a":1.0}',                # float
    b'{"a":1e3}',
    b'{"a":-0}',
    b'{"a":NaN}',
    b'{"a":1,"a":1}',            # duplicate key
    b'{"a":01}',
    b"\xff",                     # not UTF-8
    b"",
    b"[1,",
    b'"\\ud800"',                # lone surrogate
    b"{\"a\":\"\\u00e9\"}",
])
def test_non_canonical_bytes_are_refused(data: bytes) -> None:
    with pytest.raises(Malformed):
        parse_canonical(data)


def test_parse_refuses_str_input() -> None:
    with pytest.raises(Malformed):
        parse_canonical('{"a":1}')  # type: ignore[arg-type]


def test_deep_nesting_is_malformed_not_a_crash() -> None:
    with pytest.raises(Malformed):
        parse_canonical(b"[" * 100_000 + b"]" * 100_000)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers(min_value=-(2**70), max_value=2**70)
    | st.text(st.characters(exclude_categories=("Cs",))),
    lambda children: st.lists(children, max_size=5)
    | st.dictionaries(st.text(st.characters(exclude_categories=("Cs",)), max_size=8), children, max_size=5),
    max_leaves=25,
)


@settings(max_examples=300, deadline=None)
@given(json_values)
def test_round_trip(value: object) -> None:
    data = canonical(value)
    assert parse_canonical(data) == value
    assert canonical(parse_canonical(data)) == data


@pytest.mark.parametrize(("data", "text"), [
    (b"", ""), (b"\x00", "AA"), (b"\xff\xff", "__8"), (b"\xfb\xff", "-_8"), (bytes(range(6)), "AAECAwQF"),
])
def test_b64_vectors(data: bytes, text: str) -> None:
    assert b64e(data) == text
    assert b64d(text) == data


@pytest.mark.parametrize("text", ["AA==", "AA=", "+/8", "//8", "A", "AB", "AAF", "AA AA", "AA\n", "é", None, b"AA"])
def test_b64d_is_strict(text: object) -> None:
    # "AB" and "AAF" carry non-zero spare bits: a second spelling of the same bytes.
    with pytest.raises(Malformed):
        b64d(text)  # type: ignore[arg-type]


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=100))
def test_b64_round_trip(data: bytes) -> None:
    assert b64d(b64e(data)) == data
