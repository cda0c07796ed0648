"""The box as the count finds it (验箱): held against the close record, trusting nothing else.

A count never believes the round's row, the envelope rows' own links or the card rows. It holds
the box against the close record the tally signed when the round closed (`keys.closing`, in the
close's audit entry), which nobody can rewrite without the tally's key:

1. `close_problems`: exactly one close record of this round, signed by the tally's key, chained
   right after the audit head it names; the round's row agrees with it (count, head, 实到).
2. `card_list_problems`: the card rows give the card list fingerprint recorded at the close, and
   the round's desk-unlock keys are the ones recorded (number and digest).
3. `walk`: the chain from its genesis, following each envelope's `prev`, every entry recomputed
   from the envelope's own bytes; it ends at the recorded head with exactly the recorded count,
   and nothing is left outside it (a deletion leaves the envelopes after it outside).
4. `card_use_problems` / `judge_card_problems`: each ballot's card is in this round's list (or a
   desk-unlock key) and used once; each judge's envelope is signed by a seat's judge card.

When the chain is wrong, `receipt_problems` says where: each envelope's receipt names the entry
it was accepted at. Then `tally.box.opening.open_one` checks each envelope's signatures and seal.
Any problem stops the count with `box_tampered` (`BoxTampered`): nothing is stored and the round
stays closed. Each problem is a msgid with its parameters, naming the envelope by its position in the
chain (1 is the first accepted) and its receipt code (what its kiosk and voter hold), and saying
what was expected; the web layer and `tally count-box` translate the same msgids.

Pure: no database, no Flask, no clock. The live count (`tally.box.counting`) reads the rows,
`tally count-box` the export's lines; both call these functions.
"""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from keys.chain import genesis, next_entry
from keys.closing import CloseRecord, Found, desk_digest
from keys.envelope import EnvelopeHeader, parse_envelope, verify_receipt
from keys.errors import BadEnvelope, BadReceipt, Malformed
from keys.ids import check_hash
from tally.errors import ApiError

Problem = tuple[str, dict[str, object]]


def N_(message: str) -> str:
    """Marks a msgid for extraction; translated where it is shown."""
    return message


HEADLINE = N_("The ballot box of round %(round)s does not match what was recorded when it closed: "
              "nothing was counted.")


class BoxTampered(ApiError):
    """The box is not the one the round closed with: `box_tampered`, each problem in `details`."""

    def __init__(self, round_id: str, problems: Iterable[Problem]) -> None:
        super().__init__(409, "box_tampered", HEADLINE, round=round_id)
        self.round_id = round_id
        self.details = ordered(problems)


def ordered(problems: Iterable[Problem]) -> tuple[Problem, ...]:
    """Problems as they are told: those of an envelope first, by its position in the chain (so the
    message names the first envelope that is wrong), then those of the box as a whole."""
    def key(problem: Problem) -> tuple[int, int]:
        position = problem[1].get("position")
        return (0, position) if isinstance(position, int) else (1, 0)
    return tuple(sorted(problems, key=key))


def short(value: object) -> str:
    """A hash as people compare it (its first 16 hex characters); anything else as text."""
    return value[:16] if isinstance(value, str) else "—"


@dataclass(frozen=True)
class Stored:
    """One envelope as the box holds it (a row, or a line of an export), whatever it claims:
    `body` and `receipt` as parsed JSON (or the raw text that did not parse), `prev` and `entry`
    its chain links, `kiosk_id` the row's own kiosk column (None where there is none)."""

    body: Any
    prev: Any
    entry: Any
    receipt: Any
    kiosk_id: str | None = None


@dataclass(frozen=True)
class Placed:
    """An envelope in its place: `position` in the chain (1 is the first accepted) and `entry`,
    the chain recomputed from the genesis up to it. What `opening.open_one` checks and opens."""

    position: int
    header: EnvelopeHeader
    entry: str
    receipt: Any

    @property
    def code(self) -> str:
        return self.header.receipt_code


