"""综合成绩: a weighted sum of published components, ranks and a short list (RULES §6).

Each component is first rounded to 2 places as published (笔试 "82.5" → 82.50; a score round's
published trimmed mean; an evaluate round's quantified score; a recommend post's rate), then
composite = Σ weight × component / 100, rounded once. The candidates are the names of the
first component; one missing from another component is incomplete (no composite, no rank).
Ranks: by composite, then the tie-break components in turn; still equal share a place;
`shortlisted` = rank ≤ shortlist, so everyone tied at the cut goes through. Pure.
"""
from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from fractions import Fraction
from typing import Any

from tally.rules.errors import BallotInputError, MissingComponent
from tally.rules.kinds import RoundKind
from tally.rules.model import Attendance, Component, CompositeRound
from tally.rules.ranking import rank
from tally.rules.rounding import quantize, text


def _published(component: Component, resolved: Mapping[str, dict[str, Any]]) -> dict[str, str | None]:
    """name → published value (as printed by its round) for one component, in its own order."""
    if component.scores is not None:
        return {name: text(value) for name, value in component.scores}
    assert component.round is not None
    if component.round not in resolved:
        raise MissingComponent(f'component "{component.name}" needs the result of round "{component.round}"')
    result = resolved[component.round]
    kind = result.get("kind")
    counted = result.get("status") == "counted"
    if kind == RoundKind.SCORE:
        return {c["name"]: c.get("mean") for c in result.get("contestants", [])}
    if kind == RoundKind.EVALUATE:
        return {s["name"]: s.get("score") if counted else None for s in result.get("subjects", [])}
    if kind == RoundKind.RECOMMEND:
        for post in result.get("posts", []):
            if post["id"] == component.post:
                return {c["name"]: c.get("rate") if counted else None for c in post["candidates"]}
        return {}
    raise MissingComponent(f'component "{component.name}": round "{component.round}" is a {kind} round')


class CompositeCounter:
    """Computes one composite round from the results of the rounds it names."""

    def __init__(self, rnd: CompositeRound) -> None:
        self.plan = rnd

    def add(self, ballot: Any) -> None:
        raise BallotInputError(f'round "{self.plan.id}" is a composite: it takes no ballots')

    add_marks = add

    def fold(self) -> None:
        """A composite holds no ballots."""

    def result(self, attendance: Attendance | None = None,
               resolved: Mapping[str, dict[str, Any]] | None = None) -> dict[str, Any]:
        rnd = self.plan
        tables = [_published(c, resolved or {}) for c in rnd.components]
        values: dict[str, dict[str, Decimal]] = {}
        composites: dict[str, Decimal] = {}
        for name in tables[0]:
            values[name] = {c.name: quantize(Decimal(v), 2, rnd.rounding)
                            for c, t in zip(rnd.components, tables, strict=True) if (v := t.get(name)) is not None}
            if len(values[name]) == len(rnd.components):
                total = sum((Fraction(c.weight) * Fraction(values[name][c.name]) for c in rnd.components), Fraction(0))
                composites[name] = quantize(total / 100, 2, rnd.rounding)
        ranks = rank({name: (value, *(values[name][k] for k in rnd.tie_break))
                      for name, value in composites.items()})
        candidates = []
        for name, parts in values.items():
            entry: dict[str, Any] = {"name": name,
                                     "status": "complete" if name in composites else "incomplete",
                                     "components": {k: text(v) for k, v in parts.items()}}
            if name in composites:
                entry.update(composite=text(composites[name]), rank=ranks[name])
            if rnd.shortlist is not None:
                entry["shortlisted"] = name in ranks and ranks[name] <= rnd.shortlist
            candidates.append(entry)
        doc: dict[str, Any] = {"id": rnd.id, "kind": rnd.kind.value}
        if rnd.title:
            doc["title"] = rnd.title
        doc.update(status="counted", candidates=candidates)
        return doc
