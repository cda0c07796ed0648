"""Counting a closed round (计票): open the box, count by the rules engine, sign the result.

Counting a secret round needs k of the n scrutineers' shares: the round key is joined in memory
(`tally.setup.custody`), every envelope is verified again and opened (`tally.box.opening`, the
same function `tally count-box` uses offline), the plaintext ballots are stored with random ids
and no link to their envelopes, and the rules engine (`tally.rules`, the same one as `tally
count`) computes the result, which the tally signs. The key is dropped when the count ends; no
share and no key is stored or logged. Judge scores were opened at intake; a composite is
computed from the results of the rounds it draws on.
"""
from __future__ import annotations

import json
import secrets
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from keys.document import sign_document
from keys.identity import Identity
from tally.box.opening import count_ballots, open_box, stored_result
from tally.box.rounds import get_round
from tally.errors import ApiError
from tally.judging import scoring
from tally.rules import Attendance, MissingComponent, Plan, new_counter, parse_ballot
from tally.setup.custody import open_secret_round
from tally.setup.meeting import MeetingInfo
from tally.store import audit
from tally.store.models import Ballot, Envelope, Kiosk, Round


def attendance(rnd: Round) -> Attendance:
    return Attendance(expected=rnd.expected, present=rnd.present, issued=rnd.issued)


def count_round(s: Session, info: MeetingInfo, identity: Identity, round_id: str,
                shares: list[str] | None = None) -> Round:
    """Count a closed round (or compute a composite) and sign its result; refused once counted.

    A secret round needs `shares`, the scrutineers' share texts: a wrong one is named and fewer
    than k are refused, and then nothing changes."""
    rnd = get_round(s, round_id, lock=True)
    if rnd.status == "counted":
        raise ApiError(409, "round_counted", "This round has already been counted; results never change.")
    kind = rnd.round_kind
    if kind.takes_ballots and rnd.status != "closed":
        raise ApiError(409, "round_not_closed", "Close the round before counting it.")
    detail: dict[str, Any] = {}
    if kind.opened_at_intake:
        result = count_scores(s, info.plan, rnd)
    elif kind.secret:
        result, detail["scrutineers"] = count_sealed(s, info, rnd, shares or [])
    else:
        result = compute(s, info.plan, rnd)
    signed = sign_document(identity, {"meeting": info.id, "round": round_id, "chain_head": rnd.chain_head,
                                      "result": result})
    rnd.result_json = stored_result(result)
    rnd.result_sig = json.dumps(signed, ensure_ascii=False, sort_keys=True)
    rnd.status = "counted"
    audit.record(s, "chair", "round_counted", round=round_id, chain_head=rnd.chain_head, **detail)
    return rnd


def count_sealed(s: Session, info: MeetingInfo, rnd: Round, shares: list[str]) -> tuple[dict[str, Any], list[int]]:
    """A secret round (recommend, evaluate, decide): join its key from the shares, verify and open
    every envelope, store the plaintext ballots under random ids with no link to their envelopes,
    count. Returns the result and the numbers of the scrutineers whose shares opened it."""
    key, scrutineers = open_secret_round(s, info.id, rnd, shares)
    kiosks = {k.id: k.public_key for k in s.scalars(select(Kiosk))}
    envelopes = [(json.loads(env.body), kiosks.get(env.kiosk_id))
                 for env in s.scalars(select(Envelope).where(Envelope.round_id == rnd.id).order_by(Envelope.id))]
    ballots = open_box(info.plan, rnd.id, key, envelopes)
    del key
    for content in sorted(json.dumps(b, ensure_ascii=False, sort_keys=True) for b in ballots):
        s.add(Ballot(id=secrets.token_hex(16), round_id=rnd.id, content=content))
    return count_ballots(info.plan, rnd.id, ballots, attendance(rnd)), scrutineers


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
