"""The HTML pages: chair console, projector, check-in desk, printable ballot cards and result sheets.

Pages render the first state server-side and then follow the live Socket.IO feed; every action
on them goes through the JSON API in `tally.web.admin`.
"""
from __future__ import annotations

import base64
import json
import re
from typing import Any

from flask import Blueprint, current_app, redirect, render_template, request, session, url_for
from flask_babel import gettext
from sqlalchemy import select

from keys.cards import printed_number
from keys.fingerprint import fingerprint
from keys.pairing import qr_svg
from tally.box import published
from tally.errors import ApiError
from tally.hall import cards as credentials
from tally.hall import checkin
from tally.judging import panel
from tally.rules import RoundKind
from tally.services import services
from tally.show import feed as live
from tally.show import results, screens, sheets
from tally.show.vocab import ACTIONS, draw_method
from tally.store import audit
from tally.store.models import Kiosk, Round
from tally.web.auth import admin_token_ok, chair_required, desk_required, role_token, token_role
from tally.web.logins import csrf_token, end_session, start_session
from tally.web.sessions import session as db_session
from tally.web.sessions import transaction

bp = Blueprint("console", __name__)


@bp.app_context_processor
def _result_words() -> dict[str, Any]:
    """`result_words()` in a template: every word a result view may hold, translated for the page's JS."""
    def result_words() -> dict[str, str]:
        words = {m: gettext(m) for m in results.words()}
        words.update({k.value: gettext(k.value) for k in RoundKind})
        return words
    return {"result_words": result_words}


def qr_image(text: str) -> str:
    """A QR code as an image address (`<img src>`): a picture, never markup in the page."""
    return "data:image/svg+xml;base64," + base64.b64encode(qr_svg(text).encode()).decode()


@bp.get("/")
def index() -> Any:
    return redirect(url_for("console.console"))


@bp.route("/console/login", methods=["GET", "POST"])
def login() -> Any:
    error = None
    if request.method == "POST":
        if admin_token_ok(request.form.get("token", "").strip()):
            start_session("chair")  # a new session id: a cookie planted before sign-in is worth nothing
            nxt = request.args.get("next") or ""
            # A path on this tally only: "//host" and "/\\host" are other sites to a browser.
            local = re.fullmatch(r"/(?![/\\])[^\\\s]*", nxt) is not None
            return redirect(nxt if local else url_for("console.console"))
        error = "This token is not the chair's token."
    return render_template("console/login.html", error=error), 401 if error else 200


@bp.post("/console/logout")
def logout() -> Any:
    end_session()  # the session's row is deleted: its cookie is worth nothing anywhere
    return redirect(url_for("console.login"))


@bp.get("/console")
@chair_required
def console() -> Any:
    s = db_session()
    info = services().meeting
    state = screens.console_state(s, info)
    fps = {k.id: fingerprint(k.public_key) for k in s.scalars(select(Kiosk))}
    return render_template("console/console.html", state=state, csrf=csrf_token(),
                           tls_fp=current_app.config.get("TLS_FINGERPRINT_TEXT"), fingerprints=fps, meeting_id=info.id,
                           projector_url=url_for("console.projector", t=role_token("projector"), _external=True),
                           desk_url=url_for("console.desk", t=role_token("desk"), _external=True),
                           tally_fp=fingerprint(services().identity.public_bytes()),
                           custody=screens.custody_state(s))


@bp.get("/projector")
def projector() -> Any:
    token = request.args.get("t", "")
    if token_role(token) != "projector" and not session.get("role") == "chair":
        raise ApiError(401, "unauthorized", "Open the projector link given by the chair.")
    s = db_session()
    state = screens.projector_state(s, services().meeting)
    return render_template("projector/projector.html", state=state,
                           token=token if token_role(token) == "projector" else "", title=services().meeting.title,
                           box_url=box_url())


def box_url() -> str:
    """The public box page's address, as a phone in the hall reaches it."""
    base = current_app.config.get("PUBLIC_URL")
    return base.rstrip("/") + url_for("console.box_page") if base else url_for("console.box_page", _external=True)


