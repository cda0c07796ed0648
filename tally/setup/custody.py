"""Custody of round private keys: how a round's key rests and what it takes to open it.

A secret round's key is wrapped at set-up under a random round secret of its own, which is
split among the scrutineers (监票人), k of n (`keys.shares`); the tally keeps the round's
public key, the wrapped key and one commitment per share, never a share and never the joined
key on disk. `open_secret_round` takes the shares the scrutineers give at the count, names a
wrong or damaged one, refuses fewer than k, and returns the key in memory only. Rounds are
independent: counting one gives nothing towards another.

Spare round keys (`spare-1`, …) are made and split the same way at set-up; `assign_spare`
gives one to a round added during the meeting (a re-vote among tied nominees), which takes the
spare's id as its own, so the cards already hold a key for it. A score round's key is wrapped
under the tally's key passphrase and unlocked when it opens (judge scores are open data).
"""
from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from sqlalchemy import delete, func, insert, select
from sqlalchemy.orm import Session

from keys.chain import genesis
from keys.errors import KeyStoreError, NotEnoughShares, ShareError
from keys.sealing import RoundKey
from keys.shares import Custody, open_round_key, split_round_key, valid_shares
from keys.store import unwrap, wrap
from tally.config import Secret
from tally.errors import ApiError
from tally.rules.kinds import RoundKind
from tally.store import audit
from tally.store.models import Card, Meeting, Round, SpareCard, SpareKey


class CustodyError(Exception):
    """The secret offered does not unwrap the round key."""


def wrap_score_key(key: RoundKey, passphrase: str) -> bytes:
    return wrap(key, passphrase)


def unwrap_score_key(blob: bytes, passphrase: str) -> RoundKey:
    try:
        return unwrap(blob, passphrase, RoundKey)
    except KeyStoreError as exc:
        raise CustodyError("the passphrase does not open this round's key") from exc


def split_key(meeting_id: str, round_id: str, key: RoundKey, quorum: int, scrutineers: int) -> tuple[Custody, list[Any]]:
    """Wrap a secret round's (or a spare's) key and split its secret: the tally's custody, and the
    shares to hand out (never stored)."""
    return split_round_key(meeting_id, round_id, key, quorum=quorum, scrutineers=scrutineers)


def round_custody(s: Session, rnd: Round) -> Custody:
    """What the tally keeps of a secret round's key."""
    meeting = s.scalars(select(Meeting)).one()
    if not rnd.secret:
        raise ApiError(409, "not_secret", "This round's key is not held by the scrutineers.")
    if rnd.share_commitments is None or meeting.quorum is None:
        raise ApiError(409, "old_round_key",
                       "This round's key was wrapped under one passphrase by an older version of Scrutineer; "
                       "it cannot be opened with the scrutineers' shares.")
    return Custody(rnd.id, rnd.public_key, rnd.wrapped_private, tuple(json.loads(rnd.share_commitments)),
                   meeting.quorum)


def share_refusal(exc: ShareError) -> ApiError:
    """A share problem as the chair and the scrutineers read it: whose share, which round."""
    if isinstance(exc, NotEnoughShares):
        return ApiError(400, "shares_needed",
                        "Round %(round)s opens with %(need)s scrutineers' shares; %(have)s valid given: "
                        "%(more)s more needed. Nothing was changed.",
                        round=exc.round_id, need=exc.need, have=exc.have, more=exc.need - exc.have)
    n, r = exc.scrutineer, exc.round_id
    if exc.reason == "malformed":
        return ApiError(400, "share_malformed", "This is not a scrutineer's share for round %(round)s: "
                        "scan the QR code again or check the typing. Nothing was changed.", round=r)
    if exc.reason == "wrong_meeting":
        return ApiError(400, "share_wrong_meeting", "The share of scrutineer %(n)s belongs to another meeting. "
                        "Nothing was changed.", n=n)
    if exc.reason == "wrong_round":
        return ApiError(400, "share_wrong_round", "The share of scrutineer %(n)s is for round %(other)s, "
                        "not %(round)s: scan the QR code of round %(round)s. Nothing was changed.",
                        n=n, other=exc.share_round, round=r)
    if exc.reason == "unknown_scrutineer":
        return ApiError(400, "share_unknown_scrutineer", "There is no scrutineer %(n)s in this meeting. "
                        "Nothing was changed.", n=n)
    if exc.reason == "mismatch":
        return ApiError(400, "share_mismatch", "The share of scrutineer %(n)s for round %(round)s does not match "
                        "(damaged or mistyped). Nothing was changed.", n=n, round=r)
    return ApiError(409, "round_key_damaged", "The wrapped key of round %(round)s is damaged: the shares match "
                    "but do not open it. Nothing was changed.", round=r)


