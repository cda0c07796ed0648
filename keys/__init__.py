"""keys: trust and wire format (信任与报文格式) of Scrutineer.

Identities (Ed25519), sealing keys (X25519 + HPKE), canonical bytes and domain labels, the
envelope and its receipt, the ballot box chain, ballot cards, the key store, fingerprints and
pairing offers with their QR codes. Imports only the standard library, `cryptography` and
`qrcode`; never Flask, a database, the network or the clock (times are parameters).
`keys.cli` (the auditor's command line) is the one module that also uses click.
`keys.fingerprint` stays a module here (not re-exported as a function) so it is never shadowed.
"""
from __future__ import annotations

from keys.canonical import b64d, b64e, canonical, parse_canonical
from keys.cards import Card, card_key, check_code, new_card, parse_card
from keys.chain import genesis, head, next_entry
from keys.document import sign_document, verify_document
from keys.envelope import (
    EnvelopeHeader,
    SealedEnvelope,
    make_receipt,
    open_envelope,
    parse_envelope,
    receipt_code,
    seal_envelope,
    verify_envelope,
    verify_receipt,
)
from keys.errors import (
    BadCiphertext,
    BadEnvelope,
    BadPairingOffer,
    BadReceipt,
    BadSignature,
    KeysError,
    KeyStoreError,
    Malformed,
    StaleRequest,
)
from keys.identity import Identity, verify
from keys.pairing import PairingOffer
from keys.qr import qr_png, qr_svg
from keys.request import sign_request, verify_request
from keys.sealing import RoundKey, seal

__all__ = [
    "BadCiphertext", "BadEnvelope", "BadPairingOffer", "BadReceipt", "BadSignature", "Card",
    "EnvelopeHeader", "Identity", "KeyStoreError", "KeysError", "Malformed", "PairingOffer",
    "RoundKey", "SealedEnvelope", "StaleRequest", "b64d", "b64e", "canonical", "card_key",
    "check_code", "genesis", "head", "make_receipt", "new_card", "next_entry",
    "open_envelope", "parse_canonical", "parse_card", "parse_envelope", "qr_png", "qr_svg",
    "receipt_code", "seal", "seal_envelope", "sign_document", "sign_request", "verify",
    "verify_document", "verify_envelope", "verify_receipt", "verify_request",
]
