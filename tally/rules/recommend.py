"""民主推荐: reading a recommendation ballot and counting it, post by post (RULES §2).

A section chooses at most `seats` names; an over-vote, a name listed twice, a write-in where
none is allowed or a write-in longer than `WRITE_IN_MAX` makes the section invalid (the voter's
mistake); an empty section is blank (valid, abstains). A name is taken trimmed of surrounding
white space; something that cannot be a name at all (not text, empty, a control or format
character: `tally.rules.names`) is an input error. Rate =
votes / denominator (实到, 有效, or 应到), `passes` on the exact fraction. Pure.
"""
from __future__ import annotations

from collections.abc import Hashable, Mapping
from typing import Any, Final

from tally.rules.attendance import quorum_round_head
from tally.rules.errors import BallotInputError
from tally.rules.model import Attendance, RecommendRound
from tally.rules.names import WRITE_IN_MAX, BadName, check_name
from tally.rules.ranking import rank
from tally.rules.rounding import percent, text
from tally.rules.shape import check_fields, mapping_of, marked_invalid, name_error, unknown_key
from tally.rules.tallying import MarkCounter

FIELDS: Final = frozenset({"round", "sections", "invalid"})
MEMO: Final = 1024

# Marks of a ballot: None when unreadable, else one entry per post: a tuple of names (empty =
# blank) or None for an invalid section.
Marks = tuple[tuple[str, ...] | None, ...] | None


class RecommendForm:
    """Turns a recommend ballot (JSON object) into marks; raises BallotInputError on bad input."""

    __slots__ = ("_post_ids", "_posts", "_void_ballot_on_overvote")

    def __init__(self, rnd: RecommendRound) -> None:
        # Per post: its id, a memo of the sections already judged, and the judge itself. Ballots
        # repeat the same few choices, so most sections are judged once (memo bounded by MEMO).
        self._posts: tuple[tuple[str, dict[tuple[Any, ...], tuple[str, ...] | None], _SectionRule], ...] = tuple(
            (p.id, {}, _SectionRule(p.id, p.seats, frozenset(p.candidates), p.write_in))
                            for p in rnd.posts)
        self._post_ids = frozenset(p.id for p in rnd.posts)
        self._void_ballot_on_overvote = rnd.overvote == "ballot"

    def parse(self, obj: Mapping[str, Any]) -> Marks:
        if len(obj) != 2 or "sections" not in obj:
            check_fields(obj, FIELDS)
            if marked_invalid(obj):
                return None
        sections = obj.get("sections", None)
        if type(sections) is not dict:
            sections = mapping_of(obj, "sections") or {}
        if not self._post_ids.issuperset(sections):
            unknown_key(sections, self._post_ids, "post")
        marks = []
        for post_id, memo, rule in self._posts:
            names = sections.get(post_id)
            if type(names) is list:
                try:
                    key = tuple(names)
                    marks.append(memo[key])
                    continue
                except (KeyError, TypeError):
                    mark = rule.judge(names)
                    if len(memo) < MEMO:
                        memo[tuple(names)] = mark
            elif names is None:
                mark = ()
            else:
                raise BallotInputError(f'section "{post_id}" must be a list of names')
            marks.append(mark)
        if self._void_ballot_on_overvote and any(
                m is None and len(sections[p]) > r.seats for m, (p, _, r) in zip(marks, self._posts, strict=True)):
            return tuple(None for _ in self._posts)
        return tuple(marks)


class _SectionRule:
    """RULES §2 for one section: at most `seats` distinct names, write-ins only where allowed."""

    __slots__ = ("candidates", "post_id", "seats", "write_in")

    def __init__(self, post_id: str, seats: int, candidates: frozenset[str], write_in: bool) -> None:
        self.post_id, self.seats, self.candidates, self.write_in = post_id, seats, candidates, write_in

    def judge(self, given: list[Any]) -> tuple[str, ...] | None:
        """The section's marks: a tuple of names (empty = blank), or None when it is invalid."""
        names = []
        for name in given:
            try:
                names.append(check_name(name, limit=None))
            except BadName as exc:
                raise name_error(name, f'section "{self.post_id}"', str(exc)) from exc
        n = len(names)
        if n > self.seats or len(set(names)) != n:
            return None
        written = [x for x in names if x not in self.candidates]
        if written and (not self.write_in or any(len(x) > WRITE_IN_MAX for x in written)):
            return None
        return tuple(names)


