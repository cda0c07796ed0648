"""Trimmed means of a judges' panel and the ranking of contestants (RULES §5).

Sort a contestant's scores, drop exactly `trim` instances at each end (with 90, 90, 86, 80, 80
and k = 1 the mean is (90+86+80)/3 = 85.33), average the rest, round once at the end. Fewer
than 2k+1 scores: no result (never silently change k). Ranks: by the published mean, then the
plan's tie-break keys; equal results share a place. Used by the score counter and by the live
judge-scoring screen. Pure.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction

from tally.rules.ranking import rank
from tally.rules.rounding import Rounding, places, quantize


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


def at_step(value: Decimal, step: Decimal) -> Decimal:
    """A score printed with the step's places ("96" at step 0.1 → "96.0")."""
    return value.quantize(Decimal(1).scaleb(-places(step)))


def trimmed_result(scores: Sequence[Decimal], trim: int, rounding: Rounding, decimals: int,
                   step: Decimal) -> ScoreResult:
    """Drop `trim` instances at each end and average the rest, exactly."""
    if trim < 0:
        raise ValueError("trim must be 0 or more")
    ordered = sorted(at_step(s, step) for s in scores)
    count = len(ordered)
    full_mean = quantize(Fraction(sum(ordered, Decimal(0))) / count, decimals, rounding) if count else None
    if count < 2 * trim + 1:
        return ScoreResult(count, False, None, None, full_mean, (), (), tuple(ordered))
    kept = ordered[trim:count - trim]
    exact = Fraction(sum(kept, Decimal(0))) / len(kept)
    return ScoreResult(
        count=count, complete=True, mean=quantize(exact, decimals, rounding), exact_mean=exact,
        full_mean=full_mean, dropped_high=tuple(reversed(ordered[count - trim:])),
        dropped_low=tuple(ordered[:trim]), kept=tuple(kept),
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
