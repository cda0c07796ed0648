"""The chair's and the desk's JSON API (`/api/v1/admin/…`, `/api/v1/desk/…`).

The console page and the `tally` command line drive the meeting through these same endpoints:
the page with its session cookie and a CSRF header (`tally.web.auth.check_csrf`, for every
blueprint), the command line with the admin token as a Bearer token. Every action is one
transaction, audited, and followed by a live push.
"""
from __future__ import annotations

import json
from typing import Any

from flask import Blueprint, current_app, jsonify, request, url_for
from sqlalchemy import select

from tally.box import counting, rounds
from tally.box.export import export_round
from tally.errors import ApiError
from tally.hall import cards as credentials
from tally.hall import checkin
from tally.hall import kiosks as pairing
from tally.plan import dump_plan
from tally.services import services
from tally.show import feed as live
from tally.show import screens
from tally.store.models import AuditEntry, Kiosk
from tally.web.auth import chair_required, desk_required, role_token
from tally.web.body import N_, json_body, roster_from_request, whole_number
from tally.web.sessions import session as db_session
from tally.web.sessions import transaction

bp = Blueprint("admin", __name__, url_prefix="/api/v1")


def base_url() -> str:
    return current_app.config.get("PUBLIC_URL") or request.host_url.rstrip("/")


def _done(payload: Any, status: int = 200) -> Any:
    live.touch(urgent=True)  # the chair's actions show at once; only ballots are coalesced
    return jsonify(payload), status


@bp.get("/admin/state")
@chair_required
def state() -> Any:
    return jsonify(screens.console_state(db_session(), services().meeting))


@bp.get("/admin/links")
@chair_required
def links() -> Any:
    """The links the chair hands out: console, projector (display token), check-in desk."""


    return jsonify({"console": url_for("console.console", _external=True),
                    "projector": url_for("console.projector", t=role_token("projector"), _external=True),
                    "desk": url_for("console.desk", t=role_token("desk"), _external=True)})


@bp.post("/admin/offers")
@chair_required
def offers() -> Any:
    body = json_body()
    count = whole_number({"count": 1, **body}, "count", 1, 500, code="bad_count",
                         message=N_("Make between 1 and 500 pairing offers at a time."))
    preconfirm = body.get("preconfirm") is True
    with transaction() as s:
        made = [pairing.new_offer(s, base_url(), services().identity.public_bytes(), now=services().now(),
                                  preconfirm=preconfirm, tls=current_app.config.get("TLS_FINGERPRINT"),
                                  minutes=current_app.config.get("OFFER_MINUTES", pairing.OFFER_MINUTES))
                for _ in range(count)]
    return _done({"offers": [o.to_url() for o in made], "qr_svg": [o.qr_svg() for o in made]}, 201)


@bp.post("/admin/kiosks/<kiosk_id>/<action>")
@chair_required
def kiosk_action(kiosk_id: str, action: str) -> Any:
    if action not in ("confirm", "revoke"):
        raise ApiError(404, "not_found", "There is no such page or item.")
    with transaction() as s:
        k = pairing.set_status(s, kiosk_id, "active" if action == "confirm" else "revoked")
        out = {"id": k.id, "status": k.status}
    return _done(out)


@bp.post("/admin/cards")
@chair_required
def cards() -> Any:
    body = json_body()
    count = whole_number(body, "count", 1, 5000, code="bad_count", message=N_("Print between 1 and 5000 cards at a time."))
    with transaction() as s:
        made = credentials.print_cards(s, services().meeting.id, count, issued=body.get("issued") is True)
        texts = [c.qr_text for c in made]
    return _done({"cards": texts}, 201)


@bp.post("/admin/rounds/<round_id>/<action>")
@chair_required
def round_action(round_id: str, action: str) -> Any:
    info = services().meeting
    with transaction() as s:
        if action == "open":
            rnd = rounds.open_round(s, info, round_id)
        elif action == "close":
            rnd = rounds.close_round(s, round_id)
        elif action == "count":
            body = json_body()
            secret = body.get("passphrase")
            needs = rounds.get_round(s, round_id).secret
            if needs and (not isinstance(secret, str) or not secret):
                raise ApiError(400, "passphrase_required", "Enter the scrutineers' passphrase to open the ballot box.")
            rnd = counting.count_round(s, info, services().identity, round_id, secret if needs else None)
        elif action == "reveal":
            rnd = rounds.reveal(s, round_id)
        else:
            raise ApiError(404, "not_found", "There is no such page or item.")
        out = screens.round_public(rnd, info, with_result=True)
    return _done(out)


