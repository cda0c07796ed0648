"""Pairing (配对) a kiosk with the tally from a pairing offer.

`register` makes the kiosk known to the tally and proves the tally is the one the chair's
screen vouched for: the tally key it answers with must have the offer's fingerprint, else the
kiosk refuses (a machine on the LAN may be posing as the tally). `pair` does that for a real
kiosk and then saves its identity (encrypted) and the pairing record in the data directory.
The simulator calls `register` with identities it keeps in memory.
"""
from __future__ import annotations

import contextlib
from dataclasses import dataclass

from keys import store
from keys.canonical import b64d
from keys.errors import BadPairingOffer, Malformed, WeakPassphrase
from keys.fingerprint import fingerprint
from keys.identity import Identity
from keys.pairing import PairingOffer
from keys.passphrase import check_passphrase
from kiosk.ballots import MAX_NAME, name_problem
from kiosk.client import TallyClient, TallyError, TallyUnreachable
from kiosk.config import Pairing, Paths, save_pairing


class PairingFailed(Exception):
    """Pairing did not happen; the message says why in words a hall technician can act on."""


@dataclass(frozen=True)
class Paired:
    pairing: Pairing
    status: str
    kiosk_fingerprint: str


def register(offer: PairingOffer, identity: Identity, name: str, client: TallyClient | None = None) -> Paired:
    """POST the kiosk's public key with the offer's code and check the tally's key."""
    client = client or TallyClient(offer.url, pin=offer.tls)
    try:
        answer = client.pair(offer.code, identity.public_bytes(), name)
    except TallyUnreachable as exc:
        raise PairingFailed(f"cannot reach the tally at {offer.url}: {exc}") from exc
    except TallyError as exc:
        raise PairingFailed(f"the tally refused pairing: {exc.code or exc.status} {exc.message}".rstrip()) from exc
    try:
        tally_key = b64d(answer.get("tally_public_key", ""))
        offer.check_tally_key(tally_key)
    except (Malformed, BadPairingOffer) as exc:
        raise PairingFailed(
            "the tally's key does not match the fingerprint in the pairing offer: "
            "possible impostor on the network; nothing was saved"
        ) from exc
    try:
        pairing = Pairing.from_json({
            "kiosk_id": answer.get("kiosk_id"), "tally_url": offer.url,
            "tally_public_key": answer.get("tally_public_key"), "meeting": answer.get("meeting"),
            "name": name, "tls_fingerprint": offer.tls,
        })
    except Exception as exc:
        raise PairingFailed(f"the tally's pairing answer is not well formed: {exc}") from exc
    status = answer.get("status")
    return Paired(pairing=pairing, status=status if isinstance(status, str) else "pending",
                  kiosk_fingerprint=fingerprint(identity.public_bytes()))


def pair(offer_text: str, paths: Paths, name: str, passphrase: str) -> Paired:
    """Pair a real kiosk: a new identity, registered, then saved (key first, record last)."""
    try:
        offer = PairingOffer.parse(offer_text)
    except BadPairingOffer as exc:
        raise PairingFailed(f"not a pairing offer: {exc}") from exc
    if paths.pairing.exists() or paths.key.exists():
        raise PairingFailed(f"{paths.data} already holds a paired kiosk; use a new data directory")
    if not passphrase:
        raise PairingFailed("a passphrase is required to protect the kiosk's key")
    if name and name_problem(name, MAX_NAME):
        raise PairingFailed(f"the kiosk name must be printable text of at most {MAX_NAME} characters")
    try:
        check_passphrase(passphrase, context=(name,))
    except WeakPassphrase as exc:
        raise PairingFailed("the passphrase is too weak (" + "; ".join(exc.reasons) + "): use at least 12 "
                            "characters, a sentence of several unusual words / "
                            "口令太弱：至少 12 个字符，请用由几个不常见的词组成的一句话") from exc
    paths.data.mkdir(parents=True, exist_ok=True, mode=0o700)
    paths.data.chmod(0o700)
    identity = Identity.generate()
    paired = register(offer, identity, name.strip())
    store.save_private(paths.key, identity, passphrase)
    save_pairing(paths, paired.pairing)
    return paired


def load_identity(paths: Paths, passphrase: str) -> Identity:
    """The kiosk's identity; a key file of version 0.1 (PBKDF2) is rewritten with scrypt."""
    identity = store.load_private(paths.key, passphrase, Identity)
    with contextlib.suppress(store.KeyStoreError):  # a read-only data directory keeps its old file
        store.upgrade_if_legacy(paths.key, passphrase)
    return identity
