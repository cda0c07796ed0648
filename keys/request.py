"""Signed kiosk requests (heartbeats and the like): who sent it, and when, by its own account.

Body `{"request": b64(canonical({"v":1,"kiosk":K,"at":unix seconds,"payload":{...}})),
"sig": b64(Ed25519_K(b"scrutineer/kiosk-request/v1\\0" + request))}`. The verifier's clock is a
parameter (`now`), never read here; a request more than `skew` seconds away from it is refused
after its signature checks, so an unsigned request learns nothing about the clock. Replay within
the window is the caller's concern (heartbeats are idempotent). No I/O.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from keys import labels
from keys.canonical import b64d, b64e, canonical, parse_canonical
from keys.errors import Malformed, StaleRequest
from keys.identity import Identity, verify
from keys.ids import check_name

VERSION = 1
DEFAULT_SKEW = 120
_BODY_KEYS = frozenset({"request", "sig"})
_REQUEST_KEYS = frozenset({"v", "kiosk", "at", "payload"})
_MAX_REQUEST_B64 = 64 * 1024


def sign_request(identity: Identity, kiosk_id: str, payload: dict[str, Any], at: int) -> dict[str, str]:
    """Sign `payload` as kiosk `kiosk_id` at unix time `at` (seconds)."""
    check_name(kiosk_id, "kiosk")
    if type(at) is not int:
        raise TypeError("at must be an int (unix seconds)")
    if not isinstance(payload, dict):
        raise TypeError("payload must be a dict")
    request = canonical({"v": VERSION, "kiosk": kiosk_id, "at": at, "payload": payload})
    return {"request": b64e(request), "sig": b64e(identity.sign(labels.domain(labels.KIOSK_REQUEST, request)))}


def _decode(body: object) -> tuple[bytes, bytes, dict[str, Any]]:
    if not isinstance(body, dict) or set(body) != _BODY_KEYS:
        raise Malformed("signed request must have exactly request, sig")
    encoded = body["request"]
    if not isinstance(encoded, str) or len(encoded) > _MAX_REQUEST_B64:
        raise Malformed("request too large")
    request = b64d(encoded)
    sig = b64d(body["sig"])
    fields = parse_canonical(request)
    if not isinstance(fields, dict) or set(fields) != _REQUEST_KEYS:
        raise Malformed("request has the wrong fields")
    if type(fields["v"]) is not int or fields["v"] != VERSION:
        raise Malformed("unsupported request version")
    check_name(fields["kiosk"], "kiosk")
    if type(fields["at"]) is not int or not isinstance(fields["payload"], dict):
        raise Malformed("request has the wrong field types")
    return request, sig, fields


def verify_request(
    body: object,
    lookup_public: Callable[[str], bytes],
    now: int,
    skew: int = DEFAULT_SKEW,
) -> tuple[str, dict[str, Any]]:
    """Return `(kiosk_id, payload)` of a correctly signed, timely request.

    Raises `Malformed` for a body of the wrong shape, `BadSignature` if it does not verify,
    `StaleRequest` (a `BadSignature`) if `at` is more than `skew` seconds from `now`.
    Whatever `lookup_public` raises for an unknown kiosk propagates unchanged.
    """
    request, sig, fields = _decode(body)
    kiosk_id: str = fields["kiosk"]
    public = lookup_public(kiosk_id)
    verify(public, sig, labels.domain(labels.KIOSK_REQUEST, request))
    if abs(fields["at"] - now) > skew:
        raise StaleRequest("request time is too far from the server's clock")
    return kiosk_id, fields["payload"]