def close_problems(found: Found, round_id: str, *, count: int, head: str,
                   present: int | None) -> tuple[CloseRecord | None, list[Problem]]:
    """The close record of the round, or None, and what is wrong with it or with the round's row
    (`count`, `head`, `present`: what the row, or an export's public.json, says)."""
    problems: list[Problem] = []
    if found.unsigned:
        problems.append((N_("%(n)s close entries of round %(round)s in the audit log carry no valid signature "
                            "of the tally: the close record was altered."), {"n": found.unsigned, "round": round_id}))
    if not found.records:
        problems.append((N_("The audit log holds no close record of round %(round)s signed by the tally: it was "
                            "removed or altered, or the round was closed by a version that did not sign it."),
                         {"round": round_id}))
        return None, problems
    if len(found.records) > 1:
        problems.append((N_("The audit log holds %(n)s signed close records of round %(round)s: a round closes "
                            "once."), {"n": len(found.records), "round": round_id}))
        return None, problems
    _position, prev, record = found.records[0]
    if prev is not None and prev != record.audit_head:
        problems.append((N_("The close record of round %(round)s was signed after audit entry %(signed)s but "
                            "follows %(found)s: the audit log before the close was rewritten."),
                         {"round": round_id, "signed": short(record.audit_head), "found": short(prev)}))
    if count != record.count or head != record.chain_head:
        problems.append((N_("The round's record says %(count)s envelopes ending at %(head)s; the close record "
                            "signed at the close says %(signed_count)s ending at %(signed_head)s: it was edited."),
                         {"count": count, "head": short(head), "signed_count": record.count,
                          "signed_head": short(record.chain_head)}))
    if present != record.present:
        problems.append((N_("The round's record says %(found)s present; the close record says %(signed)s: it "
                            "was edited."), {"found": present if present is not None else "—",
                                             "signed": record.present if record.present is not None else "—"}))
    return record, problems


def card_list_problems(record: CloseRecord, fingerprint: str | None, desk: Sequence[bytes]) -> list[Problem]:
    """The card list (`fingerprint` as the card rows or the export's list give it now) and this
    round's desk-unlock keys, against what the close recorded."""
    problems: list[Problem] = []
    if fingerprint != record.credentials_fingerprint:
        problems.append((N_("The ballot card list gives the fingerprint %(found)s; the list at the close was "
                            "%(signed)s: a card was added, removed or changed."),
                         {"found": fingerprint or "—", "signed": record.credentials_fingerprint or "—"}))
    if len(desk) != record.desk_cards or desk_digest(desk) != record.desk_cards_digest:
        problems.append((N_("This round holds %(found)s desk-unlock card keys; the close recorded %(signed)s, "
                            "and not these: a key was added, removed or changed."),
                         {"found": len(desk), "signed": record.desk_cards}))
    return problems


def _hash(value: object) -> str | None:
    try:
        return check_hash(value, "chain entry")
    except Malformed:
        return None


def _code(body: Any) -> str:
    try:
        return parse_envelope(body).receipt_code
    except BadEnvelope:
        return "—"


def walk(meeting: str, round_id: str, rows: Sequence[Stored],
         record: CloseRecord | None) -> tuple[list[Placed], list[Problem]]:
    """The envelopes in chain order from the genesis, and what is wrong with the chain.

    Follows each envelope's `prev` from the genesis, recomputing every entry from the envelope's
    bytes. An envelope whose entry is not its own bytes' is named once, and the walk goes on from
    the entry it holds (so one edit is one problem); envelopes the walk never reaches are named as
    outside the chain; the end must be the close record's head and count."""
    start = genesis(meeting, round_id)
    by_prev: dict[str, list[int]] = {}
    for index, row in enumerate(rows):
        if isinstance(row.prev, str):
            by_prev.setdefault(row.prev, []).append(index)
    used: set[int] = set()
    placed: list[Placed] = []
    problems: list[Problem] = []
    link = computed = start
    while True:
        following = [i for i in by_prev.get(link, ()) if i not in used]
        if not following:
            break
        position = len(used) + 1
        if len(following) > 1:
            problems.append((N_("%(n)s envelopes claim position %(position)s, after chain entry %(entry)s: an "
                                "envelope was inserted."), {"n": len(following), "position": position,
                                                            "entry": short(link)}))
        row = rows[following[0]]
        used.add(following[0])
        stored = _hash(row.entry)
        try:
            header = parse_envelope(row.body)
        except BadEnvelope:
            problems.append((N_("Envelope %(position)s cannot be read: its stored bytes were altered."),
                             {"position": position}))
            if stored is None:
                break
            link = computed = stored
            continue
        own = next_entry(link, header.envelope_hash)
        computed = next_entry(computed, header.envelope_hash)
        if stored != own:
            problems.append((N_("Envelope %(position)s (receipt %(code)s) does not give the chain entry it holds "
                                "(%(found)s; its bytes give %(expected)s): the envelope or its entry was altered."),
                             {"position": position, "code": header.receipt_code, "found": short(row.entry),
                              "expected": short(own)}))
            if stored is None:
                break
            # One edit, one problem: go on from the entry it holds, as the rest of the box does.
            computed = stored
        placed.append(Placed(position, header, computed, row.receipt))
        if header.meeting != meeting or header.round_id != round_id:
            problems.append((N_("Envelope %(position)s (receipt %(code)s) belongs to round %(other)s of meeting "
                                "%(meeting)s, not to this box."),
                             {"position": position, "code": header.receipt_code, "other": header.round_id,
                              "meeting": header.meeting}))
        if row.kiosk_id is not None and row.kiosk_id != header.kiosk_id:
            problems.append((N_("Envelope %(position)s (receipt %(code)s) is filed under kiosk %(filed)s but was "
                                "signed as from kiosk %(kiosk)s: its row was altered."),
                             {"position": position, "code": header.receipt_code, "filed": row.kiosk_id,
                              "kiosk": header.kiosk_id}))
        link = stored
    outside = [row for index, row in enumerate(rows) if index not in used]
    if outside:
        problems.append((N_("The chain breaks after envelope %(position)s (entry %(entry)s): %(n)s envelopes "
                            "are outside it, so an envelope is missing there or was inserted."),
                         {"position": len(used), "entry": short(computed), "n": len(outside)}))
        problems += [(N_("Envelope %(code)s is outside the chain: the envelope it names before it (%(prev)s) is "
                         "not in the box."), {"code": _code(row.body), "prev": short(row.prev)}) for row in outside]
    if record is not None and (len(used) != record.count or computed != record.chain_head):
        problems.append((N_("The chain holds %(found)s envelopes ending at %(head)s; the round closed with "
                            "%(count)s ending at %(signed_head)s."),
                         {"found": len(used), "head": short(computed), "count": record.count,
                          "signed_head": short(record.chain_head)}))
    return placed, problems


