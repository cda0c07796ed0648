"""Writing a plan back as a meeting-file mapping (the live tally's `meeting.yaml` export).

`dump_plan(plan, attendance)` is the inverse of `parse_plan`: plain str/int/bool/list/dict
values, decimals as strings so no float ever appears, and the live 应到/实到/发出 filled in,
so that `tally count` over the export reproduces the live results. No I/O.
"""
from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from tally.rules.kinds import Channel
from tally.rules.model import (
    DEFAULT_GRADES,
    Attendance,
    BallotRound,
    CompositeRound,
    DecideRound,
    EvaluateRound,
    Plan,
    Publicity,
    RecommendRound,
    RoundPlan,
    ScoreRound,
    ShortlistRound,
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


def _ballot(out: dict[str, Any], rnd: BallotRound) -> None:
    """electorate (one group as a string, several as a list), channel, postal, repeats."""
    if rnd.electorate is not None:
        out["electorate"] = rnd.electorate[0] if len(rnd.electorate) == 1 else list(rnd.electorate)
    if rnd.channel is not Channel.KIOSK:
        out["channel"] = rnd.channel.value
    if getattr(rnd, "postal", False):
        out["postal"] = True
    if rnd.repeats is not None:
        out.update(repeats=rnd.repeats, repeat_reason=rnd.repeat_reason)


def _round(rnd: RoundPlan, given: Attendance | None) -> dict[str, Any]:
    out: dict[str, Any] = {"id": rnd.id, "kind": rnd.kind.value}
    _put(out, title=rnd.title)
    if isinstance(rnd, RecommendRound):
        _attendance(out, rnd, given)
        _ballot(out, rnd)
        _put(out, denominator=rnd.denominator, overvote=rnd.overvote, beside=rnd.beside,
             valid_months=rnd.valid_months)
        posts = []
        for p in rnd.posts:
            post: dict[str, Any] = {"id": p.id}
            _put(post, title=p.title)
            post.update(seats=p.seats, candidates=list(p.candidates), write_in=p.write_in)
            if p.competitive:
                post["competitive"] = True
            if p.threshold is None:
                post["threshold"] = "none"
            _threshold(post, "threshold", p.threshold)
            if p.advisory:
                post["advisory"] = True
            _put(post, top=p.top)
            posts.append(post)
        out["posts"] = posts
    elif isinstance(rnd, EvaluateRound):
        _attendance(out, rnd, given)
        _ballot(out, rnd)
        out["subjects"] = list(rnd.subjects)
        if rnd.items is not None:
            out.update(items=dict(rnd.items), item_step=text(rnd.item_step))
        elif rnd.grades != DEFAULT_GRADES:
            out["grades"] = list(rnd.grades)
        if rnd.directions:
            out["directions"] = list(rnd.directions)
        if rnd.grade_values is not None:
            out["grade_values"] = [_number(v) for v in rnd.grade_values]
        if rnd.quota:
            out["quota"] = dict(rnd.quota)
        _threshold(out, "threshold", rnd.threshold)
        if rnd.advisory:
            out["advisory"] = True
        _threshold(out, "adjust", rnd.adjust)
        out["rounding"] = rnd.rounding
    elif isinstance(rnd, DecideRound):
        _attendance(out, rnd, given)
        _ballot(out, rnd)
        _put(out, seats=rnd.seats)
        out["nominees"] = list(rnd.nominees)
        _threshold(out, "threshold", rnd.threshold)
        _threshold(out, "defer_rule", rnd.defer_rule)
        _put(out, post=rnd.post)
        if rnd.posts:
            out["posts"] = dict(rnd.posts)
    elif isinstance(rnd, ScoreRound):
        out.update(judges=rnd.judges, trim=rnd.trim, min=_number(rnd.min), max=_number(rnd.max),
                   step=text(rnd.step), decimals=rnd.decimals, rounding=rnd.rounding,
                   contestants=list(rnd.contestants))
        if rnd.tie_break:
            out["tie_break"] = list(rnd.tie_break)
        _put(out, shortlist=rnd.shortlist)
        if rnd.flag_distance is not None:
            out["flag_distance"] = text(rnd.flag_distance)
        if rnd.panel is not None:
            out["panel"] = {"quota": dict(rnd.panel.quota)}
            if rnd.panel.advisory:
                out["panel"]["advisory"] = True
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
    elif isinstance(rnd, ShortlistRound):
        _shortlist(out, rnd, {})
    return out


def _shortlist(out: dict[str, Any], rnd: ShortlistRound, live: Mapping[str, Mapping[str, str]]) -> None:
    if rnd.listed:
        out["candidates"] = list(rnd.candidates)
    conditions = []
    for c in rnd.conditions:
        cond: dict[str, Any] = {"round": c.round}
        _put(cond, post=c.post)
        cond["measure"] = c.measure
        _threshold(cond, "threshold", c.threshold)
        if c.advisory:
            cond["advisory"] = True
        conditions.append(cond)
    if conditions:
        out["conditions"] = conditions
    order = []
    for o in rnd.order:
        entry: dict[str, Any] = {}
        _put(entry, round=o.round, post=o.post, by=o.by, key=o.key)
        if o.lower_first:
            entry["lower_first"] = True
        order.append(entry)
    out["order"] = order
    if rnd.keys:
        keys: dict[str, Any] = {}
        for k in rnd.keys:
            values = {**dict(k.values), **{p: v for p, v in live.get(k.name, {}).items() if p not in dict(k.values)}}
            key: dict[str, Any] = {}
            if k.scale is not None:
                key["scale"] = list(k.scale)
            key["values"] = values
            keys[k.name] = key
        out["keys"] = keys
    out.update(seats=rnd.seats, ratio=rnd.ratio)


def _publicity(p: Publicity) -> dict[str, Any]:
    out: dict[str, Any] = {}
    _put(out, working_days=p.working_days, days=p.days)
    out.update(issuer=p.issuer, contact=p.contact, title=p.title)
    if p.details:
        out["details"] = dict(p.details)
    return out


def dump_plan(plan: Plan, attendance: Mapping[str, Attendance] | None = None,
              live_keys: Mapping[str, Mapping[str, Mapping[str, str]]] | None = None) -> dict[str, Any]:
    """The meeting-file mapping of `plan`, with live attendance (round id → Attendance) filled in,
    and the values the chair typed in live for a short list's keys (round id → key → person → value)."""
    attendance = attendance or {}
    out: dict[str, Any] = {"meeting": {"title": plan.title}}
    if plan.presets:
        out["presets"] = dict(plan.presets)
    if plan.publicity is not None:
        out["publicity"] = _publicity(plan.publicity)
    rounds = []
    for r in plan.rounds:
        dumped = _round(r, attendance.get(r.id))
        if isinstance(r, ShortlistRound) and live_keys and r.id in live_keys:
            _shortlist(dumped, r, live_keys[r.id])
        rounds.append(dumped)
    out["rounds"] = rounds
    return out
