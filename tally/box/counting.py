"""Counting a closed round (计票): open the box, count by the rules engine, sign the result.

Counting a secret round needs the scrutineers' passphrase: the round key is unwrapped, every
envelope is verified again and opened, the plaintext ballots are stored with random ids and no
link to their envelopes, and the rules engine (`tally.rules`, the same one as `tally count`)
computes the result, which the tally signs. Judge scores were opened at intake; a composite is
computed from the results of the rounds it draws on.
"""
from __future__ import annotations

import json
import secrets
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from keys.document import sign_document
from keys.envelope import open_envelope, parse_envelope, verify_envelope
from keys.errors import KeysError
from keys.identity import Identity
from tally.box.rounds import get_round
from tally.errors import ApiError
from tally.judging import scoring
from tally.rules import Attendance, BallotInputError, MissingComponent, Plan, new_counter, parse_ballot
from tally.setup.custody import CustodyError, unwrap_round_key
from tally.setup.meeting import MeetingInfo
from tally.store import audit
from tally.store.models import Ballot, Envelope, Kiosk, Round


def attendance(rnd: Round) -> Attendance:
    return Attendance(expected=rnd.expected, present=rnd.present, issued=rnd.issued)


def count_round(s: Session, info: MeetingInfo, identity: Identity, round_id: str, custody_secret: str | None) -> Round:
    """Count a closed round (or compute a composite) and sign its result; refused once counted."""
    rnd = get_round(s, round_id, lock=True)
    if rnd.status == "counted":
        raise ApiError(409, "round_counted", "This round has already been counted; results never change.")
    kind = rnd.round_kind
    if kind.takes_ballots and rnd.status != "closed":
        raise ApiError(409, "round_not_closed", "Close the round before counting it.")
    if kind.opened_at_intake:
        result = count_scores(s, info.plan, rnd)
    elif kind.secret:
        result = count_sealed(s, info.plan, rnd, custody_secret or "")
    else:
        result = compute(s, info.plan, rnd)
    signed = sign_document(identity, {"meeting": info.id, "round": round_id, "chain_head": rnd.chain_head,
                                      "result": result})
    # Order is data (CONTRACT.md): grades, items, directions and components stay in the meeting
    # file's order, so the stored document keeps the engine's key order; never sort_keys here.
    rnd.result_json = json.dumps(result, ensure_ascii=False)
    rnd.result_sig = json.dumps(signed, ensure_ascii=False, sort_keys=True)
    rnd.status = "counted"
    audit.record(s, "chair", "round_counted", round=round_id, chain_head=rnd.chain_head)
    return rnd


def count_sealed(s: Session, plan: Plan, rnd: Round, custody_secret: str) -> dict[str, Any]:
    """A secret round (recommend, evaluate, decide): unwrap its key, verify and open every envelope,
    store the plaintext ballots under random ids with no link to their envelopes, count."""
    try:
        key = unwrap_round_key(rnd.wrapped_private, custody_secret)
    except CustodyError as exc:
        raise ApiError(403, "wrong_passphrase", "The scrutineers' passphrase does not open this round.") from exc
    kiosks = {k.id: k.public_key for k in s.scalars(select(Kiosk))}
    counter = new_counter(plan.round(rnd.id))
    ballots: list[tuple[str, str]] = []
    for env in s.scalars(select(Envelope).where(Envelope.round_id == rnd.id).order_by(Envelope.id)):
        ballot: dict[str, Any]
        try:
            header = parse_envelope(json.loads(env.body))
            verify_envelope(header, kiosks[env.kiosk_id])
            ballot = open_envelope(header, key)
            parsed = parse_ballot(plan, ballot)
        except (KeysError, BallotInputError, KeyError, ValueError):
            # Accepted but unreadable: it was returned, so it counts as an invalid ballot.
            ballot = {"round": rnd.id, "invalid": True}
            parsed = parse_ballot(plan, ballot)
        counter.add(parsed)
        ballots.append((secrets.token_hex(16), json.dumps(ballot, ensure_ascii=False, sort_keys=True)))
    for ballot_id, content in sorted(ballots):
        s.add(Ballot(id=ballot_id, round_id=rnd.id, content=content))
    return counter.result(attendance(rnd), resolved=None)


def count_scores(s: Session, plan: Plan, rnd: Round) -> dict[str, Any]:
    """A judges' round: the scores were opened at intake; the active version of each seat's score counts."""
    counter = new_counter(plan.round(rnd.id))
    for line in scoring.score_lines(s, rnd.id):
        counter.add(parse_ballot(plan, line))
        s.add(Ballot(id=secrets.token_hex(16), round_id=rnd.id, content=json.dumps(line, ensure_ascii=False, sort_keys=True)))
    return counter.result(None, resolved=None)


def compute(s: Session, plan: Plan, rnd: Round) -> dict[str, Any]:
    """A composite: computed from the counted results of the rounds it draws on."""
    resolved = {r.id: json.loads(r.result_json) for r in s.scalars(select(Round)) if r.result_json is not None}
    try:
        return new_counter(plan.round(rnd.id)).result(None, resolved=resolved)
    except MissingComponent as exc:
        raise ApiError(409, "components_not_counted",
                       "Count the rounds this composite draws from before computing it.") from exc


def results_document(s: Session, info: MeetingInfo) -> dict[str, Any]:
    """The counted rounds in the shape of `tally count --json`."""
    rounds = [json.loads(r.result_json) for r in s.scalars(select(Round).order_by(Round.position))
              if r.result_json is not None]
    return {"meeting": {"title": info.title}, "rounds": rounds}
