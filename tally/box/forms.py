"""The ballot forms a kiosk shows: the open rounds, in the meeting file's own words, with keys.

Only what a voter's screen needs: names, seats, grades, the round's public sealing key. No
counts, no attendance. Built from the parsed plan, so every default (grades, seats) is the
plan's own.
"""
from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from keys.canonical import b64e
from tally.rules import DecideRound, EvaluateRound, Plan, RecommendRound
from tally.store.models import Round


def round_form(plan: Plan, rnd: Round) -> dict[str, Any]:
    """The form of one ballot round (recommend, evaluate or decide)."""
    form: dict[str, Any] = {"id": rnd.id, "kind": rnd.kind, "title": rnd.title, "public_key": b64e(rnd.public_key)}
    rp = plan.round(rnd.id)
    if isinstance(rp, RecommendRound):
        form["posts"] = [{"id": p.id, "title": p.title or p.id, "seats": p.seats,
                          "candidates": list(p.candidates), "write_in": p.write_in} for p in rp.posts]
    elif isinstance(rp, EvaluateRound):
        form["subjects"] = list(rp.subjects)
        form["grades"] = list(rp.grades)
        form["directions"] = list(rp.directions)
        form["quota"] = dict(rp.quota)
    elif isinstance(rp, DecideRound):
        form["nominees"] = list(rp.nominees)
        form["seats"] = rp.seats
    return form


def ballot_forms(plan: Plan, rounds: Iterable[Round]) -> list[dict[str, Any]]:
    """The forms of the ballot rounds among `rounds` (voters' rounds only; judges follow `/judging`)."""
    return [round_form(plan, r) for r in rounds if r.round_kind.takes_cards]
