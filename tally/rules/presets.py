"""Named pass marks from the seed documents: local rules, so editable data, never hard law.

A plan picks one with `preset: name` (or writes the threshold string itself); a meeting file
may redefine or add presets under `presets:`. Each entry names where it comes from.
Pure: no I/O.
"""
from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Final

from tally.rules.errors import ThresholdError
from tally.rules.threshold import Threshold

PRESETS: Final[Mapping[str, str]] = MappingProxyType({
    # 001 会议推荐, 差额: 得票率低于三分之一的原则上不列为考察对象 → a rate of exactly 1/3 passes.
    "rec_competitive": ">=1/3",
    # 001 市直部门等额推荐: 得票不过半的不列为考察对象 → needs more than half.
    "rec_uncontested": ">1/2",
    # 003 全额定向推荐 and 后备干部推荐: 得票均超过50%.
    "rec_full_slate": ">50%",
    "rec_reserve": ">50%",
    # 003 自我推荐: 在获得80%的票数后才能进入酝酿程序.
    "self_nominated": ">=80%",
    # 004 民主测评优秀称职率一般达到80%以上 (on 优秀+称职).
    "eval_promote_004": ">=80%",
    # 003 民主测评中"称职"以上的得票数需超过90%.
    "eval_003": ">90%",
    # RULES §3: 不称职 ≥ 1/3 triggers the adjustment of a serving cadre.
    "eval_adjust": ">=1/3",
    # 004 党组应到会成员超过半数同意形成决定 (of all members, not of those present).
    "decide_majority": ">1/2",
    # 001 等额票决: 不同意票和弃权票超过应到会人数30%的, 暂缓作出任用决定.
    "defer_30": ">30%",
})


def resolve(name: str, overrides: Mapping[str, str] | None = None) -> Threshold:
    """The threshold a preset name stands for; the meeting file's `presets:` win over the defaults."""
    table = {**PRESETS, **(overrides or {})}
    if name not in table:
        known = ", ".join(sorted(table))
        raise ThresholdError(f"unknown preset {name!r} (known: {known})")
    return Threshold.parse(table[name], preset=name)
