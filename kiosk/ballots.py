"""From a voter's on-screen selection to one ballot line of CONTRACT.md, refusing what the form forbids.

The screens already block over-votes; this is the same rule on the server side of the kiosk, so
a page bug or a hand-made request can never seal a ballot the voter could not have chosen.
Every refusal is a `SelectionError` with a stable code and an English msgid (translated by the
app). An empty selection is a blank ballot and is allowed.

Selections (one per round, as the page sends them):
- recommend: `{"sections": {post_id: [name, ...]}}`  (names outside the list are write-ins)
- evaluate:  `{"grades": {subject: grade}, "directions": {subject: direction}}`
- decide:    `{"votes": {nominee: "agree" | "disagree" | "abstain"}}`

What a name is (`name_problem`) is the kiosk's copy of `tally.rules.names` (the kiosk never
imports the tally): trimmed, printable characters only (no control character, lone surrogate or
format character such as a bidi override; spaces allowed), at most `MAX_WRITE_IN` characters
for a write-in. `tests/test_validators_agree.py` holds both copies to the same cases.

Pure: no I/O, no Flask, no clock.
"""
from __future__ import annotations

import unicodedata
from collections import Counter
from typing import Any

from kiosk.forms import RoundForm

DECIDE_CHOICES = ("agree", "disagree", "abstain")
MAX_WRITE_IN = 32
MAX_NAME = 64  # a kiosk's name (the tally's NAME_MAX)


def N_(msgid: str) -> str:
    """Marks a msgid for extraction; the app translates it when it answers."""
    return msgid


class SelectionError(ValueError):
    """The selection breaks the form's rules. `message` is an English msgid, `params` fill it."""

    def __init__(self, code: str, message: str, **params: str | int) -> None:
        super().__init__(message % params if params else message)
        self.code = code
        self.message = message
        self.params = params


def name_problem(value: object, limit: int) -> str | None:
    """Why `value` is not a name the kiosk takes (`not_text`, `empty`, `not_printable`, `too_long`), or None."""
    if not isinstance(value, str):
        return "not_text"
    text = value.strip()
    if not text:
        return "empty"
    if not all(c.isprintable() or unicodedata.category(c) == "Zs" for c in text):
        return "not_printable"
    if len(text) > limit:
        return "too_long"
    return None


def _obj(value: Any, what: str) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise SelectionError("malformed", N_("The selection for %(what)s is not well formed."), what=what)
    return value


def _recommend(form: RoundForm, sel: dict[str, Any]) -> dict[str, Any]:
    posts = {p.id: p for p in form.posts}
    sections_in = _obj(sel.get("sections"), form.id)
    for pid in sections_in:
        if pid not in posts:
            raise SelectionError("unknown_post", N_("Unknown post: %(post)s."), post=pid)
    sections: dict[str, list[str]] = {}
    for post in form.posts:
        raw = sections_in.get(post.id) or []
        if not isinstance(raw, list) or not all(isinstance(n, str) for n in raw):
            raise SelectionError("malformed", N_("The selection for %(what)s is not well formed."), what=post.title)
        names = [n.strip() for n in raw]
        if any(not n for n in names):
            raise SelectionError("malformed", N_("A name is empty."))
        if any(name_problem(n, len(n)) for n in names):
            raise SelectionError("bad_name", N_("A name may hold printable characters only."))
        if len(set(names)) != len(names):
            raise SelectionError("duplicate_name", N_("A name is chosen twice for %(post)s."), post=post.title)
        for name in names:
            if name in post.candidates:
                continue
            if not post.write_in:
                raise SelectionError("unknown_name", N_("%(name)s is not a candidate for %(post)s."), name=name, post=post.title)
            if len(name) > MAX_WRITE_IN:
                raise SelectionError("malformed", N_("A written-in name is too long."))
        if len(names) > post.seats:
            raise SelectionError(
                "over_vote", N_("Too many names for %(post)s: at most %(seats)s."), post=post.title, seats=post.seats
            )
        sections[post.id] = names
    return {"round": form.id, "sections": sections}


def _evaluate(form: RoundForm, sel: dict[str, Any]) -> dict[str, Any]:
    grades = _obj(sel.get("grades"), form.id)
    directions = _obj(sel.get("directions"), form.id)
    for subject, grade in grades.items():
        if subject not in form.subjects:
            raise SelectionError("unknown_name", N_("%(name)s is not evaluated in this round."), name=subject)
        if not isinstance(grade, str) or grade not in form.grades:
            raise SelectionError("unknown_grade", N_("Not a grade of this round."))
    for subject, direction in directions.items():
        if subject not in form.subjects:
            raise SelectionError("unknown_name", N_("%(name)s is not evaluated in this round."), name=subject)
        if not isinstance(direction, str) or direction not in form.directions:
            raise SelectionError("unknown_direction", N_("Not a direction of this round."))
    given = Counter(grades.values())
    for grade, limit in form.quota:
        if given[grade] > limit:
            raise SelectionError(
                "quota_exceeded", N_("At most %(n)s may be graded %(grade)s."), n=limit, grade=grade
            )
    ballot: dict[str, Any] = {"round": form.id, "grades": {s: grades[s] for s in form.subjects if s in grades}}
    if form.directions:
        ballot["directions"] = {s: directions[s] for s in form.subjects if s in directions}
    return ballot


def _decide(form: RoundForm, sel: dict[str, Any]) -> dict[str, Any]:
    votes = _obj(sel.get("votes"), form.id)
    for nominee, choice in votes.items():
        if nominee not in form.nominees:
            raise SelectionError("unknown_name", N_("%(name)s is not a nominee in this round."), name=nominee)
        if choice not in DECIDE_CHOICES:
            raise SelectionError("bad_choice", N_("Choose agree, disagree or abstain."))
    if form.seats is not None and sum(1 for c in votes.values() if c == "agree") > form.seats:
        raise SelectionError("over_vote", N_("Agree with at most %(n)s nominees."), n=form.seats)
    return {"round": form.id, "votes": {n: votes[n] for n in form.nominees if n in votes}}


def ballot_line(form: RoundForm, selection: Any) -> dict[str, Any]:
    """The CONTRACT.md ballot line for this round, or `SelectionError`."""
    sel = _obj(selection, form.id)
    allowed = {"recommend": {"sections"}, "evaluate": {"grades", "directions"}, "decide": {"votes"}}.get(form.kind)
    if allowed is None:
        raise SelectionError("unknown_round", N_("This round is not voted on at a kiosk."))
    if set(sel) - allowed:
        raise SelectionError("malformed", N_("The selection for %(what)s is not well formed."), what=form.title)
    if form.kind == "recommend":
        return _recommend(form, sel)
    if form.kind == "evaluate":
        return _evaluate(form, sel)
    return _decide(form, sel)

