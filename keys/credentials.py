"""The ballot card list (选票卡清单): cards the scrutineers make, and the public keys the tally gets.

`make_cards(record, count)` runs on the scrutineers' own machine (`keys cards make`): it makes
`count` cards (each a random secret, `keys.cards`) and the list of their public keys, one list
per round that takes cards (spare round keys included), each list in key order, which is a
random order: row i of one round and row i of another are not the same card. The list has a
fingerprint; the tally imports it before voting (`tally cards import`), shows the fingerprint
on the projector and prints it on every result sheet; `keys verify-box` refuses an envelope
whose card key is not in it. The tally never sees a card's secret, so it can neither make a
card nor read one.

    {"v": 1, "type": "credentials", "meeting": M, "meeting_record": <record fingerprint>,
     "cards": N, "rounds": {"r1": [b64, ...], ...}, "fingerprint": "ABCD EFGH ..."}

Each round's keys are listed in key order (a list in any other order is refused: it could pair
one card's keys across rounds). The fingerprint is over the canonical bytes of everything but
itself.

Cards left over are voided without showing the tally their secrets (a secret the tally saw is
a listed card its operator could vote with): on the scrutineers' machine `void_lines` turns the
cards into one line per card and round, `SCRV1.<meeting>.<round>.<card key>.<signature>`, the
card's public key in that round signed by that key (label `scrutineer/card-void/v1`), each
round's lines in key order, so the lines of two rounds are not paired card by card. The tally
verifies each line (`parse_void_line`, `verify_void`) and voids that key in that round: it
learns nothing it did not hold, and it cannot void a card without the card. Touches no files.
"""
from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from keys import labels
from keys.canonical import b64d, b64e, canonical
from keys.cards import Card, new_card
from keys.errors import Malformed
from keys.fingerprint import document_fingerprint, normalize
from keys.identity import verify
from keys.ids import check_meeting, check_name
from keys.record import MeetingRecord

MAX_CARDS = 20000
VOID_PREFIX = "SCRV1"
_VOID_RE = re.compile(r"SCRV1\.([0-9a-f]{16})\.([A-Za-z0-9_-]{1,64})\.([A-Za-z0-9_-]{43})\.([A-Za-z0-9_-]{86})")


@dataclass(frozen=True)
class CredentialList:
    meeting: str
    meeting_record: str
    cards: int
    rounds: dict[str, frozenset[bytes]]
    fingerprint: str


def list_fingerprint(doc: dict[str, Any]) -> str:
    return document_fingerprint(labels.CREDENTIALS, canonical({k: v for k, v in doc.items() if k != "fingerprint"}))


def list_document(meeting: str, meeting_record: str, count: int, rounds: dict[str, list[bytes]]) -> dict[str, Any]:
    """The list's document from its parts (each round's keys sorted here), with its fingerprint."""
    doc: dict[str, Any] = {
        "v": 1, "type": "credentials", "meeting": meeting, "meeting_record": meeting_record, "cards": count,
        "rounds": {r: [b64e(k) for k in sorted(keys)] for r, keys in rounds.items()},
    }
    doc["fingerprint"] = list_fingerprint(doc)
    return doc


def make_cards(record: MeetingRecord, count: int) -> tuple[list[Card], dict[str, Any]]:
    """`count` new cards for the meeting of `record`, and their public list (with its fingerprint)."""
    if type(count) is not int or not 1 <= count <= MAX_CARDS:
        raise ValueError(f"make between 1 and {MAX_CARDS} cards")
    rounds = record.card_rounds
    if not rounds:
        raise ValueError("this meeting has no round that takes ballot cards")
    cards = [new_card(record.meeting) for _ in range(count)]
    return cards, list_document(record.meeting, record.fingerprint, count,
                                {r: [c.public_for(r) for c in cards] for r in rounds})


