"""The panel (评委): the judge pool, the recorded random draw of a round's seats, and one judge card per seat.

The panel is drawn at random from the judge pool with a recorded seed, so anyone can redo the
draw; each seat gets a judge card (a card whose public key for the score round is bound to the
seat). Seats appear everywhere as numbers (J01…), never as names, outside the draw record.
"""
from __future__ import annotations

import json
import random
import secrets
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from keys.canonical import b64d, b64e
from keys.cards import new_card
from keys.errors import Malformed
from tally.errors import ApiError
from tally.rules import ScoreRound
from tally.setup.meeting import MeetingInfo
from tally.store import audit
from tally.store.models import JudgeDraw, JudgePoolMember, JudgeSeat

# How a panel is drawn, as recorded with its seed so that anyone can redo it (the sheets say it in words).
ALGORITHM = "Python random.Random(seed).sample(pool sorted by number, judges); seat i = i-th drawn"


def seat_label(seat: int) -> str:
    return f"J{seat:02d}"


def parse_seat_label(label: Any) -> int | None:
    if isinstance(label, str) and len(label) >= 2 and label[0] == "J" and label[1:].isdigit():
        return int(label[1:])
    return None


def score_plan(info: MeetingInfo, round_id: str) -> ScoreRound:
    try:
        plan = info.plan.round(round_id)
    except (KeyError, LookupError) as exc:
        raise ApiError(404, "unknown_round", "There is no such round in this meeting.") from exc
    if not isinstance(plan, ScoreRound):
        raise ApiError(409, "not_a_score_round", "This round is not a judge-scoring round.")
    return plan


def import_pool(s: Session, entries: list[tuple[str, str, str]]) -> int:
    if s.scalars(select(JudgeDraw.round_id)).first() is not None:
        raise ApiError(409, "panel_drawn", "A panel has been drawn; the judge pool can no longer be replaced.")
    s.query(JudgePoolMember).delete()
    for number, name, group in entries:
        s.add(JudgePoolMember(number=number, name=name, group=group))
    audit.record(s, "chair", "judge_pool_imported", count=len(entries))
    return len(entries)


def draw_panel(s: Session, info: MeetingInfo, round_id: str, seed: str | None = None) -> dict[str, Any]:
    """Draw `judges` seats from the pool; the seed and the algorithm are recorded so anyone can redo it."""
    plan = score_plan(info, round_id)
    if s.get(JudgeDraw, round_id) is not None:
        raise ApiError(409, "panel_drawn", "This round's panel has already been drawn.")
    pool = list(s.scalars(select(JudgePoolMember).order_by(JudgePoolMember.number)))
    if len(pool) < plan.judges:
        raise ApiError(409, "pool_too_small", "The judge pool has fewer people than the panel needs.")
    seed = seed or secrets.token_hex(16)
    chosen = random.Random(seed).sample(pool, plan.judges)
    record = {"round": round_id, "seed": seed, "pool_size": len(pool), "judges": plan.judges,
              "algorithm": ALGORITHM,
              "seats": [{"seat": i + 1, "label": seat_label(i + 1), "number": m.number, "name": m.name, "group": m.group}
                        for i, m in enumerate(chosen)]}
    s.add(JudgeDraw(round_id=round_id, seed=seed, record_json=json.dumps(record, ensure_ascii=False),
                    at=datetime.now(UTC).replace(tzinfo=None)))
    audit.record(s, "chair", "panel_drawn", round=round_id, seed=seed, pool_size=len(pool))
    return record


def draw_record(s: Session, round_id: str) -> dict[str, Any] | None:
    d = s.get(JudgeDraw, round_id)
    return json.loads(d.record_json) if d else None


def issue_judge_cards(s: Session, info: MeetingInfo, round_id: str, seats: list[int] | None = None) -> list[dict[str, Any]]:
    """New judge cards for all seats (or the given seats: a lost card is replaced, the old one stops working)."""
    plan = score_plan(info, round_id)
    wanted = seats or list(range(1, plan.judges + 1))
    if any(not 1 <= n <= plan.judges for n in wanted):
        raise ApiError(400, "bad_seat", "There is no such seat on this panel.")
    out = []
    keys: dict[str, str] = {}
    for n in wanted:
        card = new_card(info.id)
        public = card.public_for(round_id)  # a judge card signs with its key for this score round
        row = s.get(JudgeSeat, (round_id, n))
        if row is None:
            s.add(JudgeSeat(round_id=round_id, seat=n, card_public=public))
        else:
            row.card_public = public
        keys[str(n)] = b64e(public)
        out.append({"seat": n, "label": seat_label(n), "qr_text": card.qr_text, "check": card.check_code})
    # The seats' public keys go into the log: a replaced card's earlier scores still check out
    # against the seat it was issued to (the count, `keys verify-box`). A judge card is a seat's,
    # not a secret voter's: its key names no one the seat does not.
    audit.record(s, "chair", "judge_cards_issued", round=round_id, seats=wanted, cards=keys)
    return out


def judge_card_history(entries: list[dict[str, Any]], round_id: str) -> dict[bytes, int]:
    """Every judge card key ever issued for this round (audit log entries), with its seat."""
    out: dict[bytes, int] = {}
    for e in entries:
        detail = e.get("detail")
        if e.get("action") != "judge_cards_issued" or not isinstance(detail, dict) or detail.get("round") != round_id:
            continue
        cards = detail.get("cards")
        for seat, key in (cards.items() if isinstance(cards, dict) else ()):
            try:
                out[b64d(key)] = int(seat)
            except (Malformed, TypeError, ValueError):
                continue
    return out


def seat_of_card(s: Session, round_id: str | None, card_public: bytes) -> JudgeSeat | None:
    q = select(JudgeSeat).where(JudgeSeat.card_public == card_public)
    if round_id is not None:
        q = q.where(JudgeSeat.round_id == round_id)
    return s.scalars(q).first()
