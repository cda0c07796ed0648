"""Counting a closed round (计票): open the box, count by the rules engine, sign the result.

A count trusts nothing it did not sign: the box is first held against the close record the tally
signed when the round closed (`tally.box.checking`: the chain recomputed from its genesis to the
recorded head with exactly the recorded count, the card list and desk-unlock keys as recorded,
each card once), and any difference stops the count with `box_tampered`, naming what is wrong,
and changes nothing (the caller's transaction rolls back). Counting a secret round needs k of
the n scrutineers' shares: the round key is joined in memory (`tally.setup.custody`), every
envelope's receipt and signatures are verified again and it is opened (`tally.box.opening`, the
same functions `tally count-box` uses offline); a ballot that does not open stops the count too.
The plaintext ballots are stored with random ids and no link to their envelopes, and the rules
engine (`tally.rules`, the same one as `tally count`) computes the result, which the tally signs
with the count of envelopes, the chain head and the audit log's head. The key is dropped when
the count ends; no share and no key is stored or logged. Judge scores were opened at intake;
their box is checked the same way and every envelope opened again against the score stored for
it. A composite is computed from the results of the rounds it draws on.
"""
from __future__ import annotations

import json
import secrets
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from keys.closing import find_close
from keys.document import sign_document
from keys.identity import Identity
from keys.sealing import RoundKey
from tally.box import checking
from tally.box.opening import OpenContext, count_ballots, open_box, readable, stored_result
from tally.box.rounds import get_round
from tally.errors import ApiError
from tally.hall import cards as credentials
from tally.judging import scoring
from tally.judging.panel import judge_card_history, parse_seat_label
from tally.rules import Attendance, MissingComponent, Plan, new_counter, parse_ballot
from tally.setup.custody import open_secret_round
from tally.setup.meeting import MeetingInfo
from tally.store import audit
from tally.store.models import Ballot, Envelope, JudgeSeat, Kiosk, Round, Score


def attendance(rnd: Round) -> Attendance:
    return Attendance(expected=rnd.expected, present=rnd.present, issued=rnd.issued)


def count_round(s: Session, info: MeetingInfo, identity: Identity, round_id: str,
                shares: list[str] | None = None, score_key: RoundKey | None = None) -> Round:
    """Count a closed round (or compute a composite) and sign its result; refused once counted.

    A secret round needs `shares`, the scrutineers' share texts: a wrong one is named and fewer
    than k are refused; a judges' round needs its `score_key` to open its envelopes again. A box
    that is not the one the round closed with is `box_tampered` (`tally.box.checking`). Any
    refusal changes nothing."""
    rnd = get_round(s, round_id, lock=True)
    if rnd.status == "counted":
        raise ApiError(409, "round_counted", "This round has already been counted; results never change.")
    kind = rnd.round_kind
    if kind.takes_ballots and rnd.status != "closed":
        raise ApiError(409, "round_not_closed", "Close the round before counting it.")
    detail: dict[str, Any] = {}
    if kind.opened_at_intake:
        if score_key is None:
            raise ValueError("a judges' round is counted with its score key")
        result = count_scores(s, info, identity, rnd, score_key)
    elif kind.secret:
        result, detail["scrutineers"] = count_sealed(s, info, identity, rnd, shares or [])
    else:
        result = compute(s, info.plan, rnd)
    # The audit log's head goes into the signature too: an entry edited or removed before this
    # count no longer chains up to the head the tally signed. So does the count of envelopes.
    signed = sign_document(identity, {"meeting": info.id, "round": round_id, "chain_head": rnd.chain_head,
                                      "count": rnd.accepted, "audit_head": audit.head(s), "result": result})
    rnd.result_json = stored_result(result)
    rnd.result_sig = json.dumps(signed, ensure_ascii=False, sort_keys=True)
    rnd.status = "counted"
    audit.record(s, "chair", "round_counted", round=round_id, chain_head=rnd.chain_head, **detail)
    return rnd


def _json(text: str) -> Any:
    """A stored JSON column as it parses, or its raw text (a count names the envelope, never crashes)."""
    try:
        return json.loads(text)
    except ValueError:
        return text


def stored_envelopes(s: Session, round_id: str) -> list[checking.Stored]:
    """Every envelope row of the round, in no particular order: the walk puts them in order."""
    q = select(Envelope.body, Envelope.prev_hash, Envelope.entry_hash, Envelope.receipt, Envelope.kiosk_id) \
        .where(Envelope.round_id == round_id)
    return [checking.Stored(body=_json(body), prev=prev, entry=entry, receipt=_json(receipt), kiosk_id=kiosk)
            for body, prev, entry, receipt, kiosk in s.execute(q)]


