"""Signed documents: the tally's signature on a result sheet (结果单签名).

Body `{"document": b64(canonical(doc)), "sig": b64(Ed25519(b"scrutineer/result/v1\\0" + D))}`.
The signed bytes travel as they were signed, so any JSON parser can carry the body without
breaking the signature. Failures raise `BadSignature`. No I/O, no clock.
"""
from __future__ import annotations

from typing import Any

from keys import labels
from keys.canonical import b64d, b64e, canonical, parse_canonical
from keys.errors import BadSignature, Malformed
from keys.identity import Identity, verify

_BODY_KEYS = frozenset({"document", "sig"})


def sign_document(identity: Identity, doc: dict[str, Any]) -> dict[str, str]:
    """Sign the canonical bytes of `doc` (e.g. a round's result sheet)."""
    if not isinstance(doc, dict):
        raise TypeError("a signed document is a dict")
    data = canonical(doc)
    return {"document": b64e(data), "sig": b64e(identity.sign(labels.domain(labels.RESULT, data)))}


def verify_document(body: object, public_bytes: bytes) -> dict[str, Any]:
    """Return the document if `public_bytes` signed it; raises `BadSignature` otherwise."""
    try:
        if not isinstance(body, dict) or set(body) != _BODY_KEYS:
            raise Malformed("signed document must have exactly document, sig")
        data = b64d(body["document"])
        verify(public_bytes, b64d(body["sig"]), labels.domain(labels.RESULT, data))
        doc = parse_canonical(data)
        if not isinstance(doc, dict):
            raise Malformed("a signed document is a JSON object")
    except Malformed as exc:
        raise BadSignature("document signature does not verify") from exc
    return doc
