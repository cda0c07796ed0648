"""The kiosk API (`/api/v1/…`): pairing, the ballot forms, heartbeats, card checks, intake.

Views are thin: parse, call a service, answer. Every refusal is a JSON error with a 4xx status
and leaves the database as it was.
"""
from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

from flask import Blueprint, jsonify
from sqlalchemy import select

from keys.canonical import b64e
from keys.errors import BadSignature, Malformed
from keys.request import verify_request
from tally.box import intake
from tally.box.forms import ballot_forms
from tally.errors import ApiError
from tally.hall import cards as credentials
from tally.hall import kiosks as pairing
from tally.judging.panel import seat_label, seat_of_card
from tally.services import services
from tally.show import feed as live
from tally.store.models import Kiosk, Round
from tally.web.body import json_body
from tally.web.sessions import session, transaction

bp = Blueprint("api", __name__, url_prefix="/api/v1")


def signed_kiosk_request(s: Any) -> tuple[Kiosk, Any]:
    body = json_body()

    def lookup(kiosk_id: str) -> bytes:
        k = s.get(Kiosk, kiosk_id)
        if k is None:
            raise ApiError(403, "unknown_kiosk", "This kiosk is not paired with the tally.")
        return k.public_key

    try:
        kiosk_id, payload = verify_request(body, lookup, now=int(time.time()))
    except Malformed as exc:
        raise ApiError(400, "malformed", "The request could not be read.") from exc
    except BadSignature as exc:
        raise ApiError(403, "bad_signature", "The request's signature does not verify (check the kiosk's clock).") from exc
    kiosk = s.get(Kiosk, kiosk_id)
    if kiosk.status == "revoked":
        raise ApiError(403, "kiosk_revoked", "This kiosk has been revoked by the chair.")
    return kiosk, payload


@bp.post("/kiosks/pair")
def pair() -> Any:
    body = json_body()
    with transaction() as s:
        kiosk = pairing.pair(s, body, now=services().now())
        answer = {"kiosk_id": kiosk.id, "tally_public_key": b64e(services().identity.public_bytes()),
                  "meeting": services().meeting.id, "status": kiosk.status}
    live.touch()
    return jsonify(answer), 201


@bp.get("/ballot")
def ballot() -> Any:
    info = services().meeting
    rounds = list(session().scalars(select(Round).where(Round.status == "open").order_by(Round.position)))
    return jsonify({"meeting": {"id": info.id, "title": info.title}, "rounds": ballot_forms(info.plan, rounds)})


@bp.post("/kiosks/heartbeat")
def heartbeat() -> Any:
    with transaction() as s:
        kiosk, payload = signed_kiosk_request(s)
        outbox = payload.get("outbox") if isinstance(payload, dict) else None
        if type(outbox) is int and 0 <= outbox < 10**9:
            kiosk.outbox = outbox
        kiosk.last_seen = datetime.now(UTC).replace(tzinfo=None)
        grant = credentials.pending_grant(s, kiosk.id) if kiosk.status == "active" else None
        answer = {"status": kiosk.status, "unlock": {"grant": grant} if grant else None}
    live.touch()
    return jsonify(answer)


@bp.post("/kiosks/unlock")
def claim_unlock() -> Any:
    with transaction() as s:
        kiosk, payload = signed_kiosk_request(s)
        intake.check_kiosk(kiosk)
        credentials.claim_unlock(s, kiosk.id, payload)
    live.touch()
    return jsonify({"ok": True})


@bp.post("/cards/check")
def check_card() -> Any:
    """Payload `{"cards": {round_id: b64 key}}`: the scanned card's key for every round the kiosk
    has open, score rounds included, so a judge card is found by its key for its own round."""
    s = session()
    kiosk, payload = signed_kiosk_request(s)
    intake.check_kiosk(kiosk)
    keys = credentials.parse_round_keys(payload.get("cards") if isinstance(payload, dict) else None)

    for round_id, key in sorted(keys.items()):
        seat = seat_of_card(s, round_id, key)
        if seat is not None:
            return jsonify({"card": "judge", "round": seat.round_id, "seat": seat.seat, "label": seat_label(seat.seat)})
    open_rounds = list(s.scalars(select(Round.id).where(Round.status == "open", Round.kind.in_(credentials.CARD_ROUND_KINDS))
                                 .order_by(Round.position)))
    return jsonify(credentials.check(s, keys, open_rounds))


@bp.post("/envelopes")
def envelopes() -> Any:
    body = json_body()
    accepted = intake.accept(services(), body)
    if accepted.new:
        live.touch(urgent=accepted.revealed)
    return jsonify(accepted.receipt), 201 if accepted.new else 200
