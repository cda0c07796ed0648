"""What counts as a name (姓名) or a title: one rule wherever text from people enters the tally.

Names reach the chair's console, the projector, the check-in desk and every sheet, so each one
is checked where it enters: a write-in on a ballot, a kiosk's name at pairing, a roster or judge
pool row, a name or title in the meeting file. The rule:

- text (a `str`), trimmed of surrounding white space, not empty;
- printable characters only (`str.isprintable`, and spaces such as the full-width space that
  aligns 王　五 in a printed list): no control character, no lone surrogate, no format character
  such as a bidi override (U+202E) that could make a screen show one name and count another, no
  line or paragraph separator;
- at most `limit` characters: `NAME_MAX` for a person (as the database's columns hold them),
  `WRITE_IN_MAX` for a name a voter writes in (the kiosk's field), `TITLE_MAX` for a title.

Markup characters (`<`, `>`, `&`, quotes) are printable and allowed: screens and sheets print
them as text (`|tojson`, escaped attributes, `tally.show.cells`), never as markup.
The kiosk keeps its own copy of this rule for write-ins (`kiosk.ballots`; it never imports the
tally), held to the same cases by `tests/test_validators_agree.py`. Pure.
"""
from __future__ import annotations

import unicodedata
from typing import Final

NAME_MAX: Final = 64
WRITE_IN_MAX: Final = 32
TITLE_MAX: Final = 200


class BadName(ValueError):
    """Text that is not a name; `reason` is one of `not_text`, `empty`, `not_printable`, `too_long`."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


def check_name(value: object, limit: int | None = NAME_MAX) -> str:
    """The trimmed name, or `BadName` saying why it is not one (`limit=None`: any length)."""
    if not isinstance(value, str):
        raise BadName("not_text", "must be text")
    text = value.strip()
    if not text:
        raise BadName("empty", "must not be empty")
    if not text.isprintable() and not all(c.isprintable() or unicodedata.category(c) == "Zs" for c in text):
        raise BadName("not_printable", "holds a control or format character (printable characters only)")
    if limit is not None and len(text) > limit:
        raise BadName("too_long", f"is longer than {limit} characters")
    return text


def name_problem(value: object, limit: int | None = NAME_MAX) -> str | None:
    """Why `value` is not a name (a short English phrase), or None when it is one."""
    try:
        check_name(value, limit)
    except BadName as exc:
        return str(exc)
    return None
