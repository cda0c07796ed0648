"""Envelopes: round trip, a stored wire-format vector, tampering, substitution and strict parsing."""
from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any

import pytest

from keys import labels
from keys.canonical import b64d, b64e, canonical
from keys.cards import card_key
from keys.envelope import (
    MAX_BALLOT,
    MAX_SEALED,
    ballot_info,
    open_envelope,
    parse_envelope,
    receipt_code,
    seal_envelope,
    verify_envelope,
)
from keys.errors import BadEnvelope, Malformed
from keys.identity import Identity
from keys.sealing import OVERHEAD, RoundKey, seal

from .conftest import BALLOT_SIZE

MEETING = "0123456789abcdef"
Hall = Any  # the `hall` fixture of conftest.py

# A body sealed once by kiosk "kiosk-1" (RFC 8032 test 2 key) with the r1 key of the card whose
# secret is bytes(range(32)), to the RFC 7748 Alice key. If this stops verifying or opening, the wire
# format has drifted and every kiosk in the field would be refused.
VECTOR_BODY = {
    "envelope": (
        "eyJjYXJkIjoiUS1ITlBEX1N0TkRRc2RjT19XT2hVLWpjc0NCdmJoS2dBYW1WdVJaWFc1NCIsImtpb3NrIjoia2lvc2stMSIs"
        "Im1lZXRpbmciOiIwMTIzNDU2Nzg5YWJjZGVmIiwibm9uY2UiOiJGeXFPX3JqaFpwV1pkWWtISkZHamZBIiwicm91bmQiOiJy"
        "MSIsInNlYWxlZCI6InhGS0ZtRG1TekJ0YXhiZ055bm50dWpxRjZmUUtsN3NNTzJBT242dUZpR2J0X2dVLXRpUXFUTnNSbmpL"
        "UFVlcUxzWjlzWGZCLW44X0ZhUXA3SmxUcGt6dlJxSVNJLVhFOWd0Y3pUd0tFRnVjbGhYUnpmeV9vZFUydjJSV1JDbmhxZFh2"
        "R25seFVFS080YkZSdWNFS1hiMmV6LXY5ZzdWYmRJMVlWMlBXY2VyVnVodDF4MlVuWmJ6X1Y1RlJNZ2lzSHl6aW1rRmtBSERD"
        "bE5WVWdLM2lxSkhJSndMTFVnM3ZCSDRGX3ZLbHlWY0FuRG9aU3lTMjctdGNaVmlocmNGNDVkb24tbENIY3ZxQVpBdTNGOUdo"
        "TVBqS1hVcWV6S1dQTGZuMV9haUpKT3E3eHNQZ3g3MllPejhGNXlMNkQycGlpV0U3WDB5VldEaWdpNjE4SVdGUy00RHJKMUNx"
        "cnNrZXZabC1xaGxIQ2ZocGhCeUE5Vm5Rc0N1RVkwcURUMXJYYnlIVlpYSW5WN21tUzVCYVpiQU04aWxmaGt5bm5TZF9UV3hp"
        "ZHd6TlVuTUlGQWxlb01NUXpQWGRzSUZOR0JVeVhFaFAzNGR3eUE4N1oweVZQM1Y1Y0VPQ3dOYjdpWkhhU3YwRUJBTk5ReUpH"
        "dVpSYkxPRzFVUlZaNDRrWGQ4ZVBPYTBYdzQtMkFSakdlbWIxNW1LdV9oTnFvSGJ5ME8tTFpXZWRhV0lKdy0yVWRPV3prUWhj"
        "VTlzdzdLa1p2YTFDdkxjdlhnYmNTNl8tYnJrc1d3NklKWEtDek9RWkxqeHA1dXFSWU8yT1laLWJrcEFETGtqYkV3M0RXRmJX"
        "X1dCWnBKQy1wd2JlSGZDbU92RDRPdkVValZ3YW5nWE9VWlZwUUZVUnRadS1PYjZaemtVNDBvcHFzeVJQOXlCdUMzOTJGZkNn"
        "TTY1eXllRkVkTVVOeFk2bTJmRWcyM1lTUHBMSGdDZjhHcURFazhXTSIsInYiOjF9"
    ),
    "kiosk_sig": "Y2oTfHXvA_iL-DwPl2WhruzRRj2Jon2s2OQTRuvbH7J4kxlp--pECpFHbEdYTS93JDWGvQPFmZpJxZ17CityAg",
    "card_sig": "Ee2f5L9EVjGH_ApK32NE7AGTFZMWmxiBvvLbYM7b6W1wk_eA2osw2zBuQyHAq57ctPOk7aaD5Dops6P0ilvBDg",
}
VECTOR_KIOSK_PUBLIC = bytes.fromhex("3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c")
VECTOR_ROUND_KEY = "77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a"
VECTOR_HASH = "2c199f58443d13e5a3efa1beba77292b9c73c658e5bcc14e2b28ca416c519f4e"


