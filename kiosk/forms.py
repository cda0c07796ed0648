"""Ballot forms (选票样式): the open rounds as the tally's `GET /api/v1/ballot` describes them, signed.

`parse_form(doc, tally_public)` turns that JSON document into frozen values the screens and the
validator use. Every round's form is signed by the tally (`scrutineer/form/v1`: meeting, round,
kind, every name and rule, the round's public key and its ballot size); the kiosk verifies it
under the tally key it pinned at pairing and reads the round only from the signed bytes, so a
machine on the hall network cannot swap the key a ballot is sealed to, or a name. A form that
does not verify raises `UnsignedForm`; anything the kiosk cannot render safely raises
`FormError` (the last good form is kept either way). Score and composite rounds are parsed but
not shown to voters (judges follow score rounds through `kiosk.scores`, from `GET /api/v1/judging`).
Pure: no network, no files, no Flask.
"""
from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from keys import labels
from keys.canonical import b64d
from keys.document import verify_document
from keys.envelope import MAX_BALLOT
from keys.errors import BadSignature, Malformed
from keys.ids import check_meeting, check_name

VOTER_KINDS = ("recommend", "evaluate", "decide")


R = TypeVar("R")


class FormError(ValueError):
    """The tally's ballot document is not a form this kiosk can show."""


class UnsignedForm(FormError):
    """A round's form does not carry the paired tally's signature (or names another meeting):
    someone between the kiosk and the tally may have changed it. Never shown, never sealed to."""


@dataclass(frozen=True)
class Post:
    id: str
    title: str
    seats: int
    candidates: tuple[str, ...]
    write_in: bool


@dataclass(frozen=True)
class RoundForm:
    """One open round. Only the fields of its `kind` are filled."""

    id: str
    kind: str
    title: str
    public_key: bytes
    ballot_size: int  # every sealed ballot of the round is padded to exactly this many bytes
    posts: tuple[Post, ...] = ()
    subjects: tuple[str, ...] = ()
    grades: tuple[str, ...] = ()
    directions: tuple[str, ...] = ()
    quota: tuple[tuple[str, int], ...] = ()
    nominees: tuple[str, ...] = ()
    seats: int | None = None

    @property
    def for_voters(self) -> bool:
        return self.kind in VOTER_KINDS


@dataclass(frozen=True)
class BallotForm:
    meeting_id: str
    meeting_title: str
    rounds: tuple[RoundForm, ...]
    version: str = field(default="")
    doc: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    def voter_rounds(self) -> tuple[RoundForm, ...]:
        return tuple(r for r in self.rounds if r.for_voters)

    def round(self, round_id: str) -> RoundForm | None:
        return next((r for r in self.rounds if r.id == round_id), None)


def _str(obj: Any, what: str) -> str:
    if not isinstance(obj, str) or not obj.strip():
        raise FormError(f"{what} must be a non-empty string")
    return obj


def _names(obj: Any, what: str) -> tuple[str, ...]:
    if not isinstance(obj, list):
        raise FormError(f"{what} must be a list")
    names = tuple(_str(n, what) for n in obj)
    if len(set(names)) != len(names):
        raise FormError(f"{what} has a name twice")
    return names


names_of = _names  # for kiosk.scores: a list of distinct, non-empty names


def _count(obj: Any, what: str) -> int:
    if isinstance(obj, bool) or not isinstance(obj, int) or obj < 1:
        raise FormError(f"{what} must be a positive integer")
    return obj


def round_key(doc: Any, what: str = "a round") -> tuple[str, bytes, int]:
    """A signed round document's id, its 32-byte public sealing key and its ballot size; FormError otherwise."""
    if not isinstance(doc, dict):
        raise FormError(f"{what} must be an object")
    try:
        rid = check_name(doc.get("id"), "round")
        public_key = b64d(doc.get("public_key", ""))
    except Malformed as exc:
        raise FormError(str(exc)) from exc
    if len(public_key) != 32:
        raise FormError(f"round {rid}: public key must be 32 bytes")
    size = doc.get("ballot_size")
    if type(size) is not int or not 0 < size <= MAX_BALLOT:
        raise FormError(f"round {rid}: the ballot size must be a number of bytes a sealed ballot can hold")
    return rid, public_key, size


