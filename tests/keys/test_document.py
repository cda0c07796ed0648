"""Signed documents: a result sheet, a ballot form and a published box each verify only as what they are."""
from __future__ import annotations

import pytest

from keys import labels
from keys.canonical import b64d, b64e
from keys.document import sign_document, verify_document
from keys.errors import BadSignature
from keys.identity import Identity

LABELS = (labels.RESULT, labels.FORM, labels.BOX)


@pytest.mark.parametrize("label", LABELS)
def test_a_document_verifies_under_its_own_label_only(label: str) -> None:
    tally = Identity.generate()
    doc = {"meeting": "0123456789abcdef", "round": "r1", "public_key": b64e(b"\1" * 32)}
    body = sign_document(tally, doc, label)
    assert verify_document(body, tally.public_bytes(), label) == doc
    for other in LABELS:
        if other != label:
            # A form signature replayed as a result sheet (or a box) is refused, and so on.
            with pytest.raises(BadSignature):
                verify_document(body, tally.public_bytes(), other)
    with pytest.raises(BadSignature):
        verify_document(body, Identity.generate().public_bytes(), label)


def test_the_default_label_is_the_result_sheet() -> None:
    tally = Identity.generate()
    body = sign_document(tally, {"round": "r1"})
    assert verify_document(body, tally.public_bytes(), labels.RESULT) == {"round": "r1"}


def test_a_swapped_round_key_breaks_the_signature() -> None:
    tally = Identity.generate()
    body = sign_document(tally, {"id": "r1", "public_key": b64e(b"\1" * 32)}, labels.FORM)
    swapped = b64d(body["document"]).replace(b64e(b"\1" * 32).encode(), b64e(b"\2" * 32).encode())
    with pytest.raises(BadSignature):
        verify_document({**body, "document": b64e(swapped)}, tally.public_bytes(), labels.FORM)


def test_only_labels_for_documents() -> None:
    with pytest.raises(ValueError):
        sign_document(Identity.generate(), {}, labels.RECEIPT)
    with pytest.raises(ValueError):
        verify_document({}, b"\0" * 32, labels.ENVELOPE)