def refused(action: Callable[..., object], *args: object) -> BadEnvelope:
    with pytest.raises(BadEnvelope) as caught:
        action(*args)
    assert str(caught.value) == "invalid envelope"  # never says which check failed
    assert caught.value.__cause__ is not None
    return caught.value


def check(body: object, kiosk_public: bytes) -> None:
    verify_envelope(parse_envelope(body), kiosk_public)


def test_stored_vector_verifies_and_opens() -> None:
    header = parse_envelope(VECTOR_BODY)
    verify_envelope(header, VECTOR_KIOSK_PUBLIC)
    assert (header.meeting, header.round_id, header.kiosk_id) == (MEETING, "r1", "kiosk-1")
    assert header.card_public == card_key(bytes(range(32)), MEETING, "r1").public_bytes()
    assert header.envelope_hash == VECTOR_HASH == hashlib.sha256(b64d(VECTOR_BODY["envelope"])).hexdigest()
    assert header.receipt_code == "FQMZ-6WCE"
    ballot = open_envelope(header, RoundKey.from_private_bytes(bytes.fromhex(VECTOR_ROUND_KEY)))
    assert ballot == {"round": "r1", "sections": {"mayor": ["张三"], "deputy": []}}


def test_round_trip(hall: Hall, sealed: Any) -> None:
    header = parse_envelope(sealed.body)
    verify_envelope(header, hall.kiosk_a.public_bytes())
    assert open_envelope(header, hall.round_keys["r1"]) == hall.ballot
    assert header.envelope_bytes == sealed.envelope_bytes
    assert header.envelope_hash == sealed.envelope_hash == hashlib.sha256(sealed.envelope_bytes).hexdigest()
    assert header.receipt_code == sealed.receipt_code == receipt_code(sealed.envelope_hash)
    assert header.card_public == hall.card.public_for("r1")
    assert set(sealed.body) == {"envelope", "kiosk_sig", "card_sig"}


def test_each_seal_has_a_fresh_nonce_and_ciphertext(hall: Hall, sealed: Any) -> None:
    again = hall.seal()
    assert parse_envelope(again.body).nonce != parse_envelope(sealed.body).nonce
    assert again.envelope_hash != sealed.envelope_hash


def test_every_bit_of_e_flipped_is_refused(hall: Hall, sealed: Any) -> None:
    envelope = sealed.envelope_bytes
    kiosk_public = hall.kiosk_a.public_bytes()
    for index in range(len(envelope)):
        for bit in range(8):
            tampered = bytearray(envelope)
            tampered[index] ^= 1 << bit
            body = {**sealed.body, "envelope": b64e(bytes(tampered))}
            refused(check, body, kiosk_public)


@pytest.mark.parametrize("which", ["kiosk_sig", "card_sig"])
def test_every_bit_of_each_signature_flipped_is_refused(hall: Hall, sealed: Any, which: str) -> None:
    signature = b64d(sealed.body[which])
    kiosk_public = hall.kiosk_a.public_bytes()
    for index in range(len(signature)):
        for bit in range(8):
            tampered = bytearray(signature)
            tampered[index] ^= 1 << bit
            body = {**sealed.body, which: b64e(bytes(tampered))}
            refused(check, body, kiosk_public)


