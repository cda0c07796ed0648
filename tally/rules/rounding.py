"""Exact rounding from fractions to published decimals (四舍五入 or 截尾), never through floats.

A result is rounded once, at the end, from its exact value: `quantize(Fraction(1771, 20), 2)`
is `Decimal("88.55")`. Half-up rounds a tie away from zero (the school rule: 85.555 → 85.56);
`down` truncates toward zero. Pure integer arithmetic: no Decimal context, no I/O.
"""
from __future__ import annotations

import re
from decimal import Decimal
from fractions import Fraction
from typing import Final, Literal

Rounding = Literal["half_up", "down"]
ROUNDING_MODES: Final = ("half_up", "down")

# A decimal as people write it on a score sheet: no exponent, no underscores, no spaces.
DECIMAL_TEXT: Final = re.compile(r"-?\d+(?:\.\d+)?")


def quantize(value: Fraction | int | Decimal, decimals: int, mode: Rounding = "half_up") -> Decimal:
    """`value` rounded to `decimals` places by `mode`, as an exact Decimal with that many places."""
    if decimals < 0:
        raise ValueError("decimals must be 0 or more")
    scaled = Fraction(value) * 10**decimals
    negative = scaled < 0
    magnitude = -scaled if negative else scaled
    num, den = magnitude.numerator, magnitude.denominator
    if mode == "half_up":
        units = (2 * num + den) // (2 * den)
    elif mode == "down":
        units = num // den
    else:
        raise ValueError(f"unknown rounding mode {mode!r}")
    digits = tuple(int(c) for c in str(units))
    return Decimal((1 if negative and units else 0, digits, -decimals))


def percent(numerator: int, denominator: int, mode: Rounding = "half_up") -> Decimal | None:
    """`numerator/denominator` as a percentage with 2 places; None when the denominator is 0."""
    if denominator <= 0:
        return None
    return quantize(Fraction(100 * numerator, denominator), 2, mode)


def places(step: Decimal) -> int:
    """How many decimal places a value on this step is printed with ("0.1" → 1, "1" → 0)."""
    exponent = step.as_tuple().exponent
    assert isinstance(exponent, int)
    return max(0, -exponent)


def text(value: Decimal | None) -> str | None:
    """A Decimal as the plain string the contract prints ("48.33"), never in exponent form."""
    return None if value is None else format(value, "f")


def parse_decimal(raw: object) -> Decimal:
    """An int or a decimal string as an exact Decimal; floats are refused (they are not exact)."""
    if isinstance(raw, bool):
        raise ValueError("a number is expected, not true/false")
    if isinstance(raw, int):
        return Decimal(raw)
    if isinstance(raw, Decimal):
        if not raw.is_finite():
            raise ValueError("the number must be finite")
        return raw
    if isinstance(raw, str) and DECIMAL_TEXT.fullmatch(raw):
        return Decimal(raw)
    if isinstance(raw, float):
        raise ValueError(f"write {raw!r} as a string (\"{raw}\"): binary floats are not exact")
    raise ValueError(f"{raw!r} is not a decimal number")
