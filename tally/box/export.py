"""Exports of a closed round for the auditor (审计): plaintext ballots, the meeting file, the box.

- `meeting.yaml`: the plan with this round's live 应到/实到/发出 written in, so that
  `tally count meeting.yaml ballots.jsonl` reproduces the published result.
- `ballots.jsonl`: the opened ballots in CONTRACT.md's format, in random-id order.
- `envelopes.jsonl` and `public.json`: the sealed ballot box in chain order and the public keys,
  for `keys verify-box` (signatures and chain, with nothing but public keys).

A composite takes no ballots of its own: its export is the rounds it draws on (meeting file,
ballots, boxes), with the composite itself in the meeting file and in public.json (an empty box:
its head is its genesis), so that `tally count` over the export recomputes the composite and
every component from the ballots.
"""
from __future__ import annotations

import json
from typing import Any

import yaml
from sqlalchemy import select
from sqlalchemy.orm import Session

from keys.canonical import b64e
from keys.chain import genesis
from tally.errors import ApiError
from tally.plan import dump_plan
from tally.rules import Attendance, CompositeRound
from tally.setup.meeting import MeetingInfo
from tally.store.models import Ballot, Envelope, Kiosk, Meeting, Round


def chain_order(envelopes: list[Envelope], genesis: str) -> list[Envelope]:
    by_prev = {e.prev_hash: e for e in envelopes}
    out, head = [], genesis
    while head in by_prev:
        e = by_prev.pop(head)
        out.append(e)
        head = e.entry_hash
    return out


def meeting_with_attendance(info: MeetingInfo, rounds: dict[str, Round]) -> dict[str, Any]:
    """The meeting file of the plan, with each opened round's live 应到/实到/发出 written in."""
    live = {r.id: Attendance(expected=r.expected, present=r.present, issued=r.issued)
            for r in rounds.values() if r.round_kind.has_attendance and r.present is not None}
    return dump_plan(info.plan, live)


def sources(info: MeetingInfo, round_id: str) -> list[str]:
    """The rounds an export of this round holds, in the meeting file's order: the round itself,
    and for a composite the rounds its components draw on."""
    plan = info.plan.round(round_id)
    wanted = {round_id}
    if isinstance(plan, CompositeRound):
        wanted |= {c.round for c in plan.components if c.round is not None}
    return [r.id for r in info.plan.rounds if r.id in wanted]


def export_round(s: Session, info: MeetingInfo, round_id: str) -> dict[str, Any]:
    rnd = s.get(Round, round_id)
    if rnd is None:
        raise ApiError(404, "unknown_round", "There is no such round in this meeting.")
    if rnd.status != "counted":
        raise ApiError(409, "round_not_counted", "Only a counted round can be exported: count it first.")

    rounds = {r.id: r for r in s.scalars(select(Round))}
    included = sources(info, round_id)
    raw = meeting_with_attendance(info, rounds)
    # Only these rounds: a round not opened yet has no 实到, and `tally count` refuses a file without it.
    raw["rounds"] = [r for r in raw["rounds"] if r["id"] in included]
    ballots: list[str] = []
    envs: list[tuple[str, Envelope]] = []
    for rid in included:
        ballots += [b.content for b in s.scalars(select(Ballot).where(Ballot.round_id == rid).order_by(Ballot.id))]
        box = list(s.scalars(select(Envelope).where(Envelope.round_id == rid)))
        envs += [(rid, e) for e in chain_order(box, genesis(info.id, rid))]
    kiosks = {k.id: b64e(k.public_key) for k in s.scalars(select(Kiosk))}
    m = s.scalars(select(Meeting)).one()
    public = {"meeting": info.id, "tally_public_key": b64e(m.tally_public_key), "kiosks": kiosks,
              "rounds": {rid: {"head": rounds[rid].chain_head, "count": rounds[rid].accepted} for rid in included}}
    return {
        "meeting_yaml": yaml.safe_dump(raw, allow_unicode=True, sort_keys=False),
        "ballots_jsonl": "".join(b + "\n" for b in ballots),
        "envelopes_jsonl": "".join(json.dumps({"round": rid, "body": json.loads(e.body), "entry": e.entry_hash},
                                              sort_keys=True, ensure_ascii=False) + "\n" for rid, e in envs),
        "public_json": json.dumps(public, indent=2, sort_keys=True),
        "result_signed": json.loads(rnd.result_sig) if rnd.result_sig else None,
    }
