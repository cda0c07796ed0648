"""Scrutineers' key shares (监票人密钥分片): a round key that only k of the n scrutineers together can open.

At set-up, for every secret round (and every spare round key):
- a fresh X25519 round key, and a fresh random 16-byte **round secret** `s`;
- `s` is split k-of-n with Shamir's scheme over GF(2^128) (pycryptodome's
  `Crypto.Protocol.SecretSharing.Shamir`, a maintained, reviewed implementation: no
  hand-rolled field arithmetic here). Fewer than k shares say nothing about `s`;
- the key that wraps the round's private key is `HKDF-SHA256(s, salt=meeting,
  info="scrutineer/round-wrap/v1" NUL round)`, and the wrap is ChaCha20-Poly1305 with the
  meeting, round and public key as associated data, so a wrapped key moved to another round
  or meeting does not open;
- each share has a **commitment**, `SHA-256("scrutineer/share-commit/v1" NUL canonical({v,
  meeting, round, index, share}))`, kept by the tally with the public key and the wrapped key,
  so a wrong or damaged share is named at the count ("the share of scrutineer 2 for round r1
  does not match") instead of yielding garbage. Its first 40 bits, in base32, are the
  **check code** printed next to the share and shown on the console at set-up.

Rounds are independent: each has its own secret, so opening one gives nothing towards another.
The tally keeps a `Custody` (public key, wrapped key, commitments, quorum) and never a share
or `s`. A share travels as text, `SCRS1.<meeting>.<round>.<scrutineer>.<base32 share>`, in a
QR code on the scrutineer's sheet and as a line of their file.

Touches no files and no clock.
"""
from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from Crypto.Protocol.SecretSharing import Shamir
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from keys import labels
from keys.canonical import b64d, b64e, canonical
from keys.errors import Malformed, NotEnoughShares, ShareError
from keys.ids import check_hash, check_meeting, check_name
from keys.sealing import RoundKey

PREFIX = "SCRS1"
SECRET_SIZE = 16
MAX_SCRUTINEERS = 15
_SHARE_RE = re.compile(r"SCRS1\.([0-9a-f]{16})\.([A-Za-z0-9_-]{1,64})\.([1-9][0-9]?)\.([A-Z2-7]{26})")


@dataclass(frozen=True)
class Share:
    """One scrutineer's share of one round key. The value never shows in a repr."""

    meeting: str
    round_id: str
    index: int
    value: bytes = field(repr=False)

    def __post_init__(self) -> None:
        check_meeting(self.meeting)
        check_name(self.round_id, "round")
        if type(self.index) is not int or not 1 <= self.index <= MAX_SCRUTINEERS:
            raise Malformed("a scrutineer's number is 1 to 15")
        if not isinstance(self.value, bytes) or len(self.value) != SECRET_SIZE:
            raise Malformed("a share is 16 bytes")

    @property
    def text(self) -> str:
        """What the QR code and the file line carry: a secret, never log it."""
        encoded = base64.b32encode(self.value).decode("ascii").rstrip("=")
        return f"{PREFIX}.{self.meeting}.{self.round_id}.{self.index}.{encoded}"

    @property
    def commitment(self) -> str:
        return commitment(self.meeting, self.round_id, self.index, self.value)

    @property
    def check_code(self) -> str:
        return check_code(self.commitment)


def commitment(meeting: str, round_id: str, index: int, value: bytes) -> str:
    """Hex SHA-256 binding one share to its meeting, round and scrutineer."""
    doc = {"v": 1, "meeting": meeting, "round": round_id, "index": index, "share": b64e(value)}
    return hashlib.sha256(labels.domain(labels.SHARE_COMMIT, canonical(doc))).hexdigest()


def check_code(commitment_hex: str) -> str:
    """The short code a scrutineer compares between their sheet and the console: `ABCD-EFGH`."""
    text = base64.b32encode(bytes.fromhex(commitment_hex)[:5]).decode("ascii")
    return f"{text[:4]}-{text[4:]}"


def parse_share(text: str) -> Share:
    """A share from scanned or typed text; surrounding and inner whitespace and the case of the
    base32 part are forgiven (a USB scanner types an Enter, a person may type in lower case)."""
    if not isinstance(text, str) or len(text) > 512:
        raise Malformed("not a scrutineer's share")
    parts = re.sub(r"\s", "", text).split(".")
    if len(parts) != 5:
        raise Malformed("not a scrutineer's share")
    cleaned = ".".join([parts[0].upper(), parts[1].lower(), parts[2], parts[3], parts[4].upper()])
    match = _SHARE_RE.fullmatch(cleaned)
    if not match:
        raise Malformed("not a scrutineer's share")
    meeting, round_id, index, encoded = match.groups()
    try:
        value = base64.b32decode(encoded + "======")
    except (binascii.Error, ValueError) as exc:
        raise Malformed("not a scrutineer's share") from exc
    if base64.b32encode(value).decode("ascii").rstrip("=") != encoded:
        raise Malformed("not a scrutineer's share")
    return Share(meeting, round_id, int(index), value)


@dataclass(frozen=True)
class Custody:
    """What the tally keeps of a round key: everything public, plus the key wrapped under the
    round secret that only k shares rebuild."""

    round_id: str
    public_key: bytes
    wrapped: bytes
    commitments: tuple[str, ...]
    quorum: int

    @property
    def scrutineers(self) -> int:
        return len(self.commitments)

    def check_codes(self) -> list[str]:
        """Scrutineer i's check code for this round at position i - 1."""
        return [check_code(c) for c in self.commitments]


