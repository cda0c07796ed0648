"""Exports of a closed round (审计): the sealed box the scrutineers can count without the tally,
and, once counted, the plaintext ballots.

- `meeting.yaml`: the plan with this round's live 应到/实到/发出 written in, so that
  `tally count meeting.yaml ballots.jsonl` reproduces the published result.
- `envelopes.jsonl` and `public.json`: the sealed ballot box and the public keys (kiosks, the
  tally, the round's kind, head and count, the keys kiosks made for desk unlocks, a score
  round's judge cards by seat and its number of contestants), for `keys verify-box`. Every
  envelope row is written, with its `prev`, `entry` and the tally's `receipt`: first the chain
  from its genesis in chain order, then any row the chain does not reach, marked
  `"outside": true` (never a silent stop at the first gap).
- `credentials.json`: the scrutineers' ballot card list as imported; `meeting-record.json`: the
  public meeting record of set-up.
- `key.json` (a secret round): the round's public key, its key wrapped under the round secret
  and the share commitments, so that k scrutineers' shares open it on any machine
  (`tally count-box`); it opens nothing without them.
- `receipts.json`: the published box (`tally.box.published`), for `keys check-receipts`.
- `audit.jsonl`: the audit log in chain order, each line with its `prev` and `entry`, for
  `keys verify-box` to walk from its genesis.
- once counted: `ballots.jsonl` (the opened ballots in CONTRACT.md's format, in random-id
  order) and `result.signed.json` (the tally's signed result, with the audit log's head).

A composite takes no ballots of its own: once counted, its export is the rounds it draws on
(their meeting file entries, boxes, card lists, opened ballots), with the composite itself in the
meeting file and in public.json (an empty box: its head is its genesis) and its signed result, so
that `tally count` over the export recomputes the composite and every component; its
`receipts.json` is the list of the published boxes of the ballot rounds it draws on.
"""
from __future__ import annotations

import json
from typing import Any

import yaml
from sqlalchemy import select
from sqlalchemy.orm import Session

from keys.canonical import b64e
from keys.chain import genesis
from keys.shares import custody_doc
from tally.box import published
from tally.errors import ApiError
from tally.hall import cards as credentials
from tally.plan import dump_plan
from tally.rules import Attendance, CompositeRound
from tally.setup.custody import round_custody
from tally.setup.meeting import MeetingInfo, meeting_record
from tally.store import audit
from tally.store.models import Ballot, Envelope, JudgeSeat, Kiosk, Meeting, Round


def chain_order(envelopes: list[Envelope], genesis: str) -> tuple[list[Envelope], list[Envelope]]:
    """The envelopes in chain order from `genesis`, following each one's stored `prev`; then the
    rows the chain does not reach (after a deletion, an insertion or an edit of a link), each
    piece of chain among them in its own order, the rest by id."""
    by_prev: dict[str, list[Envelope]] = {}
    for e in sorted(envelopes, key=lambda e: e.id):
        by_prev.setdefault(e.prev_hash, []).append(e)

    def follow(head: str) -> list[Envelope]:
        out = []
        while by_prev.get(head):
            e = by_prev[head].pop(0)
            out.append(e)
            head = e.entry_hash
        return out

    chain = follow(genesis)
    outside: list[Envelope] = []
    while True:
        left = [e for group in by_prev.values() for e in group]
        if not left:
            break
        entries = {e.entry_hash for e in left}
        starts = sorted((e for e in left if e.prev_hash not in entries), key=lambda e: e.id) or [left[0]]
        outside += follow(starts[0].prev_hash)
    return chain, outside


