"""The kinds of round (轮次类型) and what each one does: one vocabulary for the whole tally.

Every place that once asked "is this kind in that set of strings?" asks the kind instead:
whether its ballots come with a ballot card, whether it stays sealed until the scrutineers open
it, whether its envelopes are opened as they arrive, whether it is computed from other rounds.
The database and the wire carry the kind's value (`"recommend"`…); `RoundKind(value)` reads it.
Pure: the standard library only.
"""
from __future__ import annotations

from enum import StrEnum


class RoundKind(StrEnum):
    RECOMMEND = "recommend"  # 民主推荐
    EVALUATE = "evaluate"  # 民主测评
    DECIDE = "decide"  # 票决
    SCORE = "score"  # 评分 (judges)
    COMPOSITE = "composite"  # 综合成绩

    @property
    def takes_cards(self) -> bool:
        """Voters cast it with a ballot card (选票卡), one ballot per card, at most 实到 ballots."""
        return self in _SECRET

    @property
    def secret(self) -> bool:
        """Sealed until it closes and the scrutineers open it (无记名): no partial counts are shown."""
        return self in _SECRET

    @property
    def takes_ballots(self) -> bool:
        """Kiosks send envelopes for it (voters' ballots or judges' scores)."""
        return self is not RoundKind.COMPOSITE

    @property
    def opened_at_intake(self) -> bool:
        """Its envelopes are opened as they arrive: judges' scores are open data (亮分)."""
        return self is RoundKind.SCORE

    @property
    def computed(self) -> bool:
        """Computed from other rounds' results; it takes no ballots."""
        return self is RoundKind.COMPOSITE

    @property
    def has_attendance(self) -> bool:
        """Has 应到/实到/发出 (and so a quorum and a cap on ballots)."""
        return self in _SECRET


_SECRET = frozenset({RoundKind.RECOMMEND, RoundKind.EVALUATE, RoundKind.DECIDE})

KINDS = tuple(RoundKind)
