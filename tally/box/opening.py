"""Opening a sealed ballot box with its round key (开箱): the one function both counts use.

The live count (`tally.box.counting`, after k scrutineers gave their shares) and the count
without the tally (`tally count-box`, over an export, on any machine) both call `open_box`
then `count_ballots`, so they print the same result document. Every envelope is verified
again (kiosk and card signatures) and opened; an accepted envelope that does not verify or
open, or whose ballot the rules cannot read, counts as an invalid ballot (it was returned).
Pure: no database, no Flask, no clock; the envelopes come in as their JSON bodies.
"""
from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from keys.envelope import open_envelope, parse_envelope, verify_envelope
from keys.errors import KeysError
from keys.sealing import RoundKey
from tally.rules import Attendance, BallotInputError, Plan, new_counter, parse_ballot


def open_box(plan: Plan, round_id: str, key: RoundKey,
             envelopes: Iterable[tuple[dict[str, Any], bytes | None]]) -> list[dict[str, Any]]:
    """The plaintext ballot of each `(envelope body, its kiosk's public key)`, in the order given."""
    out: list[dict[str, Any]] = []
    for body, kiosk_public in envelopes:
        ballot: dict[str, Any]
        try:
            if kiosk_public is None:
                raise KeyError("unknown kiosk")
            header = parse_envelope(body)
            if header.round_id != round_id:
                raise ValueError("another round's envelope")
            verify_envelope(header, kiosk_public)
            ballot = open_envelope(header, key)
            parse_ballot(plan, ballot)
        except (KeysError, BallotInputError, KeyError, ValueError):
            ballot = {"round": round_id, "invalid": True}
        out.append(ballot)
    return out


def count_ballots(plan: Plan, round_id: str, ballots: Iterable[dict[str, Any]],
                  attendance: Attendance | None) -> dict[str, Any]:
    """The rules engine's result for these ballots (`tally count`'s document for one round)."""
    counter = new_counter(plan.round(round_id))
    for ballot in ballots:
        counter.add(parse_ballot(plan, ballot))
    return counter.result(attendance, resolved=None)


def stored_result(result: dict[str, Any]) -> str:
    """A round's result as the tally stores it; `json.loads` of it is what `tally results` answers.

    Order is data (CONTRACT.md): grades, items, directions and components stay in the meeting
    file's order, so the stored document keeps the engine's key order; never sort_keys here."""
    return json.dumps(result, ensure_ascii=False)
