"""Counting a whole meeting: routing ballots to their rounds and assembling the contract document.

`parse_ballot` checks one ballot against the plan; `new_counter` makes a round's counter;
`count_meeting` streams (line number, ballot) pairs through both and returns the document that
`tally count --json` prints. Composite rounds are computed last, from the other rounds'
results. Pure: the caller reads the file.
"""
from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable, Mapping
from itertools import islice
from typing import Any, NamedTuple, Protocol

from tally.rules.composite import CompositeCounter
from tally.rules.decide import DecideCounter, DecideForm
from tally.rules.errors import BallotInputError
from tally.rules.evaluate import EvaluateCounter, EvaluateForm
from tally.rules.kinds import RoundKind
from tally.rules.model import Attendance, CompositeRound, Plan, RoundPlan, ShortlistRound
from tally.rules.recommend import RecommendCounter, RecommendForm
from tally.rules.score import ScoreCounter, ScoreForm
from tally.rules.shortlist import ShortlistCounter
from tally.rules.tallying import BATCH

_END = object()


class Ballot(NamedTuple):
    """One checked ballot: its round and its marks (kind-specific, immutable, hashable)."""

    round: str
    marks: Hashable


class Form(Protocol):
    def parse(self, obj: Mapping[str, Any]) -> Any: ...


class RoundCounter(Protocol):
    """What every round counter offers (the live tally and `tally count` use only this)."""

    def add(self, ballot: Ballot) -> None: ...

    def add_marks(self, marks: Any) -> None: ...

    def fold(self) -> None: ...

    def result(self, attendance: Attendance | None = None,
               resolved: Mapping[str, dict[str, Any]] | None = None) -> dict[str, Any]: ...


_FORMS: dict[RoundKind, Callable[[Any], Form]] = {
    RoundKind.RECOMMEND: RecommendForm, RoundKind.EVALUATE: EvaluateForm, RoundKind.DECIDE: DecideForm,
    RoundKind.SCORE: ScoreForm,
}
_COUNTERS: dict[RoundKind, Callable[[Any], RoundCounter]] = {
    RoundKind.RECOMMEND: RecommendCounter, RoundKind.EVALUATE: EvaluateCounter, RoundKind.DECIDE: DecideCounter,
    RoundKind.SCORE: ScoreCounter, RoundKind.COMPOSITE: CompositeCounter, RoundKind.SHORTLIST: ShortlistCounter,
}


def new_counter(round_plan: RoundPlan) -> RoundCounter:
    """A fresh counter for one round of the plan."""
    return _COUNTERS[round_plan.kind](round_plan)


def _round_id(obj: object) -> str:
    if type(obj) is not dict:
        raise BallotInputError("a ballot must be a JSON object")
    round_id = obj.get("round")
    if type(round_id) is not str:
        raise BallotInputError('a ballot needs "round": the id of its round')
    return round_id


def _form(plan: Plan, round_id: str) -> Form:
    if round_id not in plan:
        raise BallotInputError(f'round "{round_id}" is not in the meeting file')
    rnd = plan.round(round_id)
    if not rnd.kind.takes_ballots:
        raise BallotInputError(f'round "{round_id}" is a {rnd.kind} round: it takes no ballots')
    return _FORMS[rnd.kind](rnd)


def parse_ballot(plan: Plan, obj: dict[str, Any]) -> Ballot:
    """Check one ballot (a parsed JSON line) against the plan; BallotInputError if it is not one."""
    round_id = _round_id(obj)
    return Ballot(round_id, _form(plan, round_id).parse(obj))


class MeetingCount:
    """A meeting being counted: feed it (line number, ballot) pairs, then read `document()`.

    Feeding may stop at a bad line and go on with the rest (the CLI skips blank lines so).
    """

    def __init__(self, plan: Plan) -> None:
        self.plan = plan
        self.counters = {r.id: new_counter(r) for r in plan.rounds}
        # Bound methods per round, looked up once: the feed loop runs once per ballot line.
        self._route: dict[str, tuple[Callable[[Any], Any], Callable[[Any], None]]] = {}

    def feed(self, ballots: Iterable[tuple[int, Any]]) -> None:
        """Count these ballots; BallotInputError names the line of the first bad one."""
        route = self._route
        source = iter(ballots)
        line = 0
        try:
            while True:
                obj: Any = _END
                # In batches, so that the counters fold their pending marks every BATCH ballots.
                for line, obj in islice(source, BATCH):  # noqa: B007 (`line` names a bad ballot below)
                    try:
                        parse, add = route[obj["round"]]
                    except (KeyError, TypeError):
                        parse, add = self._open(obj)
                    add(parse(obj))
                for counter in self.counters.values():
                    counter.fold()
                if obj is _END:
                    return
        except BallotInputError as exc:
            raise exc.at(line) from None

    def _open(self, obj: object) -> tuple[Callable[[Any], Any], Callable[[Any], None]]:
        round_id = _round_id(obj)
        form = _form(self.plan, round_id)
        self._route[round_id] = (form.parse, self.counters[round_id].add_marks)
        return self._route[round_id]

    def check(self, attendance: Mapping[str, Attendance] | None = None) -> None:
        """Raise now (MissingAttendance...) what `document()` would raise, before any ballot is read."""
        results(self.plan, {r.id: new_counter(r) for r in self.plan.rounds}, attendance)

    def document(self, attendance: Mapping[str, Attendance] | None = None) -> dict[str, Any]:
        """The whole contract document of what was fed so far."""
        return {"meeting": {"title": self.plan.title}, "rounds": results(self.plan, self.counters, attendance)}


def count_meeting(plan: Plan, ballots: Iterable[tuple[int, Any]],
                  attendance: Mapping[str, Attendance] | None = None) -> dict[str, Any]:
    """Count every ballot and return the whole contract document.

    `ballots` are (line number, parsed JSON) pairs; an input error is raised naming its line.
    """
    meeting = MeetingCount(plan)
    meeting.feed(ballots)
    return meeting.document(attendance)


def resolve_sources(plan: Plan, done: Mapping[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """The results a computed round draws on, by the ids it names: a round repeated because it was
    void or closed by mistake stands for its latest repeat (`Plan.superseding`); others for themselves."""
    out: dict[str, dict[str, Any]] = {}
    for round_id in done:
        standing = plan.superseding(round_id) if round_id in plan else round_id
        if standing in done:
            out[round_id] = done[standing]
    return out


def results(plan: Plan, counters: Mapping[str, RoundCounter],
            attendance: Mapping[str, Attendance] | None = None) -> list[dict[str, Any]]:
    """Every round's result in plan order: ballot and score rounds first, then composites, then
    short lists (which may draw on composites), each in file order."""
    attendance = attendance or {}
    done: dict[str, dict[str, Any]] = {}
    for rnd in plan.rounds:
        if not rnd.kind.computed:
            done[rnd.id] = counters[rnd.id].result(attendance.get(rnd.id), None)
    for computed in (CompositeRound, ShortlistRound):
        for rnd in plan.rounds:
            if isinstance(rnd, computed):
                done[rnd.id] = counters[rnd.id].result(None, resolve_sources(plan, done))
    return [done[r.id] for r in plan.rounds]