def signed_round(entry: Any, tally_public: bytes, meeting: str) -> dict[str, Any]:
    """The signed form inside one round entry of a tally document, verified under the pinned
    tally key and naming this meeting; `UnsignedForm` otherwise. Only these bytes are trusted:
    the plain copy beside them is for people reading the document."""
    if not isinstance(entry, dict) or "signed" not in entry:
        raise UnsignedForm("a round's form is not signed")
    try:
        doc = verify_document(entry["signed"], tally_public, labels.FORM)
    except BadSignature as exc:
        raise UnsignedForm("a round's form does not verify under the paired tally's key") from exc
    if doc.get("meeting") != meeting:
        raise UnsignedForm("a signed form names another meeting")
    return doc


def _round(doc: Any) -> RoundForm:
    rid, public_key, size = round_key(doc)
    kind = _str(doc.get("kind"), "kind")
    title = doc.get("title") or rid
    base: dict[str, Any] = {"id": rid, "kind": kind, "title": _str(title, "title"), "public_key": public_key,
                            "ballot_size": size}
    if kind == "recommend":
        posts = []
        for p in doc.get("posts") or []:
            if not isinstance(p, dict):
                raise FormError(f"round {rid}: a post must be an object")
            pid = _str(p.get("id"), "post id")
            posts.append(Post(
                id=pid, title=_str(p.get("title") or pid, "post title"),
                seats=_count(p.get("seats"), "seats"),
                candidates=_names(p.get("candidates", []), "candidates"),
                write_in=p.get("write_in") is True,
            ))
        if not posts or len({p.id for p in posts}) != len(posts):
            raise FormError(f"round {rid}: posts missing or repeated")
        return RoundForm(**base, posts=tuple(posts))
    if kind == "evaluate":
        grades = _names(doc.get("grades"), "grades")  # the tally always sends the plan's grades
        quota = doc.get("quota") or {}
        if not isinstance(quota, dict) or any(g not in grades for g in quota):
            raise FormError(f"round {rid}: quota names an unknown grade")
        for n in quota.values():
            if isinstance(n, bool) or not isinstance(n, int) or n < 0:
                raise FormError(f"round {rid}: quota must be a non-negative integer")
        return RoundForm(
            **base, subjects=_names(doc.get("subjects"), "subjects"), grades=grades,
            directions=_names(doc.get("directions") or [], "directions"),
            quota=tuple((g, int(quota[g])) for g in grades if g in quota),
        )
    if kind == "decide":
        seats = doc.get("seats")
        return RoundForm(
            **base, nominees=_names(doc.get("nominees"), "nominees"),
            seats=None if seats is None else _count(seats, "seats"),
        )
    return RoundForm(**base)


def meeting_and_rounds(doc: Any, what: str, parse_round: Callable[[dict[str, Any], Any], R],
                       tally_public: bytes) -> tuple[str, tuple[R, ...]]:
    """The meeting id and the parsed rounds of a tally document (`{"meeting": {...}, "rounds": [...]}`):
    `parse_round(signed form, round entry)` for each round, after its signature verified."""
    if not isinstance(doc, dict) or not isinstance(doc.get("meeting"), dict):
        raise FormError(f"{what} document must have a meeting")
    try:
        meeting = check_meeting(doc["meeting"].get("id"))
    except Malformed as exc:
        raise FormError(str(exc)) from exc
    rounds_doc = doc.get("rounds")
    if not isinstance(rounds_doc, list):
        raise FormError(f"{what} document must list rounds")
    rounds = tuple(parse_round(signed_round(r, tally_public, meeting), r) for r in rounds_doc)
    if len({r.id for r in rounds}) != len(rounds):  # type: ignore[attr-defined]
        raise FormError("a round is listed twice")
    return meeting, rounds


def parse_form(doc: Any, tally_public: bytes) -> BallotForm:
    """The ballot form from `GET /api/v1/ballot`, every round verified under `tally_public` (the
    key pinned at pairing); raises `UnsignedForm` or `FormError` if it is not usable."""
    signed_titles: list[str] = []

    def parse_round(signed: dict[str, Any], _entry: Any) -> RoundForm:
        if isinstance(signed.get("meeting_title"), str):
            signed_titles.append(signed["meeting_title"])
        return _round(signed)

    meeting, rounds = meeting_and_rounds(doc, "ballot", parse_round, tally_public)
    # The meeting's title as the tally signed it, whenever a round is open to carry it.
    title = signed_titles[0] if signed_titles else doc["meeting"].get("title")
    # The version tells a page that sat on the welcome screen that the rounds changed.
    version = hashlib.sha256(
        json.dumps(doc, sort_keys=True, ensure_ascii=False).encode("utf-8")
    ).hexdigest()[:16]
    return BallotForm(
        meeting_id=meeting, meeting_title=title if isinstance(title, str) else "",
        rounds=rounds, version=version, doc=doc,
    )
