"""Exports of a closed round for the auditor (审计): plaintext ballots, the meeting file, the box.

- `meeting.yaml`: the plan with this round's live 应到/实到/发出 written in, so that
  `tally count meeting.yaml ballots.jsonl` reproduces the published result.
- `ballots.jsonl`: the opened ballots in CONTRACT.md's format, in random-id order.
- `envelopes.jsonl` and `public.json`: the sealed ballot box in chain order and the public keys,
  for `keys verify-box` (signatures and chain, with nothing but public keys).
- `receipts.json`: the published box (`tally.box.published`), for `keys check-receipts`.
- `audit.jsonl`: the audit log in chain order, each line with its `prev` and `entry`, for
  `keys verify-box` to walk from its genesis.
"""
from __future__ import annotations

import json
from typing import Any

import yaml
from sqlalchemy import select
from sqlalchemy.orm import Session

from keys.canonical import b64e
from keys.chain import genesis
from tally.box import published
from tally.errors import ApiError
from tally.plan import dump_plan
from tally.rules import Attendance
from tally.setup.meeting import MeetingInfo
from tally.store import audit
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


def export_round(s: Session, info: MeetingInfo, round_id: str) -> dict[str, Any]:
    rnd = s.get(Round, round_id)
    if rnd is None:
        raise ApiError(404, "unknown_round", "There is no such round in this meeting.")
    if rnd.status != "counted" or not rnd.round_kind.takes_ballots:
        raise ApiError(409, "round_not_counted", "Only a counted ballot round can be exported.")

    rounds = {r.id: r for r in s.scalars(select(Round))}
    raw = meeting_with_attendance(info, rounds)
    # Only this round: a round not opened yet has no 实到, and `tally count` refuses a file without it.
    raw["rounds"] = [r for r in raw["rounds"] if r["id"] == round_id]
    ballots = [b.content for b in s.scalars(select(Ballot).where(Ballot.round_id == round_id).order_by(Ballot.id))]
    envs = chain_order(list(s.scalars(select(Envelope).where(Envelope.round_id == round_id))), genesis(info.id, round_id))
    kiosks = {k.id: b64e(k.public_key) for k in s.scalars(select(Kiosk))}
    m = s.scalars(select(Meeting)).one()
    public = {"meeting": info.id, "tally_public_key": b64e(m.tally_public_key), "kiosks": kiosks,
              "rounds": {round_id: {"head": rnd.chain_head, "count": rnd.accepted}}}
    return {
        "meeting_yaml": yaml.safe_dump(raw, allow_unicode=True, sort_keys=False),
        "ballots_jsonl": "".join(b + "\n" for b in ballots),
        "envelopes_jsonl": "".join(json.dumps({"round": round_id, "body": json.loads(e.body), "entry": e.entry_hash},
                                              sort_keys=True, ensure_ascii=False) + "\n" for e in envs),
        "public_json": json.dumps(public, indent=2, sort_keys=True),
        "result_signed": json.loads(rnd.result_sig) if rnd.result_sig else None,
        "receipts_json": json.dumps(published.box(s, info, round_id), indent=2, sort_keys=True),
        "audit_jsonl": "".join(json.dumps(line, ensure_ascii=False, sort_keys=True) + "\n"
                               for line in audit.lines(s, info.id)),
    }