def checked_box(s: Session, info: MeetingInfo, identity: Identity,
                rnd: Round) -> tuple[list[checking.Placed], list[checking.Problem]]:
    """The round's envelopes in chain order, and what is wrong with the box held against the close
    record the tally signed (`tally.box.checking`, steps 1-4); `BoxTampered` at once without one.
    The problems are raised with those of opening (`open_box`), so one refusal names them all."""
    found = find_close(audit.lines(s, info.id), info.id, rnd.id, identity.public_bytes())
    record, problems = checking.close_problems(found, rnd.id, count=rnd.accepted, head=rnd.chain_head,
                                               present=rnd.present)
    if record is None:
        raise checking.BoxTampered(rnd.id, problems)
    desk = credentials.desk_keys(s, rnd.id)
    if rnd.round_kind.takes_cards:
        listed = credentials.list_document(s, info.id, check=False)
        problems += checking.card_list_problems(record, listed["fingerprint"] if listed else None, desk)
    placed, walked = checking.walk(info.id, rnd.id, stored_envelopes(s, rnd.id), record)
    if walked:
        walked += checking.receipt_problems(placed, identity.public_bytes(), info.id, rnd.id)
    problems += walked
    if rnd.round_kind.takes_cards:
        problems += checking.card_use_problems(placed, credentials.listed_keys(s, rnd.id), frozenset(desk))
    return placed, problems


def _context(s: Session, info: MeetingInfo, identity: Identity, rnd: Round, key: RoundKey) -> OpenContext:
    kiosks = {k.id: k.public_key for k in s.scalars(select(Kiosk))}
    return OpenContext(meeting=info.id, round_id=rnd.id, tally_public=identity.public_bytes(), kiosks=kiosks, key=key)


def count_sealed(s: Session, info: MeetingInfo, identity: Identity, rnd: Round,
                 shares: list[str]) -> tuple[dict[str, Any], list[int]]:
    """A secret round (recommend, evaluate, decide): check the box against its close record, join
    its key from the shares, verify and open every envelope, store the plaintext ballots under
    random ids with no link to their envelopes, count. Returns the result and the numbers of the
    scrutineers whose shares opened it."""
    placed, problems = checked_box(s, info, identity, rnd)
    key, scrutineers = open_secret_round(s, info.id, rnd, shares)
    try:
        opened = open_box(_context(s, info, identity, rnd, key), placed, problems)
    finally:
        del key
    ballots = [readable(info.plan, rnd.id, b) for b in opened]
    for content in sorted(json.dumps(b, ensure_ascii=False, sort_keys=True) for b in ballots):
        s.add(Ballot(id=secrets.token_hex(16), round_id=rnd.id, content=content))
    return count_ballots(info.plan, rnd.id, ballots, attendance(rnd)), scrutineers


def count_scores(s: Session, info: MeetingInfo, identity: Identity, rnd: Round, key: RoundKey) -> dict[str, Any]:
    """A judges' round: the scores were opened at intake. The box is checked against its close
    record and every envelope opened again: each must be the score stored for it (seat,
    contestant, value), from a judge card issued to that seat; then the active version of each
    seat's score counts."""
    placed, problems = checked_box(s, info, identity, rnd)
    issued = judge_card_history(audit.lines(s, info.id), rnd.id)
    issued.update({k: n for k, n in s.execute(select(JudgeSeat.card_public, JudgeSeat.seat)
                                              .where(JudgeSeat.round_id == rnd.id)) if k is not None})
    problems += checking.judge_card_problems(placed, issued)
    opened = open_box(_context(s, info, identity, rnd, key), placed, problems)
    problems = []
    stored = {row.envelope_hash: row for row in s.scalars(select(Score).where(Score.round_id == rnd.id))}
    for item, ballot in zip(placed, opened, strict=True):
        row = stored.pop(item.header.envelope_hash, None)
        where = {"position": item.position, "code": item.code}
        if row is None:
            problems.append((checking.N_("Envelope %(position)s (receipt %(code)s) holds a judge's score that the "
                                         "tally does not have: its score was deleted."), where))
        elif (parse_seat_label(ballot.get("judge")) != row.seat or issued[item.header.card_public] != row.seat
              or ballot.get("contestant") != row.contestant or not _same_score(ballot.get("score"), row.value)):
            problems.append((checking.N_("Envelope %(position)s (receipt %(code)s): the score stored for it is not "
                                         "the one the judge sealed: the scores were edited."), where))
    problems += [(checking.N_("A score of seat %(seat)s for %(contestant)s has no envelope in the box: it was "
                              "inserted."), {"seat": row.seat, "contestant": row.contestant})
                 for row in stored.values()]
    if problems:
        raise checking.BoxTampered(rnd.id, problems)
    counter = new_counter(info.plan.round(rnd.id))
    for line in scoring.score_lines(s, rnd.id):
        counter.add(parse_ballot(info.plan, line))
        s.add(Ballot(id=secrets.token_hex(16), round_id=rnd.id, content=json.dumps(line, ensure_ascii=False, sort_keys=True)))
    return counter.result(None, resolved=None)


def _same_score(sealed: Any, stored: str) -> bool:
    try:
        return Decimal(str(sealed)) == Decimal(stored)
    except (InvalidOperation, ValueError):
        return False


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
