"""Signed documents: the tally's signature on a result sheet (结果单签名), a ballot form, a published box,
a close record.

Body `{"document": b64(canonical(doc)), "sig": b64(Ed25519(label + b"\\0" + D))}`, where the label
says what the document is (`labels.RESULT` by default, `labels.FORM` for a round's ballot form,
`labels.BOX` for a closed round's published box, `labels.CLOSE` for its close record), so a
signature made for one purpose never verifies as another. The signed bytes travel as they were
signed, so any JSON parser can carry the body without breaking the signature. Failures raise
`BadSignature`. No I/O, no clock.
"""
from __future__ import annotations

from typing import Any

from keys import labels
from keys.canonical import b64d, b64e, canonical, parse_canonical
from keys.errors import BadSignature, Malformed
from keys.identity import Identity, verify

_BODY_KEYS = frozenset({"document", "sig"})
# A published box of a very large round (tens of thousands of receipt codes) stays well below this.
MAX_DOCUMENT_B64 = 8 * 1024 * 1024
SIGNED_LABELS = (labels.RESULT, labels.FORM, labels.BOX, labels.CLOSE)


def _label(label: str) -> str:
    if label not in SIGNED_LABELS:
        raise ValueError(f"{label!r} is not a label for signed documents")
    return label


def sign_document(identity: Identity, doc: dict[str, Any], label: str = labels.RESULT) -> dict[str, str]:
    """Sign the canonical bytes of `doc` (a round's result sheet, unless `label` says otherwise)."""
    if not isinstance(doc, dict):
        raise TypeError("a signed document is a dict")
    data = canonical(doc)
    return {"document": b64e(data), "sig": b64e(identity.sign(labels.domain(_label(label), data)))}


def verify_document(body: object, public_bytes: bytes, label: str = labels.RESULT) -> dict[str, Any]:
    """Return the document if `public_bytes` signed it for `label`; raises `BadSignature` otherwise."""
    _label(label)
    try:
        if not isinstance(body, dict) or set(body) != _BODY_KEYS:
            raise Malformed("signed document must have exactly document, sig")
        if not isinstance(body["document"], str) or len(body["document"]) > MAX_DOCUMENT_B64:
            raise Malformed("signed document too large")
        data = b64d(body["document"])
        verify(public_bytes, b64d(body["sig"]), labels.domain(label, data))
        doc = parse_canonical(data)
        if not isinstance(doc, dict):
            raise Malformed("a signed document is a JSON object")
    except (Malformed, TypeError) as exc:
        raise BadSignature("document signature does not verify") from exc
    return doc

