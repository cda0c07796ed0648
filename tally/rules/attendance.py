"""应到/实到/发出 of a round, settled from the plan and the caller, and the two gates on them.

Quorum (RULES §1): 实到 ≥ 2/3 of 应到, as `3*present >= 2*expected`. A round whose ballots
returned exceed those issued is void. Pure.
"""
from __future__ import annotations

from typing import Any, NamedTuple

from tally.rules.errors import MissingAttendance
from tally.rules.kinds import Channel
from tally.rules.model import Attendance


class Settled(NamedTuple):
    expected: int | None
    present: int | None
    issued: int | None


def settle(round_id: str, expected: int | None, present: int | None, issued: int | None,
           attendance: Attendance | None) -> Settled:
    """The caller's numbers (live check-in) win over the plan's; 发出 defaults to 实到."""
    given = attendance or Attendance()
    if given.expected is not None:
        expected = given.expected
    if given.present is not None:
        # A live 实到 makes the plan's 发出 stale: only the caller's own 发出 can replace it.
        present, issued = given.present, given.issued
    elif given.issued is not None:
        issued = given.issued
    if issued is None:
        issued = present
    for name, value in (("expected", expected), ("present", present), ("issued", issued)):
        if value is not None and value < 0:
            raise MissingAttendance(f'round "{round_id}": {name} cannot be negative')
    return Settled(expected, present, issued)


def require(round_id: str, settled: Settled) -> tuple[int, int, int]:
    """Rounds with a quorum cannot be counted without 应到 and 实到."""
    if settled.expected is None or settled.present is None or settled.issued is None:
        raise MissingAttendance(
            f'round "{round_id}" needs expected (应到) and present (实到) to be counted'
        )
    return settled.expected, settled.present, settled.issued


def quorum_met(expected: int, present: int) -> bool:
    return 3 * present >= 2 * expected


def is_void(returned: int, issued: int | None) -> bool:
    return issued is not None and returned > issued


class Head(NamedTuple):
    """What a quorum round's result opens with: the document so far and the figures it used."""

    doc: dict[str, Any]
    expected: int
    present: int
    issued: int
    quorum: bool
    void: bool


def open_doc(rnd: Any) -> dict[str, Any]:
    """The first fields of a ballot round's result: id, kind, title, and where they apply its channel
    (when not the kiosks) and the round it repeats (重新投票) with the reason and the attempt."""
    doc: dict[str, Any] = {"id": rnd.id, "kind": rnd.kind.value}
    if rnd.title:
        doc["title"] = rnd.title
    if rnd.channel is not Channel.KIOSK:
        doc["channel"] = rnd.channel.value
    if rnd.repeats is not None:
        doc.update(repeats=rnd.repeats, repeat_reason=rnd.repeat_reason, attempt=rnd.attempt)
    return doc


def quorum_round_head(rnd: Any, returned: int, attendance: Attendance | None) -> Head:
    """The shared start of a recommend or decide result: attendance, quorum, void, status.

    A round without a quorum (个别谈话推荐) needs no 应到, and its 实到 is, unless given, the
    number of records (each one a person talked to); it reports no `quorum_met`."""
    doc = open_doc(rnd)
    settled = settle(rnd.id, rnd.expected, rnd.present, rnd.issued, attendance)
    if not rnd.conduct.has_quorum:
        present = returned if settled.present is None else settled.present
        issued = present if settled.present is None or settled.issued is None else settled.issued
        void = is_void(returned, issued)
        doc["status"] = "void" if void else "counted"
        if settled.expected is not None:
            doc["expected"] = settled.expected
        doc.update(present=present, issued=issued, returned=returned)
        return Head(doc, settled.expected or 0, present, issued, True, void)
    expected, present, issued = require(rnd.id, settled)
    quorum = quorum_met(expected, present)
    void = is_void(returned, issued)
    doc.update(status="void" if void else "counted" if quorum else "no_quorum",
               expected=expected, present=present, issued=issued, returned=returned)
    return Head(doc, expected, present, issued, quorum, void)
