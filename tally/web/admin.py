"""The chair's and the desk's JSON API (`/api/v1/admin/…`, `/api/v1/desk/…`).

The console page and the `tally` command line drive the meeting through these same endpoints:
the page with its session cookie and a CSRF header (`tally.web.auth.check_csrf`, for every
blueprint), the command line with the admin token as a Bearer token. Every action is one
transaction, audited, and followed by a live push.
"""
from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, jsonify, request, url_for
from sqlalchemy import select

from keys.record import record_fingerprint
from tally.box import counting, rounds
from tally.box.export import export_round
from tally.errors import ApiError
from tally.hall import cards as credentials
from tally.hall import checkin
from tally.hall import kiosks as pairing
from tally.plan import dump_plan
from tally.services import services
from tally.setup import custody as custody_rules
from tally.setup.meeting import meeting_record
from tally.show import feed as live
from tally.show import screens
from tally.store import audit, order
from tally.store.models import Kiosk
from tally.web.auth import chair_required, desk_required, role_token
from tally.web.body import N_, card_list_from_request, json_body, roster_from_request, whole_number
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


@bp.post("/admin/cards/import")
@chair_required
def cards_import() -> Any:
    """Load the scrutineers' ballot card list (credentials.json); frozen once a round opens."""
    doc = card_list_from_request()
    with transaction() as s:
        out = credentials.import_list(s, services().meeting.id, record_fingerprint(meeting_record(s)), doc)
    return _done(out)


@bp.post("/admin/cards/void")
@chair_required
def cards_void() -> Any:
    """Void left-over cards by the void lines the scrutineers made from them (`keys cards void`):
    a batch, nothing voided if one line is bad. Card codes are refused: the tally never sees one."""
    body = json_body()
    if "cards" in body:
        raise ApiError(400, "card_code_refused", "The tally takes void lines made by keys cards void on the "
                       "scrutineers' machine, never card codes; nothing was voided.")
    with transaction() as s:
        out = credentials.void_cards(s, services().meeting.id, body.get("lines"))
        totals = credentials.counts(s)
    return _done({**out, "totals": totals})


@bp.post("/admin/settings")
@chair_required
def settings() -> Any:
    """The chair's settings: `desk_unlock` (may the desk unlock a kiosk for one voter)."""
    body = json_body()
    allowed = body.get("desk_unlock")
    if not isinstance(allowed, bool):
        raise ApiError(400, "malformed", "Say whether the desk may unlock kiosks (true or false).")
    with transaction() as s:
        credentials.set_desk_unlock(s, allowed)
    return _done({"desk_unlock": allowed})


@bp.get("/admin/meeting-record")
@chair_required
def meeting_record_doc() -> Any:
    """The public meeting record (public/meeting.json): what the scrutineers make the cards from."""
    return jsonify(meeting_record(db_session()))


@bp.get("/admin/custody")
@chair_required
def custody() -> Any:
    """The public meeting record and each scrutineer's check codes, to compare with their sheets."""
    return jsonify(screens.custody_state(db_session()))


def _share_texts(body: dict[str, Any]) -> list[str]:
    shares = body.get("shares")
    if not isinstance(shares, list) or not shares or len(shares) > 15 or not all(isinstance(x, str) for x in shares):
        raise ApiError(400, "shares_required", "Give the scrutineers' shares to open the ballot box.")
    return shares


@bp.post("/admin/rounds/<round_id>/<action>")
@chair_required
def round_action(round_id: str, action: str) -> Any:
    info = services().meeting
    with transaction() as s:
        if action == "open":
            rnd = rounds.open_round(s, info, round_id)
        elif action == "close":
            rnd = rounds.close_round(s, info, services().identity, round_id)
        elif action == "count":
            body = json_body()
            kind = rounds.get_round(s, round_id).round_kind
            shares = _share_texts(body) if kind.secret else None
            score_key = services().score_keys.get(s, round_id) if kind.opened_at_intake else None
            rnd = counting.count_round(s, info, services().identity, round_id, shares, score_key)
        elif action == "reveal":
            rnd = rounds.reveal(s, round_id)
        else:
            raise ApiError(404, "not_found", "There is no such page or item.")
        out = screens.round_public(rnd, info, with_result=True)
    if action in ("open", "close", "count"):
        # From here on no copy of the database tells in which order people signed in or ballots
        # and credentials were written before this moment (tally.store.order).
        order.forget(services().store)
    return _done(out)


@bp.post("/admin/rounds/<round_id>/shares/check")
@chair_required
def share_check(round_id: str) -> Any:
    """Check one scanned or typed share for this round: whose it is, or what is wrong. Nothing is kept."""
    body = json_body()
    text = body.get("share")
    if not isinstance(text, str):
        raise ApiError(400, "shares_required", "Give the scrutineers' shares to open the ballot box.")
    s = db_session()
    rnd = rounds.get_round(s, round_id)
    if rnd.status != "closed":
        raise ApiError(409, "round_not_closed", "Close the round before counting it.")
    return jsonify({"scrutineer": custody_rules.check_share(s, services().meeting.id, rnd, text)})


@bp.get("/admin/audit")
@chair_required
def audit_log() -> Any:
    """The audit log (全程纪实): every action of the chair, the desk and the tally, oldest first,
    each entry with its chain link; the head, and whether the chain is intact as stored."""
    s, meeting_id = db_session(), services().meeting.id
    checked = audit.check(s, meeting_id)
    return jsonify({"entries": audit.lines(s, meeting_id), "head": checked.stored_head, "intact": checked.intact})


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
            voting = order.ballot_round_open(s)
        if voting:
            order.forget(services().store, order.PEOPLE)
        return _done({"totals": totals})
    numbers = body.get("numbers") if "numbers" in body else [body.get("number")]
    if not isinstance(numbers, list) or not numbers or not all(isinstance(n, str) for n in numbers):
        raise ApiError(400, "malformed", "Say whom to sign in (their roster number).")
    present = body.get("present", True) is not False
    with transaction() as s:
        for n in numbers:
            checkin.sign_in(s, n, present)
        totals = checkin.totals(s, screens.electorates(services().meeting))
        voting = order.ballot_round_open(s)
    if voting:
        # A sign-in while ballots are being cast must not sit next to the ballot that follows it.
        order.forget(services().store, order.PEOPLE)
    return _done({"totals": totals})


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

