"""跨轮次名单 (003): who meets every condition on other rounds' results, ranked, cut at seats × ratio.

1. Values per candidate and source, from the sources' results: a recommend post's votes and its
   rate as the exact fraction votes / denominator (never the rounded string); an evaluate round's
   rates over its valid entries, or its published score; a score round's published mean; a
   composite's published composite. A candidate missing from a recommend post has 0 votes; one
   missing from any other source, or any source that is void, without quorum or not counted,
   makes the candidate `incomplete`.
2. Checks: each condition on the exact fraction. `meets` = every condition that is not advisory
   passes; an advisory one that fails is `flagged` (原则上), never a reason to leave someone out.
3. Rank, among those who meet the conditions and are complete, key by key in `order`, highest
   first (`lower_first` turns a key round). A typed key (资历, 学历) decides only between people
   who all have a value; a tied group where someone lacks one stays tied, and when it straddles
   the cut `missing_keys` names who lacks it (the console asks for it before computing).
   Competition ranks: ties stay ties, never broken by name.
4. Take: `shortlisted` = rank ≤ seats × ratio, so all tied at the cut go through (`tie_at_cut`).
Pure.
"""
from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from fractions import Fraction
from typing import Any

from tally.rules.errors import BallotInputError, MissingComponent
from tally.rules.kinds import RoundKind
from tally.rules.model import Attendance, OrderKey, ShortlistRound, TypedKey
from tally.rules.rounding import percent, text

Value = Fraction | Decimal | int


def _source(resolved: Mapping[str, dict[str, Any]], round_id: str, what: str) -> dict[str, Any]:
    if round_id not in resolved:
        raise MissingComponent(f'{what} needs the result of round "{round_id}"')
    return resolved[round_id]


def _post(result: dict[str, Any], post: str | None) -> dict[str, Any] | None:
    return next((p for p in result.get("posts", []) if p["id"] == post), None)


def measure(result: dict[str, Any], post: str | None, by: str, name: str) -> tuple[Value, str] | None:
    """One person's exact value of a measure in a source's result, and how it is shown; None when
    the source has nothing for them (incomplete)."""
    kind = result.get("kind")
    if kind in (RoundKind.RECOMMEND, RoundKind.EVALUATE) and result.get("status") != "counted":
        return None
    if kind == RoundKind.RECOMMEND:
        p = _post(result, post)
        if p is None:
            return None
        votes = next((c["votes"] for c in p["candidates"] if c["name"] == name), 0)
        if by == "votes":
            return votes, str(votes)
        if p["denominator"] <= 0:
            return None
        return Fraction(votes, p["denominator"]), text(percent(votes, p["denominator"])) or ""
    if kind == RoundKind.EVALUATE:
        subject = next((s for s in result.get("subjects", []) if s["name"] == name), None)
        if subject is None:
            return None
        if by == "score":
            return _published(subject.get("score"))
        valid, counts = subject.get("valid", 0), subject.get("counts")
        if not valid or counts is None:
            return None
        grades = list(counts)
        hits = counts[grades[0]] + counts[grades[1]] if by == "competent_or_above" else counts.get(by)
        if hits is None:
            return None
        return Fraction(hits, valid), text(percent(hits, valid)) or ""
    if kind == RoundKind.SCORE:
        entry = next((c for c in result.get("contestants", []) if c["name"] == name), None)
        return None if entry is None else _published(entry.get("mean"))
    if kind == RoundKind.COMPOSITE:
        entry = next((c for c in result.get("candidates", []) if c["name"] == name), None)
        return None if entry is None else _published(entry.get("composite"))
    return None


def _published(value: str | None) -> tuple[Value, str] | None:
    return None if value is None else (Decimal(value), value)


def _typed(key: TypedKey, live: Mapping[str, str], name: str) -> tuple[Value, str] | None:
    value = dict(key.values).get(name, live.get(name))
    if value is None:
        return None
    if key.scale is not None:
        return -key.scale.index(value), value
    return Decimal(value), value