def _json_or_text(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return text


def envelope_lines(s: Session, meeting_id: str, round_id: str) -> str:
    """`envelopes.jsonl` for one round: every envelope row, whatever was done to the table. Those
    on the chain from its genesis come first, in chain order; the rows it does not reach follow,
    marked `"outside": true`. Each line: round, body, prev, entry, and the tally's receipt."""
    chain, outside = chain_order(list(s.scalars(select(Envelope).where(Envelope.round_id == round_id))),
                                 genesis(meeting_id, round_id))

    def line(e: Envelope, off: bool) -> str:
        doc: dict[str, Any] = {"round": round_id, "body": _json_or_text(e.body), "prev": e.prev_hash,
                               "entry": e.entry_hash, "receipt": _json_or_text(e.receipt)}
        if off:
            doc["outside"] = True
        return json.dumps(doc, sort_keys=True, ensure_ascii=False) + "\n"

    return "".join([line(e, False) for e in chain] + [line(e, True) for e in outside])


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
    """A closed (or counted) ballot round's export, as text files by name."""
    rnd = s.get(Round, round_id)
    if rnd is None:
        raise ApiError(404, "unknown_round", "There is no such round in this meeting.")
    computed = rnd.round_kind.computed
    if computed and rnd.status != "counted":
        raise ApiError(409, "round_not_counted", "A composite is exported once computed, with the rounds it draws on.")
    if rnd.status not in ("closed", "counted"):
        raise ApiError(409, "round_not_closed", "Only a closed ballot round can be exported.")

    rounds = {r.id: r for r in s.scalars(select(Round))}
    included = sources(info, round_id)
    raw = meeting_with_attendance(info, rounds)
    # Only these rounds: a round not opened yet has no 实到, and `tally count` refuses a file without it.
    raw["rounds"] = [r for r in raw["rounds"] if r["id"] in included]
    kiosks = {k.id: b64e(k.public_key) for k in s.scalars(select(Kiosk))}
    m = s.scalars(select(Meeting)).one()
    public: dict[str, Any] = {
        "meeting": info.id, "tally_public_key": b64e(m.tally_public_key), "kiosks": kiosks,
        "rounds": {rid: {"head": rounds[rid].chain_head, "count": rounds[rid].accepted, "kind": rounds[rid].kind}
                   for rid in included}}
    envelopes: list[str] = []
    for rid in included:
        box = rounds[rid]
        envelopes.append(envelope_lines(s, info.id, rid))
        if box.round_kind.takes_cards:
            public.setdefault("desk_cards", {})[rid] = credentials.desk_cards(s, rid)
        if box.round_kind.opened_at_intake:
            seats = {n: k for n, k in s.execute(select(JudgeSeat.seat, JudgeSeat.card_public)
                                                .where(JudgeSeat.round_id == rid)) if k is not None}
            public.setdefault("judge_cards", {})[rid] = sorted(b64e(k) for k in seats.values())
            # Each seat's card now (earlier cards of a seat are in the audit log), and how many
            # contestants there are: `keys verify-box` checks one envelope per seat and contestant.
            public.setdefault("judge_seats", {})[rid] = {str(n): b64e(k) for n, k in sorted(seats.items())}
            public["rounds"][rid]["contestants"] = len(getattr(info.plan.round(rid), "contestants", ()))
    # One box for a ballot round; for a composite, the boxes of the ballot rounds it draws on.
    receipts: Any = (published.box(s, info, round_id) if not computed else
                     [published.box(s, info, rid) for rid in included if rounds[rid].round_kind.takes_ballots])
    files: dict[str, str] = {
        "meeting.yaml": yaml.safe_dump(raw, allow_unicode=True, sort_keys=False),
        "envelopes.jsonl": "".join(envelopes),
        "public.json": json.dumps(public, indent=2, sort_keys=True),
        "meeting-record.json": json.dumps(meeting_record(s), ensure_ascii=False, indent=1) + "\n",
        "receipts.json": json.dumps(receipts, indent=2, sort_keys=True),
        "audit.jsonl": "".join(json.dumps(line, ensure_ascii=False, sort_keys=True) + "\n"
                               for line in audit.lines(s, info.id)),
    }
    # As the card rows give it now: a list changed behind the tally's back is exported as it is,
    # for `keys verify-box` to hold against the close record and the scrutineers' own copy.
    card_list = credentials.list_document(s, info.id, check=False)
    if card_list is not None and any(rounds[rid].round_kind.takes_cards for rid in included):
        files["credentials.json"] = json.dumps(card_list, ensure_ascii=False, indent=1) + "\n"
    if rnd.secret and rnd.share_commitments is not None:
        files["key.json"] = json.dumps(custody_doc(info.id, round_custody(s, rnd)), indent=1) + "\n"
    if rnd.status == "counted":
        ballots = [b.content for rid in included
                   for b in s.scalars(select(Ballot).where(Ballot.round_id == rid).order_by(Ballot.id))]
        files["ballots.jsonl"] = "".join(b + "\n" for b in ballots)
        if rnd.result_sig:
            files["result.signed.json"] = json.dumps(json.loads(rnd.result_sig), ensure_ascii=False, indent=2,
                                                     sort_keys=True)
    return {"files": files}
