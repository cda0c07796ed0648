"""The judge-scoring endpoints: the chair's (`/api/v1/admin/rounds/<id>/…`) and the kiosks' (`/api/v1/judging`).

Thin views over `tally.judging.scoring`; every action is one transaction followed by a live push.
"""
from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, jsonify, request
from sqlalchemy import select

from keys.canonical import b64e
from tally.box.forms import score_form
from tally.errors import ApiError
from tally.judging import panel, scoring, standings
from tally.rules.kinds import RoundKind
from tally.services import services
from tally.show import feed as live
from tally.show.scoresheets import scoresheet_pdf, scoresheet_xlsx
from tally.show.sheets import result_sheet_pdf, result_sheet_xlsx, sheet
from tally.store.models import Round
from tally.web.auth import chair_required
from tally.web.body import N_, json_body, roster_from_request, whole_number
from tally.web.pages import sheet_page
from tally.web.sessions import session as db_session
from tally.web.sessions import transaction

bp = Blueprint("judging", __name__, url_prefix="/api/v1")
MAX_SEAT = 999  # far above any panel; the round's plan decides which seats exist


def _done(payload: Any, status: int = 200) -> Any:
    live.touch(urgent=True)
    return jsonify(payload), status


@bp.get("/judging")
def judging_state() -> Any:
    """For judge kiosks: open score rounds, their plan and who is being scored. Never a value."""
    info = services().meeting
    s = db_session()
    out = []
    for rnd in s.scalars(
        select(Round).where(Round.kind == RoundKind.SCORE.value, Round.status == "open").order_by(Round.position)
    ):
        plan = panel.score_plan(info, rnd.id)
        st = standings.state(s, info, rnd.id, console=False)
        # The plan and key are signed (a judge's kiosk seals only to a form that verifies); who
        # is being scored changes from moment to moment and travels beside it.
        out.append({**score_form(info, services().identity, rnd, plan),
                    "current": st["current"], "phase": st["phase"], "scored_seats": st.get("scored_seats", [])})
    key = b64e(services().identity.public_bytes())
    return jsonify({"meeting": {"id": info.id, "title": info.title, "tally_public_key": key}, "rounds": out})


@bp.post("/admin/judges/pool")
@chair_required
def pool() -> Any:
    entries = roster_from_request()
    with transaction() as s:
        n = panel.import_pool(s, entries)
    return _done({"imported": n})


@bp.post("/admin/rounds/<round_id>/draw")
@chair_required
def draw(round_id: str) -> Any:
    body = json_body()
    seed = body.get("seed")
    if seed is not None and (not isinstance(seed, str) or not 1 <= len(seed) <= 64):
        raise ApiError(400, "bad_seed", "The seed must be text of at most 64 characters.")
    with transaction() as s:
        record = panel.draw_panel(s, services().meeting, round_id, seed)
    return _done(record, 201)


@bp.post("/admin/rounds/<round_id>/judge-cards")
@chair_required
def judge_cards(round_id: str) -> Any:
    body = json_body()
    seats = body.get("seats")
    if seats is not None and (not isinstance(seats, list) or not all(type(n) is int for n in seats)):
        raise ApiError(400, "bad_seat", "There is no such seat on this panel.")  # true is not seat 1
    with transaction() as s:
        cards = panel.issue_judge_cards(s, services().meeting, round_id, seats)
    return _done({"cards": cards}, 201)


@bp.post("/admin/rounds/<round_id>/order")
@chair_required
def order(round_id: str) -> Any:
    body = json_body()
    given = body.get("order")
    if given is not None and (not isinstance(given, list) or not all(isinstance(n, str) for n in given)):
        raise ApiError(400, "bad_order", "The speaking order must list every contestant exactly once.")
    with transaction() as s:
        result = scoring.set_order(
            s, services().meeting, round_id, given, body.get("seed") if isinstance(body.get("seed"), str) else None
        )
    return _done({"order": result})


@bp.post("/admin/rounds/<round_id>/next")
@chair_required
def next_contestant(round_id: str) -> Any:
    body = json_body()
    name = body.get("contestant")
    if name is not None and not isinstance(name, str):
        raise ApiError(404, "unknown_contestant", "There is no such contestant in this round.")
    with transaction() as s:
        current = scoring.open_contestant(s, services().meeting, round_id, name)
    return _done({"current": current})


@bp.post("/admin/rounds/<round_id>/void")
@chair_required
def void(round_id: str) -> Any:
    body = json_body()
    seat = whole_number(body, "seat", 1, MAX_SEAT, code="bad_seat", message=N_("There is no such seat on this panel."))
    reason = body.get("reason")
    if not isinstance(reason, str) or not reason.strip() or len(reason) > 500:
        raise ApiError(400, "reason_required", "Give a reason for voiding a score.")
    with transaction() as s:
        scoring.void_score(s, round_id, seat, reason)
    return _done({"voided": seat})


@bp.post("/admin/rounds/<round_id>/show")
@chair_required
def show(round_id: str) -> Any:
    """The chair shows the current contestant's result (a full panel with flags, or ≥ 2k+1 scores)."""
    with transaction() as s:
        result = scoring.reveal_current(s, services().meeting, round_id, by_chair=True)
    return _done(result)


@bp.get("/admin/rounds/<round_id>/judging")
@chair_required
def console_state(round_id: str) -> Any:
    return jsonify(standings.state(db_session(), services().meeting, round_id, console=True))


@bp.get("/admin/rounds/<round_id>/draw")
@chair_required
def draw_record(round_id: str) -> Any:
    record = panel.draw_record(db_session(), round_id)
    if record is None:
        raise ApiError(404, "no_draw", "This round's panel has not been drawn yet.")
    return jsonify(record)


@bp.get("/admin/rounds/<round_id>/scoresheet.<fmt>")
@chair_required
def scoresheet(round_id: str, fmt: str) -> Any:
    if fmt not in ("xlsx", "pdf"):
        raise ApiError(404, "not_found", "There is no such page or item.")
    s = db_session()
    data = (scoresheet_xlsx if fmt == "xlsx" else scoresheet_pdf)(s, services().meeting, round_id)
    mime = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet" if fmt == "xlsx" else "application/pdf"
    return Response(
        data, mimetype=mime, headers={"Content-Disposition": f'attachment; filename="{round_id}-scores.{fmt}"'}
    )


@bp.get("/admin/rounds/<round_id>/sheet.<fmt>")
@chair_required
def result_sheet(round_id: str, fmt: str) -> Any:
    """A counted round's signed result sheet (结果报告单) as PDF, Excel or HTML: the console's buttons
    and `tally sheet` fetch these. `?file=1` makes the HTML stand alone (its style inlined)."""

    if fmt not in ("xlsx", "pdf", "html"):
        raise ApiError(404, "not_found", "There is no such page or item.")
    if fmt == "html":
        return sheet_page(round_id, file=request.args.get("file") == "1")
    sh = sheet(db_session(), services().meeting, round_id)
    data = result_sheet_xlsx(sh) if fmt == "xlsx" else result_sheet_pdf(sh)
    mime = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet" if fmt == "xlsx" else "application/pdf"
    return Response(
        data, mimetype=mime, headers={"Content-Disposition": f'attachment; filename="{round_id}-result.{fmt}"'}
    )
