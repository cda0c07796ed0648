"""Scoring one contestant at a time (评分 · 演讲答辩 · 面试): the speaking order, scores, corrections, 亮分.

- The chair opens one contestant at a time; judges' envelopes are opened as they arrive (judge
  scores are open data) and stored as versions: a correction voids one seat's score, with a
  reason, and the judge enters it again. Both versions stay.
- When every seat has scored and no score is flagged, or when the chair reveals with at least
  2k+1 scores, the rules engine (`tally.rules.trimmed_result`, the same as `tally count`)
  computes the result; it is frozen and shown (亮分). A revealed score never changes.
- Which seat's score is struck is the rules engine's answer (`trimmed_result` by seat): scores
  ordered by value then seat, the first k struck low, the last k struck high. The mean does not
  depend on it.
"""
from __future__ import annotations

import json
import random
import secrets
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from tally.errors import ApiError
from tally.judging.panel import parse_seat_label, score_plan, seat_label
from tally.rules import ScoreRound, ScoreValueError, score_value, trimmed_result
from tally.setup.meeting import MeetingInfo
from tally.store import audit
from tally.store.models import ContestantResult, JudgeSeat, Round, Score, ScoringProgress


def flag_distance(info: MeetingInfo, round_id: str) -> Decimal:
    """How far from the panel's median a score is flagged for the chair (default: a tenth of the range)."""
    plan = score_plan(info, round_id)
    return plan.flag_distance if plan.flag_distance is not None else (plan.max - plan.min) / 10


def progress_row(s: Session, round_id: str, *, lock: bool = False) -> ScoringProgress:
    row = s.get(ScoringProgress, round_id, with_for_update=lock)
    if row is None:
        row = ScoringProgress(round_id=round_id, order_json="[]", current=None, phase="idle")
        s.add(row)
        s.flush()
    return row


def set_order(s: Session, info: MeetingInfo, round_id: str, order: list[str] | None, seed: str | None = None) -> list[str]:
    plan = score_plan(info, round_id)
    prog = progress_row(s, round_id, lock=True)
    if prog.phase == "scoring" or s.scalars(select(ContestantResult).where(ContestantResult.round_id == round_id)).first():
        raise ApiError(409, "scoring_started", "Scoring has started; the speaking order can no longer change.")
    if order is None:
        seed = seed or secrets.token_hex(8)
        order = list(plan.contestants)
        random.Random(seed).shuffle(order)
    if sorted(order) != sorted(plan.contestants):
        raise ApiError(400, "bad_order", "The speaking order must list every contestant exactly once.")
    prog.order_json = json.dumps(order, ensure_ascii=False)
    audit.record(s, "chair", "speaking_order", round=round_id, order=order, seed=seed)
    return order


def order_of(prog: ScoringProgress, plan: ScoreRound) -> list[str]:
    return json.loads(prog.order_json) or list(plan.contestants)


def open_contestant(s: Session, info: MeetingInfo, round_id: str, contestant: str | None = None) -> str:
    plan = score_plan(info, round_id)
    rnd = s.get(Round, round_id, with_for_update=True)
    if rnd is None or rnd.status != "open":
        raise ApiError(409, "round_not_open", "This round is not open.")
    prog = progress_row(s, round_id, lock=True)
    if prog.phase == "scoring":
        raise ApiError(409, "scoring_in_progress", "Reveal the current contestant's result first.")
    done = set(s.scalars(select(ContestantResult.contestant).where(ContestantResult.round_id == round_id)))
    if contestant is None:
        remaining = [c for c in order_of(prog, plan) if c not in done]
        if not remaining:
            raise ApiError(409, "all_scored", "Every contestant has been scored.")
        contestant = remaining[0]
    if contestant not in plan.contestants:
        raise ApiError(404, "unknown_contestant", "There is no such contestant in this round.")
    if contestant in done:
        raise ApiError(409, "already_revealed", "This contestant's result has been shown; it never changes.")
    prog.current, prog.phase = contestant, "scoring"
    audit.record(s, "chair", "contestant_opened", round=round_id, contestant=contestant)
    return contestant


def check_value(plan: ScoreRound, text: Any) -> Decimal:
    """The rules engine's check of a score (`tally.rules.score_value`), refused as a JSON 400."""
    try:
        return score_value(plan, text)
    except ScoreValueError as exc:
        raise ApiError(400, exc.code, exc.msgid, **exc.params) from exc