def test_truncated_inputs_are_refused(hall: Hall, sealed: Any) -> None:
    kiosk_public = hall.kiosk_a.public_bytes()
    for field in ("envelope", "kiosk_sig", "card_sig"):
        text = sealed.body[field]
        for length in range(len(text)):
            body = {**sealed.body, field: text[:length]}
            refused(check, body, kiosk_public)
    envelope = sealed.envelope_bytes
    for length in range(len(envelope)):
        body = {**sealed.body, "envelope": b64e(envelope[:length])}
        refused(check, body, kiosk_public)


def test_swapped_signatures_are_refused(hall: Hall, sealed: Any) -> None:
    body = {**sealed.body, "kiosk_sig": sealed.body["card_sig"], "card_sig": sealed.body["kiosk_sig"]}
    refused(lambda: check(body, hall.kiosk_a.public_bytes()))


def test_kiosk_b_cannot_vouch_for_kiosk_a(hall: Hall, sealed: Any) -> None:
    header = parse_envelope(sealed.body)
    refused(lambda: verify_envelope(header, hall.kiosk_b.public_bytes()))


def test_other_round_key_cannot_open(hall: Hall, sealed: Any) -> None:
    header = parse_envelope(sealed.body)
    refused(lambda: open_envelope(header, hall.round_keys["r2"]))


def forge(*, meeting: str = MEETING, round_id: str = "r1", kiosk_id: str = "kiosk-a", kiosk: Identity,
          card: Identity, sealed: bytes, nonce: str) -> dict[str, str]:
    """An envelope built and signed by someone holding both the kiosk's and the card's keys."""
    envelope = canonical({"v": 1, "meeting": meeting, "round": round_id, "kiosk": kiosk_id,
                          "nonce": nonce, "card": b64e(card.public_bytes()), "sealed": b64e(sealed)})
    return {"envelope": b64e(envelope),
            "kiosk_sig": b64e(kiosk.sign(labels.domain(labels.ENVELOPE, envelope))),
            "card_sig": b64e(card.sign(labels.domain(labels.CARD, envelope)))}


@pytest.mark.parametrize("change", [
    {"round_id": "r2"},               # sealed for r1, presented as r2
    {"kiosk_id": "kiosk-b"},          # kiosk A's ballot under kiosk B's id
    {"meeting": "fedcba9876543210"},  # another meeting
    {"nonce": b64e(b"\1" * 16)},      # another nonce
])
def test_rewrapped_ciphertext_does_not_open(hall: Hall, sealed: Any, change: dict[str, str]) -> None:
    """Even with every signing key, a sealed ballot cannot be moved to another context: HPKE
    `info` binds meeting, round, kiosk and nonce, so opening fails."""
    header = parse_envelope(sealed.body)
    kiosk = hall.kiosk_b if change.get("kiosk_id") == "kiosk-b" else hall.kiosk_a
    fields: dict[str, Any] = {"nonce": b64e(header.nonce), **change}
    body = forge(kiosk=kiosk, card=hall.card.identity("r1"), sealed=header.sealed, **fields)
    moved = parse_envelope(body)
    verify_envelope(moved, kiosk.public_bytes())  # the forger's signatures are fine...
    refused(lambda: open_envelope(moved, hall.round_keys["r1"]))  # ...the ballot is not


def test_rewrapped_ciphertext_under_another_card_does_not_open(hall: Hall, sealed: Any) -> None:
    header = parse_envelope(sealed.body)
    other_card = Identity.generate()
    body = forge(kiosk=hall.kiosk_a, card=other_card, sealed=header.sealed, nonce=b64e(header.nonce))
    moved = parse_envelope(body)
    verify_envelope(moved, hall.kiosk_a.public_bytes())
    refused(lambda: open_envelope(moved, hall.round_keys["r1"]))


