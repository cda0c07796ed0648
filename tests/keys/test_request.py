"""Signed kiosk requests and signed result documents."""
from __future__ import annotations

from collections.abc import Callable

import pytest

from keys import labels
from keys.canonical import b64d, b64e, canonical
from keys.document import sign_document, verify_document
from keys.errors import BadSignature, Malformed, StaleRequest
from keys.identity import Identity
from keys.request import sign_request, verify_request

NOW = 1_750_000_000


class UnknownKiosk(Exception):
    """Stands in for the tally's own error; must propagate untouched."""


@pytest.fixture(scope="module")
def kiosk() -> Identity:
    return Identity.generate()


@pytest.fixture(scope="module")
def lookup(kiosk: Identity) -> Callable[[str], bytes]:
    def find(kiosk_id: str) -> bytes:
        if kiosk_id != "kiosk-a":
            raise UnknownKiosk(kiosk_id)
        return kiosk.public_bytes()
    return find


def test_round_trip(kiosk: Identity, lookup: Callable[[str], bytes]) -> None:
    body = sign_request(kiosk, "kiosk-a", {"outbox": 3, "sent": 120}, at=NOW)
    assert verify_request(body, lookup, now=NOW) == ("kiosk-a", {"outbox": 3, "sent": 120})
    request = b64d(body["request"])
    assert request == canonical({"v": 1, "kiosk": "kiosk-a", "at": NOW, "payload": {"outbox": 3, "sent": 120}})


@pytest.mark.parametrize(("at", "ok"), [(NOW - 120, True), (NOW + 120, True), (NOW - 121, False), (NOW + 121, False)])
def test_clock_window_is_inclusive_120_seconds(kiosk: Identity, lookup: Callable[[str], bytes], at: int, ok: bool) -> None:
    body = sign_request(kiosk, "kiosk-a", {}, at=at)
    if ok:
        verify_request(body, lookup, now=NOW)
    else:
        with pytest.raises(StaleRequest):
            verify_request(body, lookup, now=NOW)
        verify_request(body, lookup, now=NOW, skew=121)


def test_unknown_kiosk_error_propagates(lookup: Callable[[str], bytes]) -> None:
    stranger = Identity.generate()
    with pytest.raises(UnknownKiosk):
        verify_request(sign_request(stranger, "kiosk-z", {}, at=NOW), lookup, now=NOW)


def test_kiosk_b_claiming_to_be_a_is_refused(lookup: Callable[[str], bytes]) -> None:
    impostor = Identity.generate()
    with pytest.raises(BadSignature):
        verify_request(sign_request(impostor, "kiosk-a", {}, at=NOW), lookup, now=NOW)


def test_every_bit_flipped_is_refused(kiosk: Identity, lookup: Callable[[str], bytes]) -> None:
    body = sign_request(kiosk, "kiosk-a", {"outbox": 0, "sent": 1}, at=NOW)
    for field in ("request", "sig"):
        raw = b64d(body[field])
        for index in range(len(raw)):
            for bit in range(8):
                tampered = bytearray(raw)
                tampered[index] ^= 1 << bit
                with pytest.raises((BadSignature, Malformed, UnknownKiosk)):
                    verify_request({**body, field: b64e(bytes(tampered))}, lookup, now=NOW)


def test_an_envelope_signature_is_not_a_request_signature(kiosk: Identity, lookup: Callable[[str], bytes]) -> None:
    request = canonical({"v": 1, "kiosk": "kiosk-a", "at": NOW, "payload": {}})
    body = {"request": b64e(request), "sig": b64e(kiosk.sign(labels.domain(labels.ENVELOPE, request)))}
    with pytest.raises(BadSignature):
        verify_request(body, lookup, now=NOW)


@pytest.mark.parametrize("fields", [
    {"v": 2, "kiosk": "kiosk-a", "at": NOW, "payload": {}},
    {"v": 1, "kiosk": "kiosk-a", "at": True, "payload": {}},
    {"v": 1, "kiosk": "kiosk-a", "at": str(NOW), "payload": {}},
    {"v": 1, "kiosk": "kiosk-a", "at": NOW, "payload": []},
    {"v": 1, "kiosk": "kiosk a", "at": NOW, "payload": {}},
    {"v": 1, "kiosk": "kiosk-a", "at": NOW},
])
def test_malformed_requests(kiosk: Identity, lookup: Callable[[str], bytes], fields: dict) -> None:
    request = canonical(fields)
    body = {"request": b64e(request), "sig": b64e(kiosk.sign(labels.domain(labels.KIOSK_REQUEST, request)))}
    with pytest.raises(Malformed):
        verify_request(body, lookup, now=NOW)


def test_sign_request_refuses_bad_input(kiosk: Identity) -> None:
    with pytest.raises(TypeError):
        sign_request(kiosk, "kiosk-a", {}, at=float(NOW))  # type: ignore[arg-type]
    with pytest.raises(Malformed):
        sign_request(kiosk, "", {}, at=NOW)


def test_document_round_trip_and_tamper(kiosk: Identity) -> None:
    sheet = {"meeting": "0123456789abcdef", "round": "r1", "head": "ab" * 32,
             "candidates": [{"name": "张三", "votes": 58, "rate": "48.33"}]}
    body = sign_document(kiosk, sheet)
    assert verify_document(body, kiosk.public_bytes()) == sheet
    with pytest.raises(BadSignature):
        verify_document(body, Identity.generate().public_bytes())
    raw = b64d(body["document"])
    for index in range(len(raw)):
        tampered = bytearray(raw)
        tampered[index] ^= 0x04
        with pytest.raises(BadSignature):
            verify_document({**body, "document": b64e(bytes(tampered))}, kiosk.public_bytes())
    for bad in (None, {}, {**body, "x": ""}, {**body, "sig": body["sig"][:-1]}):
        with pytest.raises(BadSignature):
            verify_document(bad, kiosk.public_bytes())
    with pytest.raises(TypeError):
        sign_document(kiosk, {"mean": 88.55})