def take_score(s: Session, info: MeetingInfo, round_id: str, seat: JudgeSeat, ballot: dict[str, Any],
               envelope_hash: str) -> Score:
    """Record a judge's score inside the intake transaction (the caller moves the chain)."""
    plan = score_plan(info, round_id)
    if parse_seat_label(ballot.get("judge")) != seat.seat:
        raise ApiError(403, "wrong_seat", "This judge card belongs to another seat.")
    prog = progress_row(s, round_id)
    if prog.phase != "scoring" or ballot.get("contestant") != prog.current:
        raise ApiError(409, "contestant_not_open", "Scoring for this contestant is not open.")
    value = check_value(plan, ballot.get("score"))
    versions = list(s.scalars(select(Score).where(Score.round_id == round_id, Score.contestant == prog.current,
                                                  Score.seat == seat.seat)))
    if any(v.status == "active" for v in versions):
        raise ApiError(409, "seat_already_scored", "This seat has already scored this contestant.")
    row = Score(id=secrets.token_hex(16), round_id=round_id, contestant=prog.current, seat=seat.seat,
                version=len(versions) + 1, value=str(value.quantize(Decimal(plan.step))), status="active",
                envelope_hash=envelope_hash)
    s.add(row)
    s.flush()
    return row


def active_scores(s: Session, round_id: str, contestant: str) -> dict[int, Decimal]:
    return {r.seat: Decimal(r.value) for r in s.scalars(select(Score).where(
        Score.round_id == round_id, Score.contestant == contestant, Score.status == "active"))}


def flags(scores: dict[int, Decimal], distance: Decimal) -> list[int]:
    """Seats whose score is further than `distance` from the panel's median (console only)."""
    if len(scores) < 3:
        return []
    values = sorted(scores.values())
    n = len(values)
    median = values[n // 2] if n % 2 else (values[n // 2 - 1] + values[n // 2]) / 2
    return sorted(seat for seat, v in scores.items() if abs(v - median) > distance)


def void_score(s: Session, round_id: str, seat: int, reason: str) -> None:
    if not reason or not reason.strip():
        raise ApiError(400, "reason_required", "Give a reason for voiding a score.")
    prog = progress_row(s, round_id, lock=True)
    if prog.phase != "scoring" or prog.current is None:
        raise ApiError(409, "contestant_not_open", "Scoring for this contestant is not open.")
    row = s.scalars(select(Score).where(Score.round_id == round_id, Score.contestant == prog.current,
                                        Score.seat == seat, Score.status == "active")).first()
    if row is None:
        raise ApiError(404, "no_score", "This seat has no score to void.")
    row.status, row.void_reason = "void", reason.strip()
    # Never the value: the audit log is read before 亮分, and a voided score stays hidden like any other.
    audit.record(s, "chair", "score_voided", round=round_id, contestant=prog.current, seat=seat,
                 version=row.version, reason=reason.strip())


def contestant_result(plan: ScoreRound, contestant: str, scores: dict[int, Decimal]) -> dict[str, Any]:
    """A contestant's 亮分: every seat's score with the engine's struck marks, the mean, the dropped values."""
    res = trimmed_result(scores, plan.trim, plan.rounding, plan.decimals, Decimal(plan.step))
    return {"contestant": contestant, "count": res.count, "judges": plan.judges, "complete": res.complete,
            "mean": str(res.mean) if res.mean is not None else None,
            "scores": [{"seat": seat, "label": seat_label(seat), "score": str(v), "struck": res.strike_of(seat)}
                       for seat, v in sorted(scores.items())],
            "dropped_high": [str(v) for v in res.dropped_high], "dropped_low": [str(v) for v in res.dropped_low]}


def reveal_current(s: Session, info: MeetingInfo, round_id: str, *, by_chair: bool) -> dict[str, Any]:
    plan = score_plan(info, round_id)
    prog = progress_row(s, round_id, lock=True)
    if prog.phase != "scoring" or prog.current is None:
        raise ApiError(409, "contestant_not_open", "Scoring for this contestant is not open.")
    scores = active_scores(s, round_id, prog.current)
    if len(scores) < 2 * plan.trim + 1:
        raise ApiError(409, "too_few_scores", "At least %(n)s scores are needed before the result can be shown.",
                       n=2 * plan.trim + 1)
    result = contestant_result(plan, prog.current, scores)
    s.add(ContestantResult(round_id=round_id, contestant=prog.current,
                           result_json=json.dumps(result, ensure_ascii=False)))
    audit.record(s, "chair" if by_chair else "tally", "contestant_revealed", round=round_id,
                 contestant=prog.current, count=len(scores), mean=result["mean"])
    prog.phase = "revealed"
    return result


def maybe_auto_reveal(s: Session, info: MeetingInfo, round_id: str) -> bool:
    """After a score: a complete panel with nothing flagged is shown at once."""
    plan = score_plan(info, round_id)
    prog = progress_row(s, round_id)
    if prog.phase != "scoring" or prog.current is None:
        return False
    scores = active_scores(s, round_id, prog.current)
    if len(scores) < plan.judges or flags(scores, flag_distance(info, round_id)):
        return False
    reveal_current(s, info, round_id, by_chair=False)
    return True


def score_lines(s: Session, round_id: str) -> list[dict[str, Any]]:
    """The round's active scores as CONTRACT.md score lines (the export that `tally count` recounts)."""
    rows = s.scalars(select(Score).where(Score.round_id == round_id, Score.status == "active")
                     .order_by(Score.contestant, Score.seat))
    return [{"round": round_id, "judge": seat_label(r.seat), "contestant": r.contestant, "score": r.value} for r in rows]