@pytest.mark.parametrize("plaintext", [
    canonical({"round": "r2", "sections": {}}),   # a ballot for another round inside an r1 envelope
    canonical({"sections": {}}),
    canonical(["r1"]),
    b'{"round": "r1"}',                           # not canonical
    b"\xff\xfe",
])
def test_plaintext_must_be_a_canonical_ballot_for_this_round(hall: Hall, plaintext: bytes) -> None:
    nonce, card = b64e(b"\7" * 16), hall.card.identity("r1")
    info = ballot_info(MEETING, "r1", "kiosk-a", nonce, b64e(card.public_bytes()))
    sealed = seal(hall.round_keys["r1"].public_bytes(), plaintext, info)
    header = parse_envelope(forge(kiosk=hall.kiosk_a, card=card, sealed=sealed, nonce=nonce))
    verify_envelope(header, hall.kiosk_a.public_bytes())
    refused(lambda: open_envelope(header, hall.round_keys["r1"]))


def _resigned(hall: Hall, sealed: Any, mutate: Callable[[dict[str, Any]], Any]) -> dict[str, str]:
    """The sealed envelope with its fields changed by `mutate`, then properly signed again."""
    fields = dict(parse_envelope_fields(sealed))
    mutate(fields)
    envelope = canonical(fields)
    return {"envelope": b64e(envelope),
            "kiosk_sig": b64e(hall.kiosk_a.sign(labels.domain(labels.ENVELOPE, envelope))),
            "card_sig": b64e(hall.card.identity("r1").sign(labels.domain(labels.CARD, envelope)))}


def parse_envelope_fields(sealed: Any) -> dict[str, Any]:
    from keys.canonical import parse_canonical

    return parse_canonical(sealed.envelope_bytes)


def _set(key: str, value: object) -> Callable[[dict[str, Any]], None]:
    return lambda fields: fields.__setitem__(key, value)


FIELD_CASES = {
    "extra field": _set("extra", 1),
    "missing field": lambda f: f.pop("nonce"),
    "version 2": _set("v", 2),
    "version true": _set("v", True),
    "version string": _set("v", "1"),
    "meeting upper case": _set("meeting", MEETING.upper()),
    "meeting short": _set("meeting", MEETING[:-1]),
    "round with a space": _set("round", "r 1"),
    "round empty": _set("round", ""),
    "round with slash": _set("round", "r1/x"),
    "round not a string": _set("round", 1),
    "kiosk too long": _set("kiosk", "k" * 65),
    "nonce 15 bytes": _set("nonce", b64e(b"\0" * 15)),
    "nonce 17 bytes": _set("nonce", b64e(b"\0" * 17)),
    "nonce padded": _set("nonce", b64e(b"\0" * 16) + "=="),
    "card 31 bytes": _set("card", b64e(b"\0" * 31)),
    "card 33 bytes": _set("card", b64e(b"\0" * 33)),
    "sealed too short": _set("sealed", b64e(b"\0" * OVERHEAD)),
    "sealed too long": _set("sealed", b64e(b"\0" * (MAX_SEALED + 1))),
    "sealed standard base64": _set("sealed", "+/+/" * 20),
}


def test_resigning_without_a_change_still_verifies(hall: Hall, sealed: Any) -> None:
    """Control for the cases below: each refusal comes from the change, not from resigning."""
    body = _resigned(hall, sealed, lambda fields: None)
    verify_envelope(parse_envelope(body), hall.kiosk_a.public_bytes())


@pytest.mark.parametrize("case", FIELD_CASES)
def test_parse_refuses_bad_fields_even_when_signed(hall: Hall, sealed: Any, case: str) -> None:
    body = _resigned(hall, sealed, FIELD_CASES[case])
    refused(lambda: parse_envelope(body))


def test_parse_refuses_non_canonical_e(hall: Hall, sealed: Any) -> None:
    envelope = sealed.envelope_bytes.replace(b'","', b'", "', 1)
    body = {"envelope": b64e(envelope),
            "kiosk_sig": b64e(hall.kiosk_a.sign(labels.domain(labels.ENVELOPE, envelope))),
            "card_sig": b64e(hall.card.identity("r1").sign(labels.domain(labels.CARD, envelope)))}
    refused(lambda: parse_envelope(body))


@pytest.mark.parametrize("body", [
    None, [], "envelope", {},
    {"envelope": "AA", "kiosk_sig": "AA"},
    {"envelope": 1, "kiosk_sig": "AA", "card_sig": "AA"},
])
def test_parse_refuses_bad_bodies(body: object) -> None:
    refused(lambda: parse_envelope(body))


