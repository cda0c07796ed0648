"""Opening a sealed ballot box with its round key (开箱): the one function both counts use.

The live count (`tally.box.counting`, after k scrutineers gave their shares) and the count
without the tally (`tally count-box`, over an export, on any machine) both check the box
(`tally.box.checking`), then `open_box`, then `count_ballots`, so they print the same result
document and refuse with the same words.

`open_one` is the work of one envelope, a pure function of the context and the envelope so that
it can be mapped over the box (today with `map`; a process pool may take its place, building the
`OpenContext` once per worker, since a `RoundKey` is never pickled): the kiosk must be known and
both signatures verify, and the sealed ballot must open with the round key. Anything else is a
problem, and any problem stops the count (`BoxTampered`): a ballot that does not open is never
quietly counted invalid. A ballot that opens but that the rules cannot read (a hostile kiosk's
write-in with a control character) is counted invalid by the rules, as any unreadable ballot.

Pure: no database, no Flask, no clock.
"""
from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any

from keys.envelope import open_envelope, verify_envelope
from keys.errors import BadEnvelope
from keys.sealing import RoundKey
from tally.box.checking import N_, BoxTampered, Placed, Problem
from tally.rules import Attendance, BallotInputError, Plan, new_counter, parse_ballot


@dataclass(frozen=True)
class OpenContext:
    """What every envelope of one box is checked and opened with."""

    meeting: str
    round_id: str
    tally_public: bytes
    kiosks: Mapping[str, bytes]
    key: RoundKey


@dataclass(frozen=True)
class Opened:
    position: int
    ballot: dict[str, Any] | None
    problems: tuple[Problem, ...] = ()


def open_one(ctx: OpenContext, item: Placed) -> Opened:
    """Check one placed envelope's kiosk and both signatures, and open it."""
    header, where = item.header, {"position": item.position, "code": item.code}
    problems: list[Problem] = []
    kiosk = ctx.kiosks.get(header.kiosk_id)
    if kiosk is None:
        problems.append((N_("Envelope %(position)s (receipt %(code)s) names kiosk %(kiosk)s, which is not paired "
                            "with this tally."), {**where, "kiosk": header.kiosk_id}))
    else:
        try:
            verify_envelope(header, kiosk)
        except BadEnvelope:
            problems.append((N_("Envelope %(position)s (receipt %(code)s, kiosk %(kiosk)s): the kiosk's or the "
                                "card's signature does not verify."), {**where, "kiosk": header.kiosk_id}))
    if problems:
        return Opened(item.position, None, tuple(problems))
    try:
        ballot = open_envelope(header, ctx.key)
    except BadEnvelope:
        return Opened(item.position, None, ((N_(
            "Envelope %(position)s (receipt %(code)s, kiosk %(kiosk)s) does not open with the round's key: it was "
            "sealed to another key or altered."), {**where, "kiosk": header.kiosk_id}),))
    return Opened(item.position, ballot)


Mapper = Callable[[Callable[[Placed], Opened], Sequence[Placed]], Iterable[Opened]]


def _in_order(fn: Callable[[Placed], Opened], items: Sequence[Placed]) -> Iterator[Opened]:
    return map(fn, items)


def open_box(ctx: OpenContext, placed: Sequence[Placed], found: Sequence[Problem] = (),
             mapper: Mapper = _in_order) -> list[dict[str, Any]]:
    """Every placed envelope opened, in chain order. `BoxTampered` naming each that fails, with the
    problems the box check `found` before (so one refusal says everything wrong)."""
    opened = list(mapper(partial(open_one, ctx), placed))
    problems = [*found, *(p for o in opened for p in o.problems)]
    if problems:
        raise BoxTampered(ctx.round_id, problems)
    return [o.ballot for o in opened if o.ballot is not None]


def readable(plan: Plan, round_id: str, ballot: dict[str, Any]) -> dict[str, Any]:
    """The ballot as the rules count it: one they cannot read is an invalid ballot of the round."""
    try:
        parse_ballot(plan, ballot)
    except BallotInputError:
        return {"round": round_id, "invalid": True}
    return ballot


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
