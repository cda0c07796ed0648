"""The ballot box chain (票箱哈希链): a per-round hash chain over accepted envelopes.

`head_0 = sha256(b"scrutineer/chain/v1\\0" + meeting + "/" + round)`, then
`entry_n = sha256(b"scrutineer/chain/v1\\0" + head_{n-1} + envelope_hash_n)` over raw digest
bytes; the head is the last entry. Deleting, editing or reordering an accepted envelope changes
every later entry and the head printed on the result sheet. Pure: no storage, no clock.
"""
from __future__ import annotations

import hashlib
from collections.abc import Iterable

from keys import labels
from keys.ids import check_hash, check_meeting, check_name


def genesis(meeting: str, round_id: str) -> str:
    """The chain head of a round with no envelope yet (hex)."""
    check_meeting(meeting)
    check_name(round_id, "round")
    # The id grammar has no "/", so meeting + "/" + round is unambiguous.
    data = f"{meeting}/{round_id}".encode("ascii")
    return hashlib.sha256(labels.domain(labels.CHAIN, data)).hexdigest()


def next_entry(prev_hex: str, envelope_hash_hex: str) -> str:
    """The chain entry that appends the envelope `envelope_hash_hex` after `prev_hex`."""
    prev = bytes.fromhex(check_hash(prev_hex, "previous chain entry"))
    envelope = bytes.fromhex(check_hash(envelope_hash_hex, "envelope hash"))
    return hashlib.sha256(labels.domain(labels.CHAIN, prev + envelope)).hexdigest()


def head(meeting: str, round_id: str, envelope_hashes: Iterable[str]) -> str:
    """Replay a whole round: the head after appending `envelope_hashes` in order."""
    entry = genesis(meeting, round_id)
    for envelope_hash in envelope_hashes:
        entry = next_entry(entry, envelope_hash)
    return entry
