"""Custody of round private keys: how a round's key rests and what it takes to unwrap it.

A secret round's key is wrapped (encrypted PKCS#8) under the scrutineers' passphrase when the
meeting is set up and unwrapped only after the round closes; a score round's key is wrapped
under the tally's own key passphrase and unlocked when it opens (judge scores are open data).
This is the seam where the 监票人 k-of-n key split will come in: callers only ever ask
`unwrap_round_key(round, custody_secret)`.
"""
from __future__ import annotations

from sqlalchemy.orm import Session

from keys.errors import KeyStoreError
from keys.sealing import RoundKey
from keys.store import unwrap, wrap
from tally.config import Secret
from tally.store.models import Round


class CustodyError(Exception):
    """The secret offered does not unwrap the round key."""


def wrap_round_key(key: RoundKey, secret: str) -> bytes:
    return wrap(key, secret)


def unwrap_round_key(blob: bytes, secret: str) -> RoundKey:
    try:
        return unwrap(blob, secret, RoundKey)
    except KeyStoreError as exc:
        raise CustodyError("the passphrase does not open this round's key") from exc


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
            key = self._keys[round_id] = unwrap_round_key(rnd.wrapped_private, self._passphrase.value)
        return key