class ShortlistCounter:
    """Computes one short list from the results of the rounds it names."""

    def __init__(self, rnd: ShortlistRound, live_keys: Mapping[str, Mapping[str, str]] | None = None) -> None:
        self.plan = rnd
        self.live_keys = live_keys or {}  # values the chair typed in live: key → person → value

    def add(self, ballot: Any) -> None:
        raise BallotInputError(f'round "{self.plan.id}" is a short list: it takes no ballots')

    add_marks = add

    def fold(self) -> None:
        """A short list holds no ballots."""

    def result(self, attendance: Attendance | None = None,
               resolved: Mapping[str, dict[str, Any]] | None = None) -> dict[str, Any]:
        rnd = self.plan
        resolved = resolved or {}
        sources = {c.round: _source(resolved, c.round, f'short list "{rnd.id}"') for c in rnd.conditions}
        sources.update({o.round: _source(resolved, o.round, f'short list "{rnd.id}"')
                        for o in rnd.order if o.round is not None})
        keys = {k.name: k for k in rnd.keys}
        people: list[dict[str, Any]] = []
        eligible: dict[str, list[tuple[Value, str] | None]] = {}
        for name in rnd.candidates:
            complete = True
            checks: list[dict[str, str | bool | None]] = []
            flagged = []
            meets = True
            for i, c in enumerate(rnd.conditions):
                got = measure(sources[c.round], c.post, c.measure, name)
                if got is None:
                    complete = False
                    checks.append({"value": None, "passes": None})
                    meets = meets and c.advisory
                    continue
                exact, shown = got
                passes = c.threshold.passes(Fraction(exact), 1)
                checks.append({"value": shown, "passes": passes})
                if not passes:
                    if c.advisory:
                        flagged.append(i)
                    else:
                        meets = False
            values: list[tuple[Value, str] | None] = []
            for o in rnd.order:
                if o.round is not None:
                    assert o.by is not None
                    got = measure(sources[o.round], o.post, o.by, name)
                    if got is None:
                        complete = False
                else:
                    assert o.key is not None
                    got = _typed(keys[o.key], self.live_keys.get(o.key, {}), name)
                values.append(got)
            entry: dict[str, Any] = {"name": name, "status": "complete" if complete else "incomplete",
                                     "checks": checks, "meets": meets}
            if flagged:
                entry["flagged"] = flagged
            if meets and complete:
                eligible[name] = values
                entry["order_values"] = [None if v is None else v[1] for v in values]
            people.append(entry)
        ranks, stuck = _rank(eligible, rnd.order)
        take = rnd.take
        shortlisted = {name for name, place in ranks.items() if place <= take}
        missing: dict[str, set[str]] = {}
        for key, group in stuck:
            place = ranks[group[0]]
            if place <= take < place + len(group) - 1:  # the tied group straddles the cut
                key_name = rnd.order[key].key
                assert key_name is not None
                missing.setdefault(key_name, set()).update(n for n in group if eligible[n][key] is None)
        for entry in people:
            name = entry["name"]
            if name in ranks:
                entry["rank"] = ranks[name]
            entry["shortlisted"] = name in shortlisted
        doc: dict[str, Any] = {"id": rnd.id, "kind": rnd.kind.value}
        if rnd.title:
            doc["title"] = rnd.title
        doc.update(status="counted", seats=rnd.seats, ratio=rnd.ratio, take=take,
                   conditions=[_condition_doc(c) for c in rnd.conditions],
                   order=[_order_doc(o) for o in rnd.order], candidates=people,
                   tie_at_cut=len(shortlisted) > take)
        if missing:
            doc["missing_keys"] = {k: [n for n in rnd.candidates if n in v] for k, v in missing.items()}
        return doc


def _rank(eligible: dict[str, list[tuple[Value, str] | None]],
          order: tuple[OrderKey, ...]) -> tuple[dict[str, int], list[tuple[int, list[str]]]]:
    """Competition ranks by the order keys in turn; groups left tied because someone lacks a typed
    value, with the index of that key."""
    groups: list[list[str]] = [list(eligible)] if eligible else []
    stuck: list[tuple[int, list[str]]] = []
    frozen: set[int] = set()  # ids of groups that stopped refining
    for k, o in enumerate(order):
        refined: list[list[str]] = []
        for group in groups:
            if len(group) == 1 or id(group) in frozen:
                refined.append(group)
                continue
            if any(eligible[n][k] is None for n in group):
                stuck.append((k, group))
                frozen.add(id(group))
                refined.append(group)
                continue
            sign = -1 if o.lower_first else 1
            keyed = sorted(group, key=lambda n: sign * _exact(eligible[n][k]), reverse=True)
            run: list[str] = []
            for n in keyed:
                if run and _exact(eligible[run[0]][k]) != _exact(eligible[n][k]):
                    refined.append(run)
                    run = []
                run.append(n)
            refined.append(run)
        groups = refined
    ranks: dict[str, int] = {}
    place = 1
    for group in groups:
        for n in group:
            ranks[n] = place
        place += len(group)
    return ranks, stuck


def _exact(value: tuple[Value, str] | None) -> Fraction:
    assert value is not None
    return Fraction(value[0])


def _condition_doc(c: Any) -> dict[str, Any]:
    doc: dict[str, Any] = {"round": c.round}
    if c.post is not None:
        doc["post"] = c.post
    doc.update(measure=c.measure, threshold=c.threshold.text)
    if c.advisory:
        doc["advisory"] = True
    return doc


def _order_doc(o: OrderKey) -> dict[str, Any]:
    doc: dict[str, Any] = {"key": o.key} if o.key is not None else {"round": o.round}
    if o.post is not None:
        doc["post"] = o.post
    if o.by is not None:
        doc["by"] = o.by
    if o.lower_first:
        doc["lower_first"] = True
    return doc

