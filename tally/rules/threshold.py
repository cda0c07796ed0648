"""Pass marks such as `>=1/3`, `>1/2`, `>=80%`, compared on exact fractions.

Reading convention (RULES.md): 以上 includes the number (`>=`), 超过 excludes it (`>`).
`passes(40, 120)` for `>=1/3` is true although 40/120 prints as 33.33%: the comparison is
`40*3 >= 1*120`, never a rounded percentage. Pure: no I/O.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from typing import Final, Literal

from tally.rules.errors import ThresholdError

_SYNTAX: Final = re.compile(
    r"\s*(?P<op>>=|>)\s*(?:(?P<num>\d+)\s*/\s*(?P<den>\d+)|(?P<pct>\d+(?:\.\d+)?)\s*%)\s*"
)


@dataclass(frozen=True)
class Threshold:
    """A pass mark: `op` is `>=` or `>`, `value` the exact fraction, `text` as the plan wrote it.

    `preset` names the preset it came from, if any (kept so a plan can be written back as it was).
    """

    op: Literal[">=", ">"]
    value: Fraction
    text: str
    preset: str | None = None

    @classmethod
    def parse(cls, text: str, preset: str | None = None) -> Threshold:
        """`">=1/3"`, `"> 1/2"`, `">=80%"`, `">90.5%"`; raises ThresholdError otherwise."""
        if not isinstance(text, str):
            raise ThresholdError(f"a threshold is a string such as \">=1/3\" or \">=80%\", not {text!r}")
        match = _SYNTAX.fullmatch(text)
        if match is None:
            raise ThresholdError(
                f"bad threshold {text!r}: write >= or > followed by a fraction (1/3) or a percentage (80%)"
            )
        op: Literal[">=", ">"] = ">=" if match["op"] == ">=" else ">"
        if match["pct"] is not None:
            value = Fraction(Decimal(match["pct"])) / 100
        else:
            if int(match["den"]) == 0:
                raise ThresholdError(f"bad threshold {text!r}: the denominator is 0")
            value = Fraction(int(match["num"]), int(match["den"]))
        if value > 1:
            raise ThresholdError(f"bad threshold {text!r}: above 100%, nobody could ever pass")
        # Echoed as written (CONTRACT: the threshold string is echoed), outer spaces aside.
        return cls(op=op, value=value, text=text.strip(), preset=preset)

    def passes(self, numerator: int | Fraction, denominator: int | Fraction) -> bool:
        """Whether numerator/denominator meets the mark; an empty denominator never passes."""
        if denominator <= 0:
            return False
        lhs = Fraction(numerator) * self.value.denominator
        rhs = self.value.numerator * Fraction(denominator)
        return lhs >= rhs if self.op == ">=" else lhs > rhs

    def __str__(self) -> str:
        return self.text
