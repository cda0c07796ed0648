"""Words the pages show from data (round kinds, statuses, outcomes), declared here so that the
translation layer's extraction finds them; templates translate them with `_(value)`."""
from __future__ import annotations

from flask_babel import gettext

from tally.judging.panel import ALGORITHM


def _(text: str) -> str:
    return text


WORDS = (
    _("recommend"), _("evaluate"), _("decide"), _("score"), _("composite"),
    _("draft"), _("open"), _("closed"), _("counted"),
    _("pending"), _("active"), _("revoked"),
    _("passed"), _("not_passed"), _("deferred"), _("no_quorum"), _("tie"), _("void"),
    _("This token is not the chair's token."),
)

# The audit log's actions (全程纪实), as the chair reads them on the console.
ACTIONS = {
    "pairing_offer": _("Pairing code made"), "paired": _("Kiosk paired"), "kiosk_confirmed": _("Kiosk confirmed"),
    "kiosk_revoked": _("Kiosk revoked"), "kiosk_unlocked": _("Kiosk unlocked by the desk"),
    "roster_imported": _("Roster imported"), "signed_in_all": _("Everyone signed in"),
    "cards_printed": _("Ballot cards printed"), "cards_issued_in_bulk": _("Printed cards handed out"),
    "cards_voided": _("Left-over cards voided"), "round_opened": _("Round opened"), "round_closed": _("Round closed"),
    "round_counted": _("Round counted"), "round_revealed": _("Result shown"), "judge_pool_imported": _("Judge pool imported"),
    "panel_drawn": _("Panel drawn"), "judge_cards_issued": _("Judge cards issued"), "speaking_order": _("Speaking order set"),
    "contestant_opened": _("Contestant opened for scoring"), "contestant_revealed": _("Contestant's result shown"),
    "score_voided": _("Score returned to the judge"),
    "card_list_imported": _("Scrutineers' card list imported"), "desk_unlock_allowed": _("Desk unlocks allowed"),
    "desk_unlock_forbidden": _("Desk unlocks forbidden"), "spare_key_assigned": _("Spare round key given to a new round"),
}

# How a judge panel was drawn, in words (the record keeps the exact method it ran, for a redo).
_DRAW_METHODS = {
    ALGORITHM:
        _("Drawn at random with the seed above: %(judges)s people from the pool sorted by number, without "
          "replacement; the i-th drawn takes seat i."),
}


def draw_method(record: dict[str, object]) -> str:
    """The draw record's method in the reader's language (Chinese first), or as recorded if unknown."""
    algorithm = str(record.get("algorithm", ""))
    if algorithm in _DRAW_METHODS:
        return gettext(_DRAW_METHODS[algorithm], judges=str(record.get("judges", "")))
    return algorithm
