"""The grammar of the identifiers that travel inside signed bytes: meeting, round, kiosk.

Checked wherever they enter a signature, a chain hash or an HPKE context, so that no two
different (meeting, round) pairs can spell the same bytes. Touches nothing.
"""
from __future__ import annotations

import re

from keys.errors import Malformed

MEETING_RE = re.compile(r"[0-9a-f]{16}")
NAME_RE = re.compile(r"[A-Za-z0-9_-]{1,64}")
HASH_RE = re.compile(r"[0-9a-f]{64}")


def check_meeting(value: object) -> str:
    """A meeting id: 16 lowercase hex characters."""
    if not isinstance(value, str) or not MEETING_RE.fullmatch(value):
        raise Malformed("meeting id must be 16 lowercase hex characters")
    return value


def check_name(value: object, what: str) -> str:
    """A round or kiosk id: 1 to 64 of `[A-Za-z0-9_-]`."""
    if not isinstance(value, str) or not NAME_RE.fullmatch(value):
        raise Malformed(f"{what} id must be 1-64 characters of A-Z a-z 0-9 _ -")
    return value


def check_hash(value: object, what: str) -> str:
    """A SHA-256 digest as 64 lowercase hex characters."""
    if not isinstance(value, str) or not HASH_RE.fullmatch(value):
        raise Malformed(f"{what} must be 64 lowercase hex characters")
    return value
