"""Trimmed means of a judges' panel and the ranking of contestants (RULES §5).

Sort a contestant's scores, drop exactly `trim` instances at each end (with 90, 90, 86, 80, 80
and k = 1 the mean is (90+86+80)/3 = 85.33), average the rest, round once at the end. Fewer
than 2k+1 scores: no result (never silently change k).

Which instances are dropped is decided here, where the rule is applied, by seat: the scores are
ordered by value, then by seat, and the first k are struck low, the last k struck high. So with
equal values at a cut the lower-numbered seats are struck at the low end and the higher-numbered
ones at the high end, and no seat is ever struck twice (7 judges all 90, k = 1: seat 1 low,
seat 7 high). The mean does not depend on it; the marks on the projector and the sheets do. Ranks: by the published mean, then the
plan's tie-break keys; equal results share a place. Used by the score counter and by the live
judge-scoring screen. Pure.
"""
from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from typing import Any, Literal

from tally.rules.ranking import rank
from tally.rules.rounding import Rounding, places, quantize

Strike = Literal["high", "low"]


@dataclass(frozen=True)
class ScoreResult:
    """One contestant's panel result. Scores are Decimals at the plan's step."""

    count: int
    complete: bool
    mean: Decimal | None  # published (rounded) trimmed mean; None when incomplete
    exact_mean: Fraction | None
    full_mean: Decimal | None  # published mean of every score, a tie-break key
    dropped_high: tuple[Decimal, ...]  # highest first
    dropped_low: tuple[Decimal, ...]  # lowest first
    kept: tuple[Decimal, ...]  # ascending
    # (seat, "high" | "low") for each dropped instance, highest first then lowest first; the seat
    # is the caller's key (a seat number, a judge id), or the position when scores came as a list.
    struck: tuple[tuple[Any, Strike], ...] = ()

    def strike_of(self, seat: Hashable) -> Strike | None:
        """Whether this seat's score was dropped at the high or the low end (None if kept)."""
        for who, end in self.struck:
            if who == seat:
                return end
        return None


def at_step(value: Decimal, step: Decimal) -> Decimal:
    """A score printed with the step's places ("96" at step 0.1 → "96.0")."""
    return value.quantize(Decimal(1).scaleb(-places(step)))


def trimmed_result(scores: Sequence[Decimal] | Mapping[Any, Decimal], trim: int, rounding: Rounding,
                   decimals: int, step: Decimal) -> ScoreResult:
    """Drop `trim` instances at each end and average the rest, exactly.

    `scores` by seat (a mapping from seat number or judge id to score; seats must be comparable
    with each other) says which seat each dropped instance was; a plain list uses positions."""
    if trim < 0:
        raise ValueError("trim must be 0 or more")
    by_seat = scores.items() if isinstance(scores, Mapping) else enumerate(scores)
    instances = sorted((at_step(value, step), seat) for seat, value in by_seat)
    ordered = [value for value, _seat in instances]
    count = len(ordered)
    full_mean = quantize(Fraction(sum(ordered, Decimal(0))) / count, decimals, rounding) if count else None
    if count < 2 * trim + 1:
        return ScoreResult(count, False, None, None, full_mean, (), (), tuple(ordered))
    kept = ordered[trim:count - trim]
    exact = Fraction(sum(kept, Decimal(0))) / len(kept)
    high = list(reversed(instances[count - trim:]))
    low = instances[:trim]
    struck: list[tuple[Any, Strike]] = [(seat, "high") for _v, seat in high]
    struck += [(seat, "low") for _v, seat in low]
    return ScoreResult(
        count=count, complete=True, mean=quantize(exact, decimals, rounding), exact_mean=exact,
        full_mean=full_mean, dropped_high=tuple(v for v, _s in high),
        dropped_low=tuple(v for v, _s in low), kept=tuple(kept), struck=tuple(struck),
    )


def tie_keys(result: ScoreResult, tie_break: Sequence[str]) -> tuple[Decimal | None, ...]:
    keys: list[Decimal | None] = [result.mean]
    for key in tie_break:
        if key != "full_mean":
            raise ValueError(f"unknown score tie-break key {key!r}")
        keys.append(result.full_mean)
    return tuple(keys)


def rank_contestants(results: Mapping[str, ScoreResult], tie_break: Sequence[str] = ()) -> dict[str, int]:
    """Competition ranks of the complete contestants by published mean, then the tie-break keys."""
    return rank({name: tie_keys(r, tie_break) for name, r in results.items() if r.complete})
