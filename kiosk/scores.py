"""Judge scoring as a kiosk sees it (评分): the open score rounds, and a typed score checked against the plan.

`parse_judging(doc, tally_public)` turns the tally's `GET /api/v1/judging` document into frozen
values: each open score round's sealing key, its range and step and its ballot size (all read
from the tally's signed form, verified under the key pinned at pairing), the contestant the chair
has open and the seats that have scored (never a score value; these change from moment to moment
and travel beside the signed form). `score_line(rnd, label, contestant, text)` checks
what a judge typed on the pad (a number, in range, on the step, with no more decimals than the
step has) and returns the CONTRACT.md score line with the score as a decimal string; every
refusal is a `kiosk.ballots.SelectionError` with a stable code and an English msgid.

Pure: no network, no files, no Flask, no clock. Decimal throughout, never float.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from kiosk.ballots import N_, SelectionError
from kiosk.forms import FormError, RoundForm, meeting_and_rounds, names_of, round_key

PHASES = ("idle", "scoring", "revealed")
# What a pad can produce: digits and at most one decimal point (a sign only for a plan below 0).
_NUMBER = re.compile(r"-?[0-9]{1,6}(\.[0-9]{1,6})?")


def _decimal(value: Any, what: str) -> Decimal:
    try:
        d = Decimal(value) if isinstance(value, str) else None
    except InvalidOperation:
        d = None
    if d is None or not d.is_finite():
        raise FormError(f"{what} must be a decimal string")
    return d


def decimals_of(step: Decimal) -> int:
    """How many decimals a score may have: as many as the step is written with (0.5 → 1)."""
    exponent = step.as_tuple().exponent
    return max(0, -int(exponent))


@dataclass(frozen=True)
class ScoreRound:
    """One open score round: its plan, and where the contest stands."""

    id: str
    title: str
    public_key: bytes
    ballot_size: int
    judges: int
    contestants: tuple[str, ...]
    min: Decimal
    max: Decimal
    step: Decimal
    current: str | None
    phase: str
    scored_seats: frozenset[int]

    @property
    def decimals(self) -> int:
        return decimals_of(self.step)

    @property
    def scoring(self) -> bool:
        return self.phase == "scoring" and self.current is not None

    def form(self) -> RoundForm:
        """The round as `kiosk.casting.cast` seals to it."""
        return RoundForm(id=self.id, kind="score", title=self.title, public_key=self.public_key,
                         ballot_size=self.ballot_size)

    def plan(self) -> dict[str, Any]:
        """What the pad shows and checks (strings, as the meeting file wrote them)."""
        return {"id": self.id, "title": self.title, "min": str(self.min), "max": str(self.max),
                "step": str(self.step), "decimals": self.decimals}


@dataclass(frozen=True)
class JudgingState:
    meeting_id: str
    rounds: tuple[ScoreRound, ...]

    def round(self, round_id: str) -> ScoreRound | None:
        return next((r for r in self.rounds if r.id == round_id), None)


def _round(doc: dict[str, Any], live: Any) -> ScoreRound:
    """A score round from its signed form (`doc`) and the live state beside it (`live`)."""
    rid, public_key, size = round_key(doc, "a score round")
    if doc.get("kind") != "score":
        raise FormError(f"round {rid}: not a score round")
    judges = doc.get("judges")
    if isinstance(judges, bool) or not isinstance(judges, int) or judges < 1:
        raise FormError(f"round {rid}: judges must be a positive integer")
    lo, hi, step = (_decimal(doc.get(k), f"round {rid}: {k}") for k in ("min", "max", "step"))
    if step <= 0 or lo >= hi:
        raise FormError(f"round {rid}: the range or the step is not usable")
    phase = live.get("phase")
    if phase not in PHASES:
        raise FormError(f"round {rid}: unknown phase")
    contestants = names_of(doc.get("contestants"), f"round {rid}: contestants")
    current = live.get("current")
    if current is not None and (not isinstance(current, str) or current not in contestants):
        # Beside the signature, so it must at least be one of the contestants the tally signed.
        raise FormError(f"round {rid}: current must be one of the round's contestants or null")
    seats = live.get("scored_seats") or []
    if not isinstance(seats, list) or not all(isinstance(n, int) and not isinstance(n, bool) for n in seats):
        raise FormError(f"round {rid}: scored_seats must list seat numbers")
    title = doc.get("title")
    return ScoreRound(id=rid, title=title if isinstance(title, str) and title else rid, public_key=public_key,
                      ballot_size=size, judges=judges, contestants=contestants, min=lo, max=hi, step=step,
                      current=current, phase=str(phase), scored_seats=frozenset(seats))


def parse_judging(doc: Any, tally_public: bytes) -> JudgingState:
    """The judging state from `GET /api/v1/judging`, each round's form verified under
    `tally_public`; raises `UnsignedForm` or `FormError` if it is not usable."""
    meeting, rounds = meeting_and_rounds(doc, "judging", _round, tally_public)
    return JudgingState(meeting_id=meeting, rounds=rounds)


def check_score(rnd: ScoreRound, text: Any) -> str:
    """The typed score as the decimal string that travels, or `SelectionError`."""
    if text is None or (isinstance(text, str) and not text.strip()):
        raise SelectionError("bad_score", N_("Type a score first."))
    if not isinstance(text, str):  # a JSON number would be a float: scores travel as strings
        raise SelectionError("bad_score", N_("The score must be a number."))
    text = text.strip()
    if not _NUMBER.fullmatch(text):
        raise SelectionError("bad_score", N_("The score must be a number."))
    value = Decimal(text)
    if value < rnd.min or value > rnd.max:
        raise SelectionError("score_out_of_range", N_("The score must be between %(min)s and %(max)s."),
                             min=str(rnd.min), max=str(rnd.max))
    if decimals_of(value) > rnd.decimals:
        if rnd.decimals == 0:
            raise SelectionError("too_many_decimals", N_("The score must be a whole number."))
        raise SelectionError("too_many_decimals", N_("At most %(n)s decimal places."), n=rnd.decimals)
    if (value - rnd.min) % rnd.step != 0:
        raise SelectionError("score_off_step", N_("The score must be a multiple of %(step)s."), step=str(rnd.step))
    # "088.5" and "88.5" are one score: send it without leading zeros, as typed otherwise.
    return format(value, "f") if value != 0 else format(abs(value), "f")


def score_line(rnd: ScoreRound, label: str, contestant: str, text: Any) -> dict[str, Any]:
    """The CONTRACT.md score line for this seat's score of this contestant."""
    return {"round": rnd.id, "judge": label, "contestant": contestant, "score": check_score(rnd, text)}
