"""The kiosk's side of the tally HTTP API (docs/architecture.md): one connection-pooled session.

Every call either returns the tally's JSON answer or raises `TallyError` (the tally answered
with an error code) or `TallyUnreachable` (no usable answer: connection refused, timeout, a 5xx
or a non-JSON page from something in between). Signed requests carry the kiosk's signature
(`keys.envelope.sign_request`). Never sends or logs a card secret: only public keys.

A tally served over HTTPS with its own certificate is pinned: the pairing offer carries the
SHA-256 fingerprint of that certificate, and the kiosk talks to no other (`PinnedAdapter`: the
TLS handshake completes only when the server's certificate has exactly that fingerprint; no
certificate authority is asked, so none can vouch for an impostor).
"""
from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import requests
from requests.adapters import HTTPAdapter

from keys.canonical import b64e
from keys.identity import Identity
from keys.request import sign_request


class TallyUnreachable(Exception):
    """No usable answer from the tally; try again later."""


class TallyError(Exception):
    """The tally answered with an error: `status` (HTTP) and `code` from its JSON error body."""

    def __init__(self, status: int, code: str, message: str = "") -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message


@dataclass(frozen=True)
class Answer:
    status: int
    body: dict[str, Any]


class PinnedAdapter(HTTPAdapter):
    """HTTPS to a tally whose certificate has one SHA-256 fingerprint (urllib3's `assert_fingerprint`)."""

    def __init__(self, pin: str, **kw: Any) -> None:
        self.pin = pin
        super().__init__(**kw)

    def init_poolmanager(self, *args: Any, **kw: Any) -> None:
        kw["assert_fingerprint"] = self.pin
        super().init_poolmanager(*args, **kw)

    def cert_verify(self, conn: Any, url: str, verify: Any, cert: Any) -> None:
        # The pin replaces the authorities: the certificate is checked by its fingerprint alone.
        super().cert_verify(conn, url, False, cert)
        conn.assert_fingerprint = self.pin

    def build_connection_pool_key_attributes(self, request: Any, verify: Any, cert: Any = None) -> Any:
        return super().build_connection_pool_key_attributes(request, False, cert)


def new_session(pool: int = 4, pin: str | None = None) -> requests.Session:
    """A session to one tally; with `pin` (SHA-256 of its certificate), HTTPS only to that certificate."""
    session = requests.Session()
    adapter = HTTPAdapter(pool_connections=1, pool_maxsize=pool, max_retries=0)
    session.mount("http://", adapter)
    session.mount("https://", PinnedAdapter(pin, pool_connections=1, pool_maxsize=pool, max_retries=0) if pin else adapter)
    # A hall LAN: never route the kiosk's traffic through a proxy from the environment.
    session.trust_env = False
    return session


class TallyClient:
    """Talks to one tally at `base_url` (no trailing slash)."""

    def __init__(self, base_url: str, *, session: requests.Session | None = None, timeout: float = 5.0,
                 pin: str | None = None) -> None:
        self.base_url = base_url.rstrip("/")
        self.session = session or new_session(pin=pin)
        self.timeout = timeout

    def _call(self, method: str, path: str, body: dict[str, Any] | None = None, timeout: float | None = None) -> Answer:
        try:
            resp = self.session.request(method, self.base_url + path, json=body, timeout=timeout or self.timeout)
        except requests.RequestException as exc:
            raise TallyUnreachable(f"{method} {path}: {type(exc).__name__}") from exc
        try:
            doc = resp.json()
        except ValueError:
            doc = None
        if resp.status_code >= 500 or not isinstance(doc, dict):
            raise TallyUnreachable(f"{method} {path}: HTTP {resp.status_code}")
        if resp.status_code >= 400:
            err = doc.get("error")
            err = err if isinstance(err, dict) else {}
            code = err.get("code")
            raise TallyError(resp.status_code, code if isinstance(code, str) else "", str(err.get("message") or ""))
        return Answer(resp.status_code, doc)

    def pair(self, code: str, public_key: bytes, name: str) -> dict[str, Any]:
        return self._call("POST", "/api/v1/kiosks/pair",
                          {"code": code, "public_key": b64e(public_key), "name": name}).body

    def ballot(self) -> dict[str, Any]:
        return self._call("GET", "/api/v1/ballot").body

    def judging(self, timeout: float | None = None) -> dict[str, Any]:
        """The open score rounds and who is being scored (never a score value)."""
        return self._call("GET", "/api/v1/judging", timeout=timeout).body

    def signed(self, path: str, identity: Identity, kiosk_id: str, payload: dict[str, Any],
               timeout: float | None = None) -> dict[str, Any]:
        body = sign_request(identity, kiosk_id=kiosk_id, payload=payload, at=int(time.time()))
        return self._call("POST", path, body, timeout=timeout).body

    def heartbeat(self, identity: Identity, kiosk_id: str, outbox: int, sent: int) -> dict[str, Any]:
        return self.signed("/api/v1/kiosks/heartbeat", identity, kiosk_id, {"outbox": outbox, "sent": sent})

    def check_card(self, identity: Identity, kiosk_id: str, card_publics: Mapping[str, bytes],
                   timeout: float = 2.0) -> dict[str, Any]:
        """Ask about a scanned card by its public key in each open round (`{round_id: key}`)."""
        return self.signed("/api/v1/cards/check", identity, kiosk_id,
                           {"cards": {r: b64e(k) for r, k in card_publics.items()}}, timeout=timeout)

    def claim_unlock(self, identity: Identity, kiosk_id: str, grant: str,
                     card_publics: Mapping[str, bytes]) -> dict[str, Any]:
        """Register a kiosk-made card for a desk unlock: its public key in each open ballot round."""
        return self.signed("/api/v1/kiosks/unlock", identity, kiosk_id,
                           {"grant": grant, "cards": {r: b64e(k) for r, k in card_publics.items()}})

    def post_envelope(self, body: dict[str, Any]) -> Answer:
        return self._call("POST", "/api/v1/envelopes", body)