@bp.get("/box")
def box_page() -> Any:
    """The published box (public, no token): every closed round's receipt codes. A voter types
    their code and the page looks it up in the list it already holds, so the tally never learns
    which code anyone looked for."""
    return render_template("projector/box.html", boxes=published.boxes(db_session(), services().meeting),
                           title=services().meeting.title)


@bp.get("/box/qr.svg")
def box_qr() -> Any:
    """The box page's address as a QR code (the projector shows it)."""
    resp = current_app.make_response(qr_svg(box_url(), box_size=8, border=2))
    resp.headers["Content-Type"] = "image/svg+xml"
    resp.headers["Cache-Control"] = "no-cache"
    return resp


@bp.get("/desk")
@desk_required
def desk() -> Any:
    totals = checkin.totals(db_session(), screens.electorates(services().meeting))
    return render_template("checkin/desk.html", csrf=csrf_token(), totals=totals, title=services().meeting.title,
                           desk_unlock=credentials.desk_unlock_allowed(db_session()))


@bp.get("/console/rounds/<round_id>/sheet")
@chair_required
def result_sheet(round_id: str) -> Any:
    """The result sheet page (the console's 结果报告单 link); the same as `…/sheet.html` of the API."""
    return sheet_page(round_id, file=False)


def sheet_page(round_id: str, *, file: bool) -> Any:
    """The HTML result sheet of a counted round of any kind; `file` inlines its style (saved to disk)."""
    sh = sheets.sheet(db_session(), services().meeting, round_id)
    fingerprints = [(gettext("Ballot box fingerprint"), sh.view.chain_head),
                    (gettext("Ballot card list fingerprint"), sh.view.credentials_fingerprint)]
    return render_template("console/sheet.html", sheet=sh, view=sh.view, file=file, wide=sheets.wide(sh.view),
                           fingerprints=[(k, v) for k, v in fingerprints if v], say=sheets.say,
                           compact=sheets.compact, qr_path=sheets.qr_path)


@bp.get("/console/sheet.css")
def sheet_css() -> Any:
    """The result sheet's stylesheet (one source for the page and the saved file)."""
    resp = current_app.make_response(render_template("console/sheet.css"))
    resp.mimetype = "text/css"
    return resp


@bp.post("/console/rounds/<round_id>/judge-cards")
@chair_required
def judge_cards(round_id: str) -> Any:
    """Print one judge card per seat; the codes exist only in this response (reprinting replaces them)."""
    info = services().meeting
    with transaction() as s:
        cards = panel.issue_judge_cards(s, info, round_id)
        sheet = [{"qr": qr_image(c["qr_text"]), "label": c["label"], "check": c["check"],
                  "number": printed_number(c["qr_text"])} for c in cards]
    live.touch()
    rnd = db_session().get(Round, round_id)
    resp = current_app.make_response(render_template("console/judge_cards.html", cards=sheet, title=info.title,
                                                     round_title=rnd.title if rnd else round_id))
    resp.headers["Cache-Control"] = "no-store"
    return resp


@bp.get("/console/rounds/<round_id>/draw")
@chair_required
def draw_sheet(round_id: str) -> Any:
    record = panel.draw_record(db_session(), round_id)
    if record is None:
        raise ApiError(404, "no_draw", "This round's panel has not been drawn yet.")
    return render_template("console/draw.html", record=record, method=draw_method(record), title=services().meeting.title)


@bp.get("/console/audit")
@chair_required
def audit_page() -> Any:
    """The audit log as a printable page, newest first."""


    s, meeting_id = db_session(), services().meeting.id
    rows = [{"at": e.at, "actor": e.actor, "action": gettext(ACTIONS[e.action]) if e.action in ACTIONS else e.action,
             "detail": json.loads(e.detail), "entry": e.entry_hash}
            for e in reversed(list(audit.in_chain_order(s, meeting_id)))]
    return render_template("console/audit.html", rows=rows, title=services().meeting.title,
                           check=audit.check(s, meeting_id))
