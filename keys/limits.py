"""Limits both sides of the wire agree on: what a voter may write on a ballot, and what it costs in bytes.

One place for the numbers that the kiosk's ballot check (`kiosk.ballots`), the tally's ballot
size (`tally.box.forms.ballot_size`, every sealed ballot of a round padded to it) and any shared
name validation must use alike; a name longer than `MAX_WRITE_IN` could not be sealed in its
round's fixed size. Touches nothing.
"""
from __future__ import annotations

MAX_WRITE_IN = 32   # characters of a name written in on a recommendation ballot
# The most bytes one character can take in canonical JSON: a control character is written as
# `\\u001f` (6 bytes); a Chinese character takes 3, one outside the BMP 4, `"` and `\\` 2.
MAX_CHAR_BYTES = 6
