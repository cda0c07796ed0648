"""Limits both sides of the wire agree on: what a voter may write on a ballot, and what it costs in bytes.

One place for the numbers that the kiosk's ballot check (`kiosk.ballots`) and the tally's ballot
size (`tally.box.forms.ballot_size`, every sealed ballot of a round padded to it) use; a name
longer than `MAX_WRITE_IN` could not be sealed in its round's fixed size. The rules engine, which
imports nothing, keeps the same number as `tally.rules.names.WRITE_IN_MAX`;
`tests/test_validators_agree.py` holds the three equal. Touches nothing.
"""
from __future__ import annotations

MAX_WRITE_IN = 32   # characters of a name written in on a recommendation ballot
# The most bytes one character can take in canonical JSON: a control character is written as
# `\\u001f` (6 bytes); a Chinese character takes 3, one outside the BMP 4, `"` and `\\` 2. The
# kiosk admits printable characters only (at most 4), but the ballot size does not rely on that.
MAX_CHAR_BYTES = 6
