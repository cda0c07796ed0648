"""Domain labels: the fixed ASCII prefix (and NUL) that starts every signed or sealed message.

A signature made for one purpose can never be replayed as another because each purpose signs
`label + b"\\0" + message`, and the labels are distinct and contain no NUL. Touches nothing.
"""
from __future__ import annotations

ENVELOPE = "scrutineer/envelope/v1"          # kiosk signs an envelope
CARD = "scrutineer/card/v1"                  # card signs an envelope
BALLOT = "scrutineer/ballot/v1"              # HPKE info of a ballot
RECEIPT = "scrutineer/receipt/v1"            # tally signs a receipt
KIOSK_REQUEST = "scrutineer/kiosk-request/v1"  # kiosk signs a heartbeat / request
RESULT = "scrutineer/result/v1"              # tally signs a result sheet
CHAIN = "scrutineer/chain/v1"                # ballot box chain entry hash
FINGERPRINT = "scrutineer/fingerprint/v1"    # key fingerprint
CARD_ROUND_KEY = "scrutineer/card-round-key/v1"  # HKDF info (+ NUL + round id): card secret -> that round's card key
CARD_CHECK = "scrutineer/card-check/v1"      # HKDF info: card secret -> check code on the card face
SHARE_COMMIT = "scrutineer/share-commit/v1"  # commitment to one scrutineer's share of one round key
ROUND_WRAP = "scrutineer/round-wrap/v1"      # HKDF info (+ NUL + round id) and AEAD data: round secret -> wrapping key
KEY_AT_REST = "scrutineer/key-at-rest/v1"    # AEAD data of a passphrase-wrapped private key (scrypt)
MEETING_RECORD = "scrutineer/meeting-record/v1"  # fingerprint of the public meeting record
CREDENTIALS = "scrutineer/credentials/v1"    # fingerprint of a credential (ballot card) list
CARD_VOID = "scrutineer/card-void/v1"        # a card's key of one round signs that the card is void there
FORM = "scrutineer/form/v1"                  # tally signs a round's ballot form (names, rules, round key, size)
BOX = "scrutineer/box/v1"                    # tally signs a closed round's published box (receipt codes)
AUDIT = "scrutineer/audit/v1"                # audit log chain entry hash
CLOSE = "scrutineer/close/v1"                # tally signs a round's close record (count, head, card list)

ALL = (ENVELOPE, CARD, BALLOT, RECEIPT, KIOSK_REQUEST, RESULT, CHAIN, FINGERPRINT, CARD_ROUND_KEY, CARD_CHECK,
       SHARE_COMMIT, ROUND_WRAP, KEY_AT_REST, MEETING_RECORD, CREDENTIALS, CARD_VOID, FORM, BOX, AUDIT, CLOSE)


def domain(label: str, message: bytes) -> bytes:
    """`label` in ASCII, a NUL byte, then `message`: the bytes actually signed or bound."""
    if label not in ALL:
        raise ValueError(f"unknown domain label {label!r}")
    return label.encode("ascii") + b"\0" + message
