"""Standings (排名): the ranking of the contestants shown so far, and what each screen may see of a score round.

The projector never gets a score value before 亮分; the console also sees which seats are far
from the panel's median (flags), never their values.
"""
from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from tally.judging.panel import score_plan
from tally.judging.scoring import active_scores, flag_distance, flags, order_of, progress_row
from tally.rules import rank_contestants, trimmed_result
from tally.setup.meeting import MeetingInfo
from tally.store.models import ContestantResult


def ranking(s: Session, info: MeetingInfo, round_id: str) -> list[dict[str, Any]]:
    plan = score_plan(info, round_id)
    revealed = {r.contestant: json.loads(r.result_json)
                for r in s.scalars(select(ContestantResult).where(ContestantResult.round_id == round_id))}
    results = {}
    for name, r in revealed.items():
        scores = {x["seat"]: Decimal(x["score"]) for x in r["scores"]}
        results[name] = trimmed_result(scores, plan.trim, plan.rounding, plan.decimals, Decimal(plan.step))
    ranks = rank_contestants(results, plan.tie_break) if results else {}
    # 入围 is marked once every contestant has been shown: before that the cut is not known.
    cut = plan.shortlist if len(revealed) == len(plan.contestants) else None
    rows = [{"name": n, "mean": revealed[n]["mean"], "rank": ranks.get(n), "count": revealed[n].get("count"),
             "shortlisted": cut is not None and n in ranks and ranks[n] <= cut} for n in revealed]
    return sorted(rows, key=lambda r: (r["rank"] is None, r["rank"] or 0, plan.contestants.index(r["name"])))


def state(s: Session, info: MeetingInfo, round_id: str, *, console: bool) -> dict[str, Any]:
    """What screens show of a score round. The projector never gets a value before reveal."""
    plan = score_plan(info, round_id)
    prog = progress_row(s, round_id)
    out: dict[str, Any] = {"judges": plan.judges, "trim": plan.trim, "shortlist": plan.shortlist,
                           "phase": prog.phase, "current": prog.current,
                           "order": order_of(prog, plan), "ranking": ranking(s, info, round_id)}
    if prog.current is not None:
        scores = active_scores(s, round_id, prog.current)
        out["scored"] = len(scores)
        out["scored_seats"] = sorted(scores)
        if prog.phase == "revealed":
            r = s.get(ContestantResult, (round_id, prog.current))
            out["result"] = json.loads(r.result_json) if r else None
        elif console:
            # The chair sees which seats are far from the median, never the values before 亮分.
            out["flags"] = flags(scores, flag_distance(info, round_id))
    return out
