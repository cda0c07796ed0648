"""Pairing kiosks: one-time offers (QR), the kiosk's key, the chair's confirmation, revocation.

An offer carries the tally's address, a one-time code, the tally's key fingerprint and, under
TLS, its certificate's fingerprint (which the kiosk pins); the tally stores only the code's
hash. An offer is used once and expires (`OFFER_MINUTES` after it was made). The kiosk sends
its public key with the code; the console shows the kiosk's fingerprint and the chair confirms
it, so a stranger who photographed a QR code still cannot vote. A revoked kiosk is refused at intake.
"""
from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from keys.canonical import b64d
from keys.errors import Malformed
from keys.fingerprint import fingerprint
from keys.pairing import PairingOffer
from tally.errors import ApiError
from tally.rules.names import NAME_MAX, name_problem
from tally.store import audit
from tally.store.models import Kiosk
from tally.store.models import PairingOffer as OfferRow


def _code_hash(code: str) -> str:
    return hashlib.sha256(b"scrutineer/pairing-code/v1\0" + code.encode()).hexdigest()


OFFER_MINUTES = 30


def new_offer(s: Session, base_url: str, tally_public: bytes, *, now: datetime, preconfirm: bool = False,
              tls: str | None = None, minutes: int = OFFER_MINUTES) -> PairingOffer:
    code = secrets.token_urlsafe(12)
    s.add(OfferRow(code_hash=_code_hash(code), preconfirm=preconfirm, used=False,
                   expires_at=now + timedelta(minutes=minutes)))
    audit.record(s, "chair", "pairing_offer", preconfirm=preconfirm)
    return PairingOffer(url=base_url, code=code, fingerprint=fingerprint(tally_public).replace(" ", ""),
                        tls=tls if base_url.startswith("https://") else None)


def pair(s: Session, body: Any, *, now: datetime) -> Kiosk:
    if not isinstance(body, dict) or not isinstance(body.get("code"), str) or not isinstance(body.get("public_key"), str):
        raise ApiError(400, "malformed", "Send the pairing code and the kiosk's public key.")
    name = body.get("name") or "kiosk"
    if name_problem(name, NAME_MAX):
        raise ApiError(400, "bad_name", "The kiosk name must be printable text of at most %(n)s characters.", n=NAME_MAX)
    name = name.strip()
    try:
        public = b64d(body["public_key"])
    except Malformed as exc:
        raise ApiError(400, "malformed", "The kiosk's public key could not be read.") from exc
    if len(public) != 32:
        raise ApiError(400, "malformed", "The kiosk's public key could not be read.")
    offer = s.get(OfferRow, _code_hash(body["code"]), with_for_update=True)
    if offer is None or offer.used:
        raise ApiError(403, "bad_pairing_code", "This pairing code is unknown or was already used.")
    if offer.expires_at is None or now >= offer.expires_at:
        raise ApiError(403, "pairing_code_expired", "This pairing code has expired; show a new one on the console.")
    if s.scalars(select(Kiosk.id).where(Kiosk.public_key == public)).first():
        raise ApiError(409, "already_paired", "This kiosk key is already paired.")
    offer.used = True
    kiosk = Kiosk(id=secrets.token_hex(8), name=name, public_key=public,
                  status="active" if offer.preconfirm else "pending", outbox=0)
    s.add(kiosk)
    audit.record(s, "kiosk", "paired", kiosk=kiosk.id, name=name, fingerprint=fingerprint(public),
                 confirmed=offer.preconfirm)
    return kiosk


def set_status(s: Session, kiosk_id: str, status: str, actor: str = "chair") -> Kiosk:
    kiosk = s.get(Kiosk, kiosk_id)
    if kiosk is None:
        raise ApiError(404, "unknown_kiosk", "There is no such kiosk.")
    if kiosk.status == "revoked":
        raise ApiError(409, "kiosk_revoked", "A revoked kiosk stays revoked; pair it again with a new key.")
    kiosk.status = status
    audit.record(s, actor, "kiosk_" + ("confirmed" if status == "active" else status), kiosk=kiosk_id)
    return kiosk


class KioskKeys:
    """Kiosk public keys by id. A kiosk's key never changes, so it may be cached; its status is
    read again inside every intake transaction."""

    def __init__(self) -> None:
        self._keys: dict[str, bytes] = {}

    def get(self, s: Session, kiosk_id: str) -> bytes:
        key = self._keys.get(kiosk_id)
        if key is None:
            key = s.execute(select(Kiosk.public_key).where(Kiosk.id == kiosk_id)).scalar()
            if key is None:
                raise ApiError(403, "unknown_kiosk", "This kiosk is not paired with the tally.")
            self._keys[kiosk_id] = key
        return key