def parse_credentials(doc: Any) -> CredentialList:
    """Check a card list: shape, sizes, no key twice, the same number of keys in every round,
    and its fingerprint. `Malformed` says what is wrong."""
    if not isinstance(doc, dict) or doc.get("v") != 1 or doc.get("type") != "credentials":
        raise Malformed("not a ballot card list")
    if set(doc) != {"v", "type", "meeting", "meeting_record", "cards", "rounds", "fingerprint"}:
        raise Malformed("not a ballot card list")
    count = doc["cards"]
    if type(count) is not int or not 1 <= count <= MAX_CARDS:
        raise Malformed("the number of cards")
    rounds_doc = doc["rounds"]
    if not isinstance(rounds_doc, dict) or not rounds_doc:
        raise Malformed("rounds")
    rounds: dict[str, frozenset[bytes]] = {}
    seen: set[bytes] = set()
    for round_id, keys in rounds_doc.items():
        check_name(round_id, "round")
        if not isinstance(keys, list) or len(keys) != count:
            raise Malformed(f"round {round_id} does not list one key per card")
        decoded = [b64d(k) if isinstance(k, str) else b"" for k in keys]
        if any(len(k) != 32 for k in decoded):
            raise Malformed("a card key is 32 bytes")
        if decoded != sorted(decoded):
            # In any other order, row i of two rounds could be one card: refuse a list that links.
            raise Malformed(f"round {round_id} does not list its keys in key order")
        unique = frozenset(decoded)
        if len(unique) != count or seen & unique:
            raise Malformed("a card key appears twice")
        seen |= unique
        rounds[round_id] = unique
    fp = doc["fingerprint"]
    try:
        stated = normalize(fp) if isinstance(fp, str) else ""
    except Malformed:
        stated = ""
    try:
        computed = list_fingerprint(doc)
    except (TypeError, ValueError) as exc:  # a fraction or a lone surrogate has no canonical bytes
        raise Malformed("not a ballot card list") from exc
    if stated != computed:
        raise Malformed("the list's fingerprint does not match its contents")
    record_fp = doc["meeting_record"]
    if not isinstance(record_fp, str):
        raise Malformed("meeting_record")
    return CredentialList(check_meeting(doc["meeting"]), normalize(record_fp), count, rounds, stated)


@dataclass(frozen=True)
class CardVoid:
    """One line of a void: a card's public key in one round, and that key's signature saying so."""

    meeting: str
    round_id: str
    card: bytes
    signature: bytes


def _void_message(meeting: str, round_id: str, card: bytes) -> bytes:
    return labels.domain(labels.CARD_VOID, canonical({"v": 1, "meeting": meeting, "round": round_id,
                                                      "card": b64e(card)}))


def void_lines(cards: Sequence[Card], rounds: Sequence[str]) -> list[str]:
    """The void lines of `cards` in every round of `rounds` (the card rounds of the meeting record):
    round by round, each round's lines in key order. No line holds a card's secret."""
    out: list[str] = []
    for round_id in rounds:
        signed = []
        for card in cards:
            identity = card.identity(round_id)
            key = identity.public_bytes()
            signed.append((key, identity.sign(_void_message(card.meeting_id, round_id, key)), card.meeting_id))
        out += [f"{VOID_PREFIX}.{meeting}.{round_id}.{b64e(key)}.{b64e(sig)}" for key, sig, meeting in sorted(signed)]
    return out


def parse_void_line(text: str) -> CardVoid:
    """A void line as `void_lines` writes it (surrounding whitespace forgiven); `Malformed` otherwise."""
    if not isinstance(text, str) or len(text) > 256:
        raise Malformed("not a void line")
    match = _VOID_RE.fullmatch(text.strip())
    if not match:
        raise Malformed("not a void line")
    meeting, round_id, card, signature = match.groups()
    key, sig = b64d(card), b64d(signature)
    if len(key) != 32 or len(sig) != 64:
        raise Malformed("not a void line")
    return CardVoid(check_meeting(meeting), check_name(round_id, "round"), key, sig)


def verify_void(line: CardVoid) -> None:
    """`BadSignature` unless the line is signed by the card key it names."""
    verify(line.card, line.signature, _void_message(line.meeting, line.round_id, line.card))
