"""The ballot forms a kiosk shows: the open rounds, in the meeting file's own words, with keys, signed.

Only what a voter's screen needs: names, seats, grades, the round's public sealing key, and the
round's ballot size (every sealed ballot of the round is padded to exactly that many bytes). No
counts, no attendance. Built from the parsed plan, so every default (grades, seats) is the plan's
own. The tally signs each round's form (`keys.document`, label `scrutineer/form/v1`) with its
signing key; a kiosk shows only a form that verifies under the tally key it pinned at pairing, so
nobody on the hall network can swap a round's key, a name or a rule.
"""
from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from keys import labels
from keys.canonical import b64e, canonical
from keys.document import sign_document
from keys.identity import Identity
from keys.limits import MAX_CHAR_BYTES, MAX_WRITE_IN
from tally.rules import DecideRound, EvaluateRound, RecommendRound, RoundPlan, ScoreRound
from tally.setup.meeting import MeetingInfo
from tally.store.models import Round

# A written-in name at its longest, as wide as canonical JSON can spell it (keys.limits).
_WRITE_IN = "x" * (MAX_WRITE_IN * MAX_CHAR_BYTES)
# A score as a judge's pad can type it (sign, six digits, point, six decimals), with room to spare.
_SCORE = "x" * 16
_WIDEST_CHOICE = "disagree"


def _widest(names: Iterable[str]) -> str:
    return max(names, key=lambda n: len(canonical(n)), default="")


def largest_ballot(rp: RoundPlan) -> dict[str, Any] | None:
    """A ballot line at least as long as any ballot a kiosk can seal for this round: every
    candidate of every post plus `seats` write-ins at their longest (so an over-vote still fits,
    and the count marks it invalid), every grade of the round for every subject and the widest
    direction, the widest choice for every nominee; a judge's score line with the widest
    contestant. None for a round that takes no ballots."""
    if isinstance(rp, RecommendRound):
        return {"round": rp.id, "sections": {
            p.id: list(p.candidates) + ([_WRITE_IN] * p.seats if p.write_in else []) for p in rp.posts}}
    if isinstance(rp, EvaluateRound):
        ballot: dict[str, Any] = {"round": rp.id, "grades": {s: list(rp.grades) for s in rp.subjects}}
        if rp.directions:
            ballot["directions"] = dict.fromkeys(rp.subjects, _widest(rp.directions))
        return ballot
    if isinstance(rp, DecideRound):
        return {"round": rp.id, "votes": dict.fromkeys(rp.nominees, _WIDEST_CHOICE)}
    if isinstance(rp, ScoreRound):
        return {"round": rp.id, "judge": "J" + "9" * max(2, len(str(rp.judges))),
                "contestant": _widest(rp.contestants), "score": _SCORE}
    return None


def ballot_size(rp: RoundPlan) -> int | None:
    """The one length (bytes of padded plaintext) of every sealed ballot of this round."""
    largest = largest_ballot(rp)
    return None if largest is None else len(canonical(largest))


def _signed(info: MeetingInfo, identity: Identity, form: dict[str, Any]) -> dict[str, Any]:
    """The form with the meeting inside the signature, plus `signed`: the kiosk reads only that."""
    doc = {**form, "meeting": info.id, "meeting_title": info.title}
    return {**doc, "signed": sign_document(identity, doc, labels.FORM)}


def round_form(info: MeetingInfo, identity: Identity, rnd: Round) -> dict[str, Any]:
    """The signed form of one ballot round (recommend, evaluate or decide)."""
    rp = info.plan.round(rnd.id)
    form: dict[str, Any] = {"id": rnd.id, "kind": rnd.kind, "title": rnd.title, "public_key": b64e(rnd.public_key),
                            "ballot_size": ballot_size(rp)}
    if isinstance(rp, RecommendRound):
        form["posts"] = [{"id": p.id, "title": p.title or p.id, "seats": p.seats,
                          "candidates": list(p.candidates), "write_in": p.write_in} for p in rp.posts]
    elif isinstance(rp, EvaluateRound):
        form["subjects"] = list(rp.subjects)
        form["grades"] = list(rp.grades)
        form["directions"] = list(rp.directions)
        form["quota"] = dict(rp.quota)
    elif isinstance(rp, DecideRound):
        form["nominees"] = list(rp.nominees)
        form["seats"] = rp.seats
    return _signed(info, identity, form)


def ballot_forms(info: MeetingInfo, identity: Identity, rounds: Iterable[Round]) -> list[dict[str, Any]]:
    """The signed forms of the ballot rounds among `rounds` (voters' rounds only; judges follow `/judging`)."""
    return [round_form(info, identity, r) for r in rounds if r.round_kind.takes_cards]


def score_form(info: MeetingInfo, identity: Identity, rnd: Round, plan: ScoreRound) -> dict[str, Any]:
    """The signed, unchanging part of an open score round as a judge's pad seals to it: key,
    panel size, range and step, the contestants, ballot size. Who is being scored changes and
    travels beside it (a kiosk takes it only if it is one of the signed contestants)."""
    return _signed(info, identity, {
        "id": rnd.id, "kind": rnd.kind, "title": rnd.title, "public_key": b64e(rnd.public_key),
        "judges": plan.judges, "min": str(plan.min), "max": str(plan.max), "step": str(plan.step),
        "contestants": list(plan.contestants), "ballot_size": ballot_size(plan)})
