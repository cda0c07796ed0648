"""Writing a plan back as a meeting-file mapping (the live tally's `meeting.yaml` export).

`dump_plan(plan, attendance)` is the inverse of `parse_plan`: plain str/int/bool/list/dict
values, decimals as strings so no float ever appears, and the live 应到/实到/发出 filled in,
so that `tally count` over the export reproduces the live results. No I/O.
"""
from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from tally.rules.model import (
    DEFAULT_GRADES,
    Attendance,
    CompositeRound,
    DecideRound,
    EvaluateRound,
    Plan,
    RecommendRound,
    RoundPlan,
    ScoreRound,
)
from tally.rules.rounding import text
from tally.rules.threshold import Threshold


def _number(value: Decimal) -> int | str:
    """Whole numbers as ints (as people write weights), anything else as its exact decimal string."""
    return int(value) if value.as_tuple().exponent == 0 else format(value, "f")


def _threshold(out: dict[str, Any], key: str, threshold: Threshold | None) -> None:
    if threshold is not None:
        out[key] = threshold.preset or threshold.text


def _put(out: dict[str, Any], **fields: Any) -> None:
    for key, value in fields.items():
        if value is not None:
            out[key] = value


def _attendance(out: dict[str, Any], rnd: RecommendRound | EvaluateRound | DecideRound,
                given: Attendance | None) -> None:
    expected, present, issued = rnd.expected, rnd.present, rnd.issued
    if given is not None:
        expected = given.expected if given.expected is not None else expected
        if given.present is not None:
            present, issued = given.present, given.issued
        elif given.issued is not None:
            issued = given.issued
    _put(out, expected=expected, present=present, issued=issued)


def _round(rnd: RoundPlan, given: Attendance | None) -> dict[str, Any]:
    out: dict[str, Any] = {"id": rnd.id, "kind": rnd.kind.value}
    _put(out, title=rnd.title)
    if isinstance(rnd, RecommendRound):
        _attendance(out, rnd, given)
        _put(out, electorate=rnd.electorate, denominator=rnd.denominator, overvote=rnd.overvote)
        posts = []
        for p in rnd.posts:
            post: dict[str, Any] = {"id": p.id}
            _put(post, title=p.title)
            post.update(seats=p.seats, candidates=list(p.candidates), write_in=p.write_in)
            if p.competitive:
                post["competitive"] = True
            _threshold(post, "threshold", p.threshold)
            posts.append(post)
        out["posts"] = posts
    elif isinstance(rnd, EvaluateRound):
        _attendance(out, rnd, given)
        _put(out, electorate=rnd.electorate)
        out["subjects"] = list(rnd.subjects)
        if rnd.grades != DEFAULT_GRADES:
            out["grades"] = list(rnd.grades)
        if rnd.directions:
            out["directions"] = list(rnd.directions)
        if rnd.grade_values is not None:
            out["grade_values"] = [_number(v) for v in rnd.grade_values]
        if rnd.quota:
            out["quota"] = dict(rnd.quota)
        _threshold(out, "threshold", rnd.threshold)
        _threshold(out, "adjust", rnd.adjust)
        out["rounding"] = rnd.rounding
    elif isinstance(rnd, DecideRound):
        _attendance(out, rnd, given)
        _put(out, electorate=rnd.electorate, seats=rnd.seats)
        out["nominees"] = list(rnd.nominees)
        _threshold(out, "threshold", rnd.threshold)
        _threshold(out, "defer_rule", rnd.defer_rule)
    elif isinstance(rnd, ScoreRound):
        out.update(judges=rnd.judges, trim=rnd.trim, min=_number(rnd.min), max=_number(rnd.max),
                   step=text(rnd.step), decimals=rnd.decimals, rounding=rnd.rounding,
                   contestants=list(rnd.contestants))
        if rnd.tie_break:
            out["tie_break"] = list(rnd.tie_break)
        _put(out, shortlist=rnd.shortlist)
        if rnd.flag_distance is not None:
            out["flag_distance"] = text(rnd.flag_distance)
    elif isinstance(rnd, CompositeRound):
        components = []
        for c in rnd.components:
            comp: dict[str, Any] = {"name": c.name, "weight": _number(c.weight)}
            if c.scores is not None:
                comp["scores"] = {name: text(value) for name, value in c.scores}
            _put(comp, round=c.round, post=c.post)
            components.append(comp)
        out["components"] = components
        _put(out, shortlist=rnd.shortlist)
        if rnd.tie_break:
            out["tie_break"] = list(rnd.tie_break)
        out["rounding"] = rnd.rounding
    return out


def dump_plan(plan: Plan, attendance: Mapping[str, Attendance] | None = None) -> dict[str, Any]:
    """The meeting-file mapping of `plan`, with live attendance (round id → Attendance) filled in."""
    attendance = attendance or {}
    out: dict[str, Any] = {"meeting": {"title": plan.title}}
    if plan.presets:
        out["presets"] = dict(plan.presets)
    out["rounds"] = [_round(r, attendance.get(r.id)) for r in plan.rounds]
    return out
