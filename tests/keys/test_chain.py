"""The ballot box chain: independent vectors, order sensitivity, and id grammar."""
from __future__ import annotations

import hashlib

import pytest

from keys.chain import genesis, head, next_entry
from keys.errors import Malformed

MEETING = "0123456789abcdef"
EMPTY = hashlib.sha256(b"").hexdigest()
ABC = hashlib.sha256(b"abc").hexdigest()
# Computed by hand from the formula in docs/architecture.md with hashlib alone.
GENESIS_R1 = "e38cbf4b9308ad4e1e3c98ffc7c4526c876cf60a33848c391c8599ef4db51848"
ENTRY_1 = "1c80a486dc755f7f10699a84b7627a52b9831cbf22f789d7bae3bee4c1558307"
ENTRY_2 = "9700c976bf424e3df4eda70f637ac16b6cc8696fee672741e6805923697db455"


def test_vectors() -> None:
    assert genesis(MEETING, "r1") == GENESIS_R1
    assert hashlib.sha256(b"scrutineer/chain/v1\0" + b"0123456789abcdef/r1").hexdigest() == GENESIS_R1
    assert next_entry(GENESIS_R1, EMPTY) == ENTRY_1
    assert next_entry(ENTRY_1, ABC) == ENTRY_2
    assert head(MEETING, "r1", [EMPTY, ABC]) == ENTRY_2
    assert head(MEETING, "r1", []) == GENESIS_R1


def test_every_round_and_meeting_has_its_own_genesis() -> None:
    heads = {genesis(MEETING, "r1"), genesis(MEETING, "r2"), genesis("fedcba9876543210", "r1")}
    assert len(heads) == 3


def test_order_deletion_and_duplication_change_the_head() -> None:
    base = head(MEETING, "r1", [EMPTY, ABC])
    assert head(MEETING, "r1", [ABC, EMPTY]) != base
    assert head(MEETING, "r1", [EMPTY]) != base
    assert head(MEETING, "r1", [EMPTY, ABC, ABC]) != base


@pytest.mark.parametrize(("meeting", "round_id"), [
    ("0123456789ABCDEF", "r1"), ("0123456789abcde", "r1"), (MEETING, "r/1"), (MEETING, ""), (MEETING, "轮1"),
])
def test_genesis_refuses_bad_ids(meeting: str, round_id: str) -> None:
    with pytest.raises(Malformed):
        genesis(meeting, round_id)


@pytest.mark.parametrize(("prev", "envelope"), [
    (GENESIS_R1.upper(), EMPTY), (GENESIS_R1, EMPTY[:-2]), (GENESIS_R1[:2] + " " + GENESIS_R1[3:], EMPTY), (GENESIS_R1, None),
])
def test_next_entry_refuses_non_canonical_hex(prev: str, envelope: str) -> None:
    with pytest.raises(Malformed):
        next_entry(prev, envelope)
