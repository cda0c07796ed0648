"""Thresholds, exact rounding and presets: the arithmetic people check by hand (RULES §0)."""
from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

import pytest

from tally.rules import PRESETS, Threshold, ThresholdError, percent, quantize, resolve


@pytest.mark.parametrize(("text", "op", "value", "echoed"), [
    (">=1/3", ">=", Fraction(1, 3), ">=1/3"),
    ("> 1/2", ">", Fraction(1, 2), "> 1/2"),
    (">=80%", ">=", Fraction(4, 5), ">=80%"),
    (">90%", ">", Fraction(9, 10), ">90%"),
    (" >= 2 / 3 ", ">=", Fraction(2, 3), ">= 2 / 3"),
    (">=2/6", ">=", Fraction(1, 3), ">=2/6"),
    (">=33.5%", ">=", Fraction(67, 200), ">=33.5%"),
    (">=0%", ">=", Fraction(0), ">=0%"),
    (">=1/1", ">=", Fraction(1), ">=1/1"),
])
def test_threshold_syntax(text, op, value, echoed):
    t = Threshold.parse(text)
    assert (t.op, t.value, t.text) == (op, value, echoed)


@pytest.mark.parametrize("text", ["1/3", "=>1/3", ">=1/0", ">=", ">=1/3%", ">=80", "≥1/3", "<1/2", ">=-1/3",
                                  ">=3/2", ">101%", ">=1e2%", ">= 80 %%", ""])
def test_bad_threshold_syntax(text):
    with pytest.raises(ThresholdError):
        Threshold.parse(text)


@pytest.mark.parametrize(("text", "num", "den", "passes"), [
    (">=1/3", 40, 120, True),  # 33.33% shown, exactly 1/3: 以上 includes it
    (">1/3", 40, 120, False),  # 超过 excludes it
    (">=1/3", 39, 120, False),
    (">1/2", 60, 120, False), (">1/2", 61, 120, True),
    (">=80%", 4, 5, True), (">=80%", 79, 99, False),
    (">90%", 9, 10, False), (">90%", 91, 100, True),
    (">=0%", 0, 5, True),
    (">=1/3", 0, 0, False),  # an empty denominator never passes
])
def test_threshold_compares_exact_fractions(text, num, den, passes):
    assert Threshold.parse(text).passes(num, den) is passes


@pytest.mark.parametrize(("value", "decimals", "mode", "expected"), [
    (Fraction(58, 120) * 100, 2, "half_up", "48.33"),
    (Fraction(1771, 20), 2, "half_up", "88.55"),
    (Fraction(85555, 1000), 2, "half_up", "85.56"),  # the tie goes up
    (Fraction(85555, 1000), 2, "down", "85.55"),  # 截尾
    (Fraction(85559, 1000), 2, "down", "85.55"),
    (Fraction(2, 3), 0, "half_up", "1"),
    (Fraction(1, 2), 0, "half_up", "1"),
    (Fraction(-1, 2), 0, "half_up", "-1"),  # away from zero, like ROUND_HALF_UP
    (Fraction(-1, 1000), 2, "half_up", "0.00"),
    (0, 2, "half_up", "0.00"),
    (Fraction(10**30 + 1, 3), 3, "half_up", "333333333333333333333333333333.667"),  # no 28-digit context
])
def test_quantize_is_exact(value, decimals, mode, expected):
    got = quantize(value, decimals, mode)
    assert isinstance(got, Decimal) and format(got, "f") == expected


def test_percent_of_nothing_is_none():
    assert percent(0, 0) is None
    assert str(percent(1, 3)) == "33.33" and str(percent(2, 3)) == "66.67"


@pytest.mark.parametrize(("name", "text"), sorted(PRESETS.items()))
def test_every_preset_parses_and_remembers_its_name(name, text):
    t = resolve(name)
    assert t.preset == name and t == Threshold.parse(text, preset=name)


def test_presets_are_editable_per_meeting_and_unknown_names_fail():
    assert resolve("rec_competitive", {"rec_competitive": ">1/4"}).value == Fraction(1, 4)
    assert resolve("local_rule", {"local_rule": ">=60%"}).value == Fraction(3, 5)
    with pytest.raises(ThresholdError, match="unknown preset"):
        resolve("no_such_rule")
    with pytest.raises(TypeError):
        PRESETS["rec_competitive"] = ">0%"  # type: ignore[index]