def check_share(s: Session, meeting_id: str, rnd: Round, text: str) -> int:
    """Check one share for this round (the console's scan); its scrutineer's number, or ApiError."""
    try:
        (share,) = valid_shares(meeting_id, round_custody(s, rnd), [text])
    except ShareError as exc:
        raise share_refusal(exc) from exc
    return share.index


def open_secret_round(s: Session, meeting_id: str, rnd: Round, texts: Iterable[str]) -> tuple[RoundKey, list[int]]:
    """The round's key, joined from the shares given (in memory only), and the numbers of the
    scrutineers whose shares were used. Any bad share, or fewer than k, is an ApiError."""
    custody = round_custody(s, rnd)
    try:
        shares = valid_shares(meeting_id, custody, texts)
        key = open_round_key(meeting_id, custody, shares)
    except ShareError as exc:
        raise share_refusal(exc) from exc
    return key, [sh.index for sh in shares][: custody.quorum]


def add_spares(s: Session, meeting_id: str, custodies: list[Custody]) -> None:
    for position, c in enumerate(custodies):
        s.add(SpareKey(id=c.round_id, position=position, public_key=c.public_key, wrapped_private=c.wrapped,
                       share_commitments=json.dumps(list(c.commitments)), assigned=False))


def assign_spare(s: Session, *, kind: RoundKind, title: str, expected: int | None = None) -> Round:
    """Give the first unused spare key to a new secret round, which takes the spare's id.

    The new round is a draft, after every other round, with the spare's public key, wrapped key
    and commitments (its shares are already on the scrutineers' sheets) and the card list's
    credentials for that spare. The caller adds the round to the meeting's plan (issue 12)."""
    if not kind.secret:
        raise ApiError(409, "not_secret", "Only a secret ballot round takes a spare round key.")
    spare = s.scalars(select(SpareKey).where(SpareKey.assigned.is_(False)).order_by(SpareKey.position)
                      .with_for_update()).first()
    if spare is None:
        raise ApiError(409, "no_spare_key", "Every spare round key has been used: the meeting needs a new key ceremony.")
    if s.get(Round, spare.id) is not None:
        raise ApiError(409, "no_spare_key", "Every spare round key has been used: the meeting needs a new key ceremony.")
    position = (s.scalar(select(func.max(Round.position))) or 0) + 1
    meeting_id = s.scalars(select(Meeting.id)).one()
    rnd = Round(id=spare.id, position=position, kind=kind.value, title=title, secret=True, status="draft",
                public_key=spare.public_key, wrapped_private=spare.wrapped_private,
                share_commitments=spare.share_commitments, expected=expected, accepted=0,
                chain_head=genesis(meeting_id, spare.id))
    s.add(rnd)
    spare.assigned = True
    s.flush()
    if kind.takes_cards:
        rows: list[dict[str, Any]] = [{"public_key": c.public_key, "round_id": spare.id, "status": c.status, "origin": "list"}
                for c in s.scalars(select(SpareCard).where(SpareCard.spare_id == spare.id))]
        rows.sort(key=lambda row: row["public_key"])
        if rows:
            s.execute(insert(Card), rows)
    s.execute(delete(SpareCard).where(SpareCard.spare_id == spare.id))
    audit.record(s, "chair", "spare_key_assigned", round=spare.id)
    return rnd


class ScoreKeys:
    """Score rounds' keys, unwrapped with the tally's key passphrase on first use and kept in memory:
    judges' scores are open data, opened as they arrive. Never a secret round's key."""

    def __init__(self, passphrase: Secret) -> None:
        self._passphrase = passphrase
        self._keys: dict[str, RoundKey] = {}

    def get(self, s: Session, round_id: str) -> RoundKey:
        key = self._keys.get(round_id)
        if key is None:
            rnd = s.get(Round, round_id)
            if rnd is None or rnd.secret:
                raise CustodyError("only a score round's key is unlocked by the tally")
            key = self._keys[round_id] = unwrap_score_key(rnd.wrapped_private, self._passphrase.value)
        return key