def test_parse_refuses_extra_and_padded_body_fields(sealed: Any) -> None:
    refused(lambda: parse_envelope({**sealed.body, "extra": ""}))
    refused(lambda: parse_envelope({**sealed.body, "envelope": sealed.body["envelope"] + "="}))
    refused(lambda: parse_envelope({**sealed.body, "envelope": "A" * 200_000}))


def test_seal_checks_its_inputs(hall: Hall) -> None:
    with pytest.raises(Malformed):
        hall.seal(ballot={"round": "r2", "sections": {}})  # ballot names another round
    with pytest.raises(Malformed):
        hall.seal(ballot={"sections": {}})
    with pytest.raises(TypeError):
        hall.seal(ballot={"round": "r1", "score": 88.5})  # floats never travel
    for meeting, round_id, kiosk_id in [("ABC", "r1", "k"), (MEETING, "r 1", "k"), (MEETING, "r1", "")]:
        with pytest.raises(Malformed):
            seal_envelope(meeting=meeting, round_id=round_id, kiosk_id=kiosk_id, kiosk_identity=hall.kiosk_a,
                          card_key=hall.card.identity("r1"), round_public=hall.round_keys["r1"].public_bytes(),
                          ballot={"round": round_id}, ballot_size=512)


def _sized(hall: Hall, ballot: dict[str, Any], size: int) -> Any:
    return seal_envelope(meeting=MEETING, round_id="r1", kiosk_id="kiosk-a", kiosk_identity=hall.kiosk_a,
                         card_key=hall.card.identity("r1"), round_public=hall.round_keys["r1"].public_bytes(),
                         ballot=ballot, ballot_size=size)


def test_size_limit_is_exact(hall: Hall) -> None:
    padding = MAX_BALLOT - len(canonical({"round": "r1", "x": ""}))
    biggest = _sized(hall, {"round": "r1", "x": "a" * padding}, MAX_BALLOT)
    header = parse_envelope(biggest.body)
    assert len(header.sealed) == MAX_SEALED and header.ballot_size == MAX_BALLOT == MAX_SEALED - OVERHEAD
    verify_envelope(header, hall.kiosk_a.public_bytes())
    assert open_envelope(header, hall.round_keys["r1"])["x"] == "a" * padding
    with pytest.raises(Malformed):
        _sized(hall, {"round": "r1", "x": "a" * (padding + 1)}, MAX_BALLOT)
    with pytest.raises(Malformed):  # no size beyond what a sealed ballot can hold, and none below 1
        _sized(hall, {"round": "r1"}, MAX_BALLOT + 1)
    for size in (0, -1, True, 512.0):
        with pytest.raises(Malformed):
            _sized(hall, {"round": "r1"}, size)  # type: ignore[arg-type]


def test_a_ballot_must_fit_its_rounds_size(hall: Hall) -> None:
    ballot = {"round": "r1", "sections": {"mayor": ["张三"]}}
    exact = len(canonical(ballot))
    assert parse_envelope(_sized(hall, ballot, exact).body).ballot_size == exact
    with pytest.raises(Malformed):
        _sized(hall, ballot, exact - 1)


def test_headers_and_sealed_envelopes_hide_bulk_fields(sealed: Any) -> None:
    header = parse_envelope(sealed.body)
    assert "sealed=" not in repr(header) and "kiosk_sig" not in repr(header)


def test_receipt_code_vector() -> None:
    empty = hashlib.sha256(b"").hexdigest()
    assert receipt_code(empty) == "4OYM-IQUY"
    with pytest.raises(Malformed):
        receipt_code(empty.upper())


def test_blank_and_full_ballots_seal_to_the_same_length(hall: Hall) -> None:
    blank = parse_envelope(hall.seal(ballot={"round": "r1", "sections": {}}).body)
    full = parse_envelope(hall.seal(ballot={"round": "r1", "sections": {"mayor": ["张三"], "deputy": ["李四", "王五"]}}).body)
    assert len(blank.sealed) == len(full.sealed) == BALLOT_SIZE + OVERHEAD
    assert open_envelope(full, hall.round_keys["r1"])["sections"]["deputy"] == ["李四", "王五"]