def receipt_problems(placed: Iterable[Placed], tally_public: bytes, meeting: str, round_id: str) -> list[Problem]:
    """Where a chain that does not end as it closed went wrong: each envelope's receipt, signed by
    the tally when it took the envelope, names the chain entry it was accepted at. Only asked once
    the walk found the chain wrong (an intact chain ends at the signed head, whatever the receipts
    say), it names the envelope that was altered, inserted, or moved by a deletion or insertion
    before it. The tally's signature is checked, so a copied or made-up receipt is named as such."""
    problems: list[Problem] = []
    for item in placed:
        where = {"position": item.position, "code": item.code}
        try:
            receipt = verify_receipt(item.receipt, tally_public, item.header.envelope_hash, meeting=meeting,
                                     round_id=round_id)
        except BadReceipt:
            problems.append((N_("Envelope %(position)s (receipt %(code)s) has no receipt signed by the tally for it: "
                                "it was never accepted, or it was altered."), where))
            continue
        if receipt["entry"] != item.entry:
            problems.append((N_("Envelope %(position)s (receipt %(code)s) was accepted at chain entry %(received)s "
                                "but stands at %(found)s now: an envelope before it was deleted, inserted or "
                                "moved."), {**where, "received": short(receipt["entry"]), "found": short(item.entry)}))
    return problems


def card_use_problems(placed: Iterable[Placed], listed: frozenset[bytes] | set[bytes],
                      desk: frozenset[bytes] | set[bytes]) -> list[Problem]:
    """Each ballot's card is one of this round's listed (or desk-unlock) keys, used once."""
    problems: list[Problem] = []
    first: dict[bytes, int] = {}
    for item in placed:
        card = item.header.card_public
        if card not in listed and card not in desk:
            problems.append((N_("Envelope %(position)s (receipt %(code)s) is signed by a card that is not in this "
                                "round's ballot card list."), {"position": item.position, "code": item.code}))
        if card in first:
            problems.append((N_("Envelope %(position)s (receipt %(code)s) uses the card that envelope %(first)s "
                                "already used in this round."),
                             {"position": item.position, "code": item.code, "first": first[card]}))
        first.setdefault(card, item.position)
    return problems


def judge_card_problems(placed: Iterable[Placed], seats: dict[bytes, int]) -> list[Problem]:
    """Each envelope of a judges' round is signed by the judge card of one of its seats."""
    return [(N_("Envelope %(position)s (receipt %(code)s) is signed by a card that is not one of this round's "
                "judge cards."), {"position": item.position, "code": item.code})
            for item in placed if item.header.card_public not in seats]


def tally_key_problems(list_record: str | None, record_fingerprint: str, record_key: bytes,
                       tally_key: bytes) -> list[Problem]:
    """Offline (`tally count-box`): the tally key the export's signatures are checked with must be
    the one in the meeting record that the card list (the scrutineers' own copy) was made from."""
    if (list_record is not None and list_record != record_fingerprint) or record_key != tally_key:
        return [(N_("The export's tally key is not the one in the meeting record the ballot card list was made "
                    "from: its signatures prove nothing."), {})]
    return []
