"""The kinds of round (轮次类型) and what each one does: one vocabulary for the whole tally.

Every place that once asked "is this kind in that set of strings?" asks the kind instead:
whether its ballots come with a ballot card, whether it stays sealed until the scrutineers open
it, whether its envelopes are opened as they arrive, whether it is computed from other rounds.
A ballot round also has a channel (how its ballots arrive: at kiosks, on paper typed in by staff,
or as the 考察组's talk records); `Conduct(kind, channel)` says what the two together do, so
code asks the conduct, never compares a channel string.
The database and the wire carry the kind's value (`"recommend"`…); `RoundKind(value)` reads it.
Pure: the standard library only.
"""
from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class RoundKind(StrEnum):
    RECOMMEND = "recommend"  # 民主推荐
    EVALUATE = "evaluate"  # 民主测评
    DECIDE = "decide"  # 票决
    SCORE = "score"  # 评分 (judges)
    COMPOSITE = "composite"  # 综合成绩
    SHORTLIST = "shortlist"  # 跨轮次的人选名单 (conditions on other rounds, then an order and a cut)

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
        return not self.computed

    @property
    def opened_at_intake(self) -> bool:
        """Its envelopes are opened as they arrive: judges' scores are open data (亮分)."""
        return self is RoundKind.SCORE

    @property
    def computed(self) -> bool:
        """Computed from other rounds' results; it takes no ballots."""
        return self in _COMPUTED

    @property
    def has_attendance(self) -> bool:
        """Has 应到/实到/发出 (and so a quorum and a cap on ballots)."""
        return self in _SECRET

    @property
    def has_channel(self) -> bool:
        """A ballot round whose ballots may come by another channel than the kiosks (paper, talk)."""
        return self in _SECRET


class Channel(StrEnum):
    """How a ballot round's ballots arrive."""

    KIOSK = "kiosk"  # 表决器: sealed at a kiosk with a ballot card
    PAPER = "paper"  # 纸质选票: marked on paper, typed in twice by staff
    TALK = "talk"  # 个别谈话推荐: the 考察组's records, typed in twice by staff (recommend only)


@dataclass(frozen=True)
class Conduct:
    """What a round does, from its kind and its channel together."""

    kind: RoundKind
    channel: Channel = Channel.KIOSK

    @property
    def takes_cards(self) -> bool:
        """Voters cast it at kiosks with a ballot card."""
        return self.kind.takes_cards and self.channel is Channel.KIOSK

    @property
    def secret(self) -> bool:
        """Nothing of it is shown until it is counted (paper and talk rounds included)."""
        return self.kind.secret

    @property
    def entered(self) -> bool:
        """Its ballots are typed in by staff (twice, by two sign-ins), not sent by kiosks."""
        return self.kind.has_channel and self.channel is not Channel.KIOSK

    @property
    def has_quorum(self) -> bool:
        """Counted only when 实到 ≥ 2/3 of 应到. A talk round has none: 实到 is whoever was talked to."""
        return self.kind in _QUORUM and self.channel is not Channel.TALK


_SECRET = frozenset({RoundKind.RECOMMEND, RoundKind.EVALUATE, RoundKind.DECIDE})
_QUORUM = frozenset({RoundKind.RECOMMEND, RoundKind.DECIDE})
_COMPUTED = frozenset({RoundKind.COMPOSITE, RoundKind.SHORTLIST})

KINDS = tuple(RoundKind)
CHANNELS = tuple(Channel)