class _PostTotals:
    __slots__ = ("blank", "invalid", "votes")

    def __init__(self) -> None:
        self.invalid = 0
        self.blank = 0
        self.votes: dict[str, int] = {}


class RecommendCounter(MarkCounter):
    """Counts one recommend round; `result()` is its contract document."""

    def __init__(self, rnd: RecommendRound) -> None:
        self.plan = rnd
        self._posts = [_PostTotals() for _ in rnd.posts]
        self._unreadable = 0
        self._start()

    def _absorb(self, marks: Hashable, n: int) -> None:
        if marks is None:
            self._unreadable += n
            return
        assert isinstance(marks, tuple)
        for totals, names in zip(self._posts, marks, strict=True):
            if names is None:
                totals.invalid += n
            elif not names:
                totals.blank += n
            else:
                votes = totals.votes
                for name in names:
                    votes[name] = votes.get(name, 0) + n

    def result(self, attendance: Attendance | None = None,
               resolved: Mapping[str, dict[str, Any]] | None = None) -> dict[str, Any]:
        rnd = self.plan
        self._tally.fold()
        returned = self._tally.returned
        doc, expected, present, _issued, quorum, void = quorum_round_head(rnd, returned, attendance)
        if rnd.conduct.has_quorum:
            doc["quorum_met"] = quorum
        if rnd.beside is not None:
            doc["beside"] = rnd.beside
        if rnd.valid_months is not None:
            doc["valid_months"] = rnd.valid_months
        if not void:
            doc["posts"] = [self._post_result(i, returned, expected, present, quorum)
                            for i in range(len(rnd.posts))]
        return doc

    def _post_result(self, index: int, returned: int, expected: int, present: int,
                     quorum: bool) -> dict[str, Any]:
        post = self.plan.posts[index]
        totals = self._posts[index]
        invalid = totals.invalid + self._unreadable
        valid = returned - invalid
        denominator = {"present": present, "valid": valid, "expected": expected}[self.plan.denominator]
        listed = {name: i for i, name in enumerate(post.candidates)}
        names = list(post.candidates) + sorted(n for n in totals.votes if n not in listed)

        def order(name: str) -> tuple[int, int, int, str]:
            votes = totals.votes.get(name, 0)
            if name in listed:
                return (-votes, 0, listed[name], "")
            return (-votes, 1, 0, name)

        candidates = []
        for name in sorted(names, key=order):
            votes = totals.votes.get(name, 0)
            entry: dict[str, Any] = {"name": name, "votes": votes, "rate": text(percent(votes, denominator))}
            if post.threshold is not None:
                entry["passes"] = quorum and post.threshold.passes(votes, denominator)
            entry["write_in"] = name not in listed
            candidates.append(entry)
        if post.top is not None:
            forward(candidates, post.top, quorum)
        doc: dict[str, Any] = {"id": post.id}
        if post.title:
            doc["title"] = post.title
        doc.update(seats=post.seats, valid=valid, invalid=invalid, blank=totals.blank, denominator=denominator)
        if post.threshold is not None:
            doc["threshold"] = post.threshold.text
        if post.advisory:
            doc["advisory"] = True
        if post.top is not None:
            doc["top"] = post.top
        doc["candidates"] = candidates
        return doc


def forward(candidates: list[dict[str, Any]], top: int, quorum: bool) -> None:
    """最多上报 N 名: `rank` is the competition rank by votes among all candidates; a candidate is
    `forwarded` when eligible (the round has its quorum, at least one vote, and `passes` where
    there is a pass mark) and has at least the votes of the N-th eligible candidate, so all tied at
    the cut go through and one who does not pass never takes a place."""
    ranks = rank({i: (c["votes"],) for i, c in enumerate(candidates)})
    eligible = sorted((c["votes"] for c in candidates
                       if quorum and c["votes"] >= 1 and c.get("passes", True)), reverse=True)
    cut = eligible[top - 1] if len(eligible) >= top else (eligible[-1] if eligible else None)
    for i, c in enumerate(candidates):
        c["rank"] = ranks[i]
        c["forwarded"] = (cut is not None and quorum and c["votes"] >= 1 and c.get("passes", True)
                          and c["votes"] >= cut)
