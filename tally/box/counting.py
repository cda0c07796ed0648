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
from tally.rules import Attendance, BallotInputError, MissingComponent, new_counter, parse_ballot
from tally.setup.custody import CustodyError, unwrap_round_key
from tally.setup.meeting import MeetingInfo
from tally.store import audit
from tally.store.models import Ballot, Envelope, Kiosk, Round


def attendance(rnd: Round) -> Attendance:
    return Attendance(expected=rnd.expected, present=rnd.present, issued=rnd.issued)


def count_round(s: Session, info: MeetingInfo, identity: Identity, round_id: str, custody_secret: str | None) -> Round:
    """Open a closed ballot round's envelopes and count them; idempotent refusal once counted."""
    rnd = get_round(s, round_id, lock=True)
    if rnd.status == "counted":
        raise ApiError(409, "round_counted", "This round has already been counted; results never change.")
    kind = rnd.round_kind
    if kind.takes_ballots and rnd.status != "closed":
        raise ApiError(409, "round_not_closed", "Close the round before counting it.")
    plan = info.plan
    if kind.opened_at_intake:
        # Judge scores were opened at intake; the active version of each seat's score counts.
        counter = new_counter(plan.round(round_id))
        for line in scoring.score_lines(s, round_id):
            counter.add(parse_ballot(plan, line))
            s.add(Ballot(id=secrets.token_hex(16), round_id=round_id, content=json.dumps(line, ensure_ascii=False, sort_keys=True)))
        result = counter.result(None, resolved=None)
    elif kind.secret:
        try:
            key = unwrap_round_key(rnd.wrapped_private, custody_secret or "")
        except CustodyError as exc:
            raise ApiError(403, "wrong_passphrase", "The scrutineers' passphrase does not open this round.") from exc
        kiosks = {k.id: k.public_key for k in s.scalars(select(Kiosk))}
        counter = new_counter(plan.round(round_id))
        ballots: list[tuple[str, str]] = []
        for env in s.scalars(select(Envelope).where(Envelope.round_id == round_id).order_by(Envelope.id)):
            ballot: dict[str, Any]
            try:
                header = parse_envelope(json.loads(env.body))
                verify_envelope(header, kiosks[env.kiosk_id])
                ballot = open_envelope(header, key)
                parsed = parse_ballot(plan, ballot)
            except (KeysError, BallotInputError, KeyError, ValueError):
                # Accepted but unreadable: it was returned, so it counts as an invalid ballot.
                ballot = {"round": round_id, "invalid": True}
                parsed = parse_ballot(plan, ballot)
            counter.add(parsed)
            ballots.append((secrets.token_hex(16), json.dumps(ballot, ensure_ascii=False, sort_keys=True)))
        for ballot_id, content in sorted(ballots):
            s.add(Ballot(id=ballot_id, round_id=round_id, content=content))
        result = counter.result(attendance(rnd), resolved=None)
    else:
        resolved = {r.id: json.loads(r.result_json) for r in s.scalars(select(Round).where(Round.result_json.is_not(None)))}
        counter = new_counter(plan.round(round_id))
        try:
            result = counter.result(None, resolved=resolved)
        except MissingComponent as exc:
            raise ApiError(409, "components_not_counted",
                           "Count the rounds this composite draws from before computing it.") from exc
    signed = sign_document(identity, {"meeting": info.id, "round": round_id, "chain_head": rnd.chain_head,
                                      "result": result})
    rnd.result_json = json.dumps(result, ensure_ascii=False, sort_keys=True)
    rnd.result_sig = json.dumps(signed, ensure_ascii=False, sort_keys=True)
    rnd.status = "counted"
    audit.record(s, "chair", "round_counted", round=round_id, chain_head=rnd.chain_head)
    return rnd


def results_document(s: Session, info: MeetingInfo) -> dict[str, Any]:
    """The counted rounds in the shape of `tally count --json`."""
    rounds = [json.loads(r.result_json) for r in s.scalars(select(Round).order_by(Round.position))
              if r.result_json is not None]
    return {"meeting": {"title": info.title}, "rounds": rounds}
