"""Receipts: a stored vector, and refusal of anything that does not acknowledge this envelope."""
from __future__ import annotations

from typing import Any

import pytest

from keys import labels
from keys.canonical import b64d, b64e, canonical
from keys.chain import genesis, next_entry
from keys.envelope import make_receipt, verify_receipt
from keys.errors import BadReceipt, Malformed
from keys.identity import Identity

MEETING = "0123456789abcdef"
# RFC 8032 test 3 key as the tally; receipt for the envelope vector of test_envelope.py.
TALLY_SEED = "c5aa8df43f9f837bedb7442f31dcb7b166d38535076f094b85ce3a2e0b4458f7"
TALLY_PUBLIC = bytes.fromhex("fc51cd8e6218a1a38da47ed00230f0580816ed13ba3303ac5deb911548908025")
ENVELOPE_HASH = "2c199f58443d13e5a3efa1beba77292b9c73c658e5bcc14e2b28ca416c519f4e"
VECTOR = {
    "receipt": (
        "eyJlbnRyeSI6ImFhNmMwZDkwZTI3ZWEzZmZiNWNjMjJhYzBmOGQ1YmEwNDQyNTgzNDQ4ZTcyYmJkZWNmYzkzNjVhMzZjY2Mz"
        "ZjUiLCJlbnZlbG9wZSI6IjJjMTk5ZjU4NDQzZDEzZTVhM2VmYTFiZWJhNzcyOTJiOWM3M2M2NThlNWJjYzE0ZTJiMjhjYTQx"
        "NmM1MTlmNGUiLCJtZWV0aW5nIjoiMDEyMzQ1Njc4OWFiY2RlZiIsInJvdW5kIjoicjEiLCJ0eXBlIjoicmVjZWlwdCIsInYi"
        "OjF9"
    ),
    "sig": "BtKmMG4t6-OpvaBsWItWEVkO15hVRXKsCIRLEmTYDItnp3e-tGPWnooyCncXBN1_syfjeqz9Ej5sFWLxa-o5Bg",
}


def refused(body: object, public: bytes = TALLY_PUBLIC, envelope_hash: str = ENVELOPE_HASH, **kw: Any) -> None:
    with pytest.raises(BadReceipt) as caught:
        verify_receipt(body, public, envelope_hash, **kw)
    assert str(caught.value) == "invalid receipt"
    assert caught.value.__cause__ is not None


def test_stored_vector() -> None:
    fields = verify_receipt(VECTOR, TALLY_PUBLIC, ENVELOPE_HASH, meeting=MEETING, round_id="r1")
    assert fields == {"v": 1, "type": "receipt", "meeting": MEETING, "round": "r1",
                      "envelope": ENVELOPE_HASH, "entry": next_entry(genesis(MEETING, "r1"), ENVELOPE_HASH)}
    tally = Identity.from_private_bytes(bytes.fromhex(TALLY_SEED))
    # Ed25519 is deterministic, so making the receipt again gives the same bytes.
    assert make_receipt(tally, meeting=MEETING, round_id="r1", envelope_hash=ENVELOPE_HASH,
                        entry=fields["entry"]) == VECTOR


def test_refuses_other_envelope_meeting_round_or_key() -> None:
    refused(VECTOR, envelope_hash="0" * 64)
    refused(VECTOR, meeting="fedcba9876543210")
    refused(VECTOR, round_id="r2")
    refused(VECTOR, public=Identity.generate().public_bytes())
    refused(VECTOR, public=b"short")


def test_every_bit_flipped_is_refused() -> None:
    for field in ("receipt", "sig"):
        raw = b64d(VECTOR[field])
        for index in range(len(raw)):
            for bit in range(8):
                tampered = bytearray(raw)
                tampered[index] ^= 1 << bit
                refused({**VECTOR, field: b64e(bytes(tampered))})


def test_truncations_are_refused() -> None:
    for field in ("receipt", "sig"):
        for length in range(len(VECTOR[field])):
            refused({**VECTOR, field: VECTOR[field][:length]})


def _signed(fields: dict[str, Any]) -> dict[str, str]:
    tally = Identity.from_private_bytes(bytes.fromhex(TALLY_SEED))
    data = canonical(fields)
    return {"receipt": b64e(data), "sig": b64e(tally.sign(labels.domain(labels.RECEIPT, data)))}


@pytest.mark.parametrize("change", [
    {"v": 2}, {"v": True}, {"type": "result"}, {"extra": 1}, {"entry": "0" * 63}, {"meeting": "x"},
])
def test_signed_but_wrong_fields_are_refused(change: dict[str, Any]) -> None:
    fields = {"v": 1, "type": "receipt", "meeting": MEETING, "round": "r1",
              "envelope": ENVELOPE_HASH, "entry": "1" * 64}
    verify_receipt(_signed(fields), TALLY_PUBLIC, ENVELOPE_HASH)  # control
    refused(_signed({**fields, **change}))


def test_a_signature_for_another_purpose_is_refused() -> None:
    """The same key signing the same bytes as a result sheet does not make a receipt."""
    tally = Identity.from_private_bytes(bytes.fromhex(TALLY_SEED))
    data = b64d(VECTOR["receipt"])
    refused({**VECTOR, "sig": b64e(tally.sign(labels.domain(labels.RESULT, data)))})
    refused({**VECTOR, "sig": b64e(tally.sign(data))})


@pytest.mark.parametrize("body", [None, {}, {"receipt": VECTOR["receipt"]}, {**VECTOR, "x": 1}, [VECTOR]])
def test_bad_bodies_are_refused(body: object) -> None:
    refused(body)


def test_make_receipt_checks_inputs() -> None:
    tally = Identity.generate()
    with pytest.raises(Malformed):
        make_receipt(tally, meeting=MEETING, round_id="r1", envelope_hash="AB" * 32, entry="0" * 64)
    with pytest.raises(Malformed):
        make_receipt(tally, meeting=MEETING, round_id="r/1", envelope_hash="0" * 64, entry="0" * 64)