@bp.get("/admin/audit")
@chair_required
def audit_log() -> Any:
    """The audit log (全程纪实): every action of the chair, the desk and the tally, oldest first."""

    rows = db_session().scalars(select(AuditEntry).order_by(AuditEntry.id))
    return jsonify({"entries": [{"at": e.at.isoformat() + "Z", "actor": e.actor, "action": e.action,
                                 "detail": json.loads(e.detail)} for e in rows]})


@bp.get("/admin/meeting")
@chair_required
def meeting_file() -> Any:
    """The meeting file of the plan this tally serves (what `tally results` prints its sheet with)."""
    return jsonify(dump_plan(services().meeting.plan))


@bp.get("/admin/results")
@chair_required
def results() -> Any:
    return jsonify(counting.results_document(db_session(), services().meeting))


@bp.get("/admin/rounds/<round_id>/export")
@chair_required
def export(round_id: str) -> Any:
    return jsonify(export_round(db_session(), services().meeting, round_id))


@bp.post("/admin/roster")
@chair_required
def roster() -> Any:
    entries = roster_from_request()
    with transaction() as s:
        n = checkin.import_roster(s, entries)
    return _done({"imported": n})


# --- the check-in desk ---------------------------------------------------------------------

@bp.get("/desk/search")
@desk_required
def desk_search() -> Any:
    found = checkin.find(db_session(), request.args.get("q", ""))
    return jsonify({"attendees": [{"number": a.number, "name": a.name, "group": a.group,
                                   "checked_in": a.checked_in} for a in found],
                    "totals": checkin.totals(db_session(), screens.electorates(services().meeting))})


@bp.post("/desk/signin")
@desk_required
def desk_signin() -> Any:
    body = json_body()
    if not isinstance(body, dict):
        raise ApiError(400, "malformed", "Say whom to sign in (their roster number).")
    if body.get("all") is True:
        with transaction() as s:
            checkin.sign_in_all(s)
            totals = checkin.totals(s, screens.electorates(services().meeting))
        return _done({"totals": totals})
    numbers = body.get("numbers") if "numbers" in body else [body.get("number")]
    if not isinstance(numbers, list) or not numbers or not all(isinstance(n, str) for n in numbers):
        raise ApiError(400, "malformed", "Say whom to sign in (their roster number).")
    present = body.get("present", True) is not False
    with transaction() as s:
        for n in numbers:
            checkin.sign_in(s, n, present)
        totals = checkin.totals(s, screens.electorates(services().meeting))
    return _done({"totals": totals})


@bp.post("/desk/cards/issue")
@desk_required
def desk_issue_card() -> Any:
    body = json_body()
    with transaction() as s:
        if body.get("all_printed") is True:
            n = credentials.issue_all_printed(s)
        else:
            text = body.get("card")
            if not isinstance(text, str):
                raise ApiError(400, "bad_card", "This is not a ballot card code.")
            credentials.issue_card(s, text, services().meeting.id)
            n = 1
        c = credentials.counts(s)
    return _done({"issued": n, "cards": c})


@bp.post("/desk/unlock")
@desk_required
def desk_unlock() -> Any:
    body = json_body()
    kiosk_id = body.get("kiosk")
    if not isinstance(kiosk_id, str):
        raise ApiError(400, "malformed", "Say which kiosk to unlock.")
    with transaction() as s:
        credentials.grant_unlock(s, kiosk_id)
    return _done({"unlocked": kiosk_id})


@bp.get("/desk/kiosks")
@desk_required
def desk_kiosks() -> Any:
    ks = db_session().scalars(select(Kiosk).where(Kiosk.status == "active").order_by(Kiosk.name))
    return jsonify({"kiosks": [{"id": k.id, "name": k.name} for k in ks]})

