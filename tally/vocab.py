"""Words the pages show from data (round kinds, statuses, outcomes), declared here so that the
translation layer's extraction finds them; templates translate them with `_(value)`."""
from __future__ import annotations


def _(text: str) -> str:
    return text


WORDS = (
    _("recommend"), _("evaluate"), _("decide"), _("score"), _("composite"),
    _("draft"), _("open"), _("closed"), _("counted"),
    _("pending"), _("active"), _("revoked"),
    _("passed"), _("not_passed"), _("deferred"), _("no_quorum"), _("tie"), _("void"),
    _("This token is not the chair's token."),
)
