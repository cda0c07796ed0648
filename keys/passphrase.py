"""How strong a passphrase must be before it guards a key at rest (口令强度).

A passphrase that wraps the tally's signing key or a kiosk's identity must be at least
`MIN_LENGTH` characters and score at least `MIN_SCORE` on zxcvbn's estimate (Dropbox's
password strength estimator, maintained as the `zxcvbn` package): about 10^8 guesses or more,
which with scrypt's quarter of a second per guess is years of one machine's work. Long
sentences of ordinary words pass; short words, names, dates, keyboard runs and repeats do not.

A passphrase is one line of text: a line break, a tab or any other control character is
refused (a terminal prompt cannot type it back, and zxcvbn's date matcher crashed on a line
break after five digits).

`check_passphrase` raises `WeakPassphrase` with the reasons as English message ids (the
command lines translate them); it never echoes the passphrase. Touches nothing.
"""
from __future__ import annotations

import re

from zxcvbn import zxcvbn

from keys.errors import WeakPassphrase

MIN_LENGTH = 12
MIN_SCORE = 3
TOO_SHORT = "it is shorter than 12 characters"
TOO_GUESSABLE = "it is too easy to guess: use a sentence of several unusual words"
CONTROL = "it holds a line break, a tab or another control character: use one line of text"
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def check_passphrase(passphrase: str, *, context: tuple[str, ...] = ()) -> None:
    """Refuse a passphrase that is too short or too guessable; `context` holds words that make
    it weaker here (the meeting's title, the kiosk's name)."""
    if not isinstance(passphrase, str):
        raise WeakPassphrase([TOO_SHORT])
    if _CONTROL.search(passphrase):
        raise WeakPassphrase([CONTROL])
    reasons = []
    if len(passphrase) < MIN_LENGTH:
        reasons.append(TOO_SHORT)
    # zxcvbn's cost grows with the length; beyond 100 characters the estimate no longer matters.
    if int(zxcvbn(passphrase[:100], user_inputs=[w for w in context if w])["score"]) < MIN_SCORE:
        reasons.append(TOO_GUESSABLE)
    if reasons:
        raise WeakPassphrase(reasons)