def _wrapping_key(secret: bytes, meeting: str, round_id: str) -> ChaCha20Poly1305:
    info = labels.domain(labels.ROUND_WRAP, round_id.encode("ascii"))
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=meeting.encode("ascii"), info=info).derive(secret)
    return ChaCha20Poly1305(key)


def _aad(meeting: str, round_id: str, public_key: bytes) -> bytes:
    return labels.domain(labels.ROUND_WRAP, canonical({"v": 1, "meeting": meeting, "round": round_id,
                                                       "public_key": b64e(public_key)}))


def split_round_key(meeting: str, round_id: str, key: RoundKey, *, quorum: int,
                    scrutineers: int) -> tuple[Custody, list[Share]]:
    """Wrap `key` under a fresh round secret and split that secret among the scrutineers.

    Returns the tally's `Custody` and the n shares (scrutineer i holds `shares[i - 1]`); the
    caller hands the shares out and keeps none of them."""
    check_meeting(meeting)
    check_name(round_id, "round")
    if not 2 <= quorum <= scrutineers <= MAX_SCRUTINEERS:
        raise ValueError("need 2 <= quorum <= scrutineers <= 15")
    secret = os.urandom(SECRET_SIZE)
    nonce = os.urandom(12)
    public = key.public_bytes()
    wrapped = nonce + _wrapping_key(secret, meeting, round_id).encrypt(nonce, key.private_bytes(),
                                                                       _aad(meeting, round_id, public))
    shares = [Share(meeting, round_id, index, value) for index, value in Shamir.split(quorum, scrutineers, secret)]
    del secret
    return Custody(round_id, public, wrapped, tuple(s.commitment for s in shares), quorum), shares


def check_share(meeting: str, custody: Custody, share: Share) -> None:
    """Raise `ShareError` naming what is wrong with this share for this round, else return."""
    if share.meeting != meeting:
        raise ShareError("wrong_meeting", scrutineer=share.index, round_id=custody.round_id)
    if share.round_id != custody.round_id:
        raise ShareError("wrong_round", scrutineer=share.index, round_id=custody.round_id, share_round=share.round_id)
    if share.index > custody.scrutineers:
        raise ShareError("unknown_scrutineer", scrutineer=share.index, round_id=custody.round_id)
    if not hmac.compare_digest(share.commitment, custody.commitments[share.index - 1]):
        raise ShareError("mismatch", scrutineer=share.index, round_id=custody.round_id)


def valid_shares(meeting: str, custody: Custody, texts: Iterable[str]) -> list[Share]:
    """Parse and check every share given; the first bad one raises `ShareError` by name.

    The same scrutineer's share given twice counts once."""
    found: dict[int, Share] = {}
    for text in texts:
        try:
            share = parse_share(text)
        except Malformed as exc:
            raise ShareError("malformed", round_id=custody.round_id) from exc
        check_share(meeting, custody, share)
        found[share.index] = share
    return [found[i] for i in sorted(found)]


def open_round_key(meeting: str, custody: Custody, shares: Sequence[Share]) -> RoundKey:
    """Join k checked shares and unwrap the round key. Fewer than the quorum raise
    `NotEnoughShares`; shares must have passed `check_share` (use `valid_shares`)."""
    distinct = {s.index: s for s in shares}
    if len(distinct) < custody.quorum:
        raise NotEnoughShares(have=len(distinct), need=custody.quorum, round_id=custody.round_id)
    for share in distinct.values():
        check_share(meeting, custody, share)
    chosen = [distinct[i] for i in sorted(distinct)][: custody.quorum]
    secret = Shamir.combine([(s.index, s.value) for s in chosen])
    wrapped = custody.wrapped
    try:
        raw = _wrapping_key(secret, meeting, custody.round_id).decrypt(
            wrapped[:12], wrapped[12:], _aad(meeting, custody.round_id, custody.public_key))
    except (InvalidTag, ValueError) as exc:
        # Every share matched its commitment, so only a damaged wrapped key gets here.
        raise ShareError("wrapped_key_damaged", round_id=custody.round_id) from exc
    finally:
        del secret
    key = RoundKey.from_private_bytes(raw)
    if key.public_bytes() != custody.public_key:
        raise ShareError("wrapped_key_damaged", round_id=custody.round_id)
    return key


def custody_doc(meeting: str, custody: Custody) -> dict[str, object]:
    """A round's custody as JSON (`key.json` of an export): everything needed to open the round
    given k shares, and nothing that opens it without them."""
    return {"v": 1, "type": "round-key", "meeting": meeting, "round": custody.round_id,
            "public_key": b64e(custody.public_key), "wrapped": b64e(custody.wrapped),
            "commitments": list(custody.commitments), "quorum": custody.quorum}


def parse_custody(doc: object) -> tuple[str, Custody]:
    """`(meeting, custody)` from `custody_doc`'s JSON; `Malformed` if it is not one."""
    if not isinstance(doc, dict) or doc.get("v") != 1 or doc.get("type") != "round-key":
        raise Malformed("not a round key")
    try:
        commitments = tuple(check_hash(c, "commitment") for c in doc["commitments"])
        quorum = doc["quorum"]
        if type(quorum) is not int or not 2 <= quorum <= len(commitments) <= MAX_SCRUTINEERS:
            raise Malformed("quorum")
        public, wrapped = b64d(doc["public_key"]), b64d(doc["wrapped"])
        if len(public) != 32 or len(wrapped) != 12 + 32 + 16:
            raise Malformed("sizes")
        return check_meeting(doc["meeting"]), Custody(check_name(doc["round"], "round"), public, wrapped,
                                                      commitments, quorum)
    except (KeyError, TypeError) as exc:
        raise Malformed("not a round key") from exc
