"""Whatever arrives from the network, each parser raises only its one documented error."""
from __future__ import annotations

import contextlib
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from keys.canonical import b64e, canonical
from keys.cards import parse_card
from keys.envelope import parse_envelope, verify_receipt
from keys.errors import BadEnvelope, BadPairingOffer, BadReceipt, BadSignature, Malformed
from keys.identity import Identity
from keys.pairing import PairingOffer
from keys.request import verify_request

KEY = Identity.generate().public_bytes()

scalars = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=40) | st.binary(max_size=40)
b64_text = st.binary(max_size=200).map(b64e)
json_like = st.recursive(
    scalars | b64_text,
    lambda c: st.lists(c, max_size=4) | st.dictionaries(st.text(max_size=10), c, max_size=4),
    max_leaves=12,
)
fields = st.sampled_from(["envelope", "kiosk_sig", "card_sig", "receipt", "sig", "request"])
bodies = json_like | st.dictionaries(fields, json_like | b64_text, max_size=4)
# Canonical-looking envelopes with random values, to get past base64 and JSON into field checks.
envelope_values = st.fixed_dictionaries(
    {
        "v": st.sampled_from([1, 2, True, "1"]),
        "meeting": st.sampled_from(["0123456789abcdef", "x"]),
        "round": st.text(max_size=5),
        "kiosk": st.text(max_size=5),
        "nonce": b64_text,
        "card": b64_text,
        "sealed": b64_text,
    }
)


@settings(max_examples=200, deadline=None)
@given(bodies)
def test_parse_envelope_only_raises_bad_envelope(body: Any) -> None:
    with contextlib.suppress(BadEnvelope):
        parse_envelope(body)


@settings(max_examples=200, deadline=None)
@given(envelope_values, b64_text, b64_text)
def test_parse_envelope_fields(fields: dict[str, Any], kiosk_sig: str, card_sig: str) -> None:
    body = {"envelope": b64e(canonical(fields)), "kiosk_sig": kiosk_sig, "card_sig": card_sig}
    with contextlib.suppress(BadEnvelope):
        parse_envelope(body)


@settings(max_examples=200, deadline=None)
@given(bodies, st.text(max_size=64))
def test_verify_receipt_only_raises_bad_receipt(body: Any, envelope_hash: str) -> None:
    with pytest.raises(BadReceipt):
        verify_receipt(body, KEY, envelope_hash)


@settings(max_examples=200, deadline=None)
@given(bodies)
def test_verify_request_raises_only_documented_errors(body: Any) -> None:
    with pytest.raises((Malformed, BadSignature)):
        verify_request(body, lambda kiosk_id: KEY, now=0)


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=120) | st.text(alphabet="SCR1.0123456789abcdefABCDEFGHIJKLMNOPQRSTUVWXYZ234567- ", max_size=90))
def test_parse_card_only_raises_malformed(text: str) -> None:
    try:
        meeting, secret = parse_card(text)
    except Malformed:
        return
    assert len(secret) == 32 and len(meeting) == 16


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=200) | st.text(max_size=150).map(lambda t: "scrutineer-pair:?" + t))
def test_pairing_parse_only_raises_bad_offer(text: str) -> None:
    with contextlib.suppress(BadPairingOffer):
        PairingOffer.parse(text)
