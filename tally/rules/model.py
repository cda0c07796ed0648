"""The plan as frozen values: what each round counts and by which rules (the meeting file, parsed).

These are the engine's inputs; `tally.plan` builds them from a meeting file and validates it,
this module only describes them. Vocabulary: 应到 `expected`, 实到 `present`, 发出 `issued`,
职位 post, 候选人 candidate, 测评对象 subject, 票决对象 nominee, 选手 contestant.
Pure: no I/O, no clock.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import ClassVar, Literal, TypeAlias

from tally.rules.kinds import RoundKind
from tally.rules.rounding import Rounding
from tally.rules.threshold import Threshold

Denominator = Literal["present", "valid", "expected"]
Overvote = Literal["section", "ballot"]

DEFAULT_GRADES = ("优秀", "称职", "基本称职", "不称职")
SCORE_TIE_BREAKS = ("full_mean",)


@dataclass(frozen=True)
class Attendance:
    """应到/实到/发出 for one round; the live tally passes them from check-in. None = not known."""

    expected: int | None = None
    present: int | None = None
    issued: int | None = None


@dataclass(frozen=True)
class Post:
    """One section of a recommendation ballot (职位): seats, reference list, write-ins, pass mark."""

    id: str
    seats: int
    candidates: tuple[str, ...]
    threshold: Threshold
    write_in: bool = False
    title: str | None = None
    competitive: bool = False  # the plan requires 差额 (more candidates than seats)


@dataclass(frozen=True)
class RecommendRound:
    """民主推荐 (会议推荐): one section per post."""

    kind: ClassVar[RoundKind] = RoundKind.RECOMMEND
    id: str
    expected: int
    posts: tuple[Post, ...]
    present: int | None = None
    issued: int | None = None
    denominator: Denominator = "present"
    overvote: Overvote = "section"
    title: str | None = None
    electorate: str | None = None


@dataclass(frozen=True)
class EvaluateRound:
    """民主测评: one grade (and optionally a direction) per subject."""

    kind: ClassVar[RoundKind] = RoundKind.EVALUATE
    id: str
    subjects: tuple[str, ...]
    grades: tuple[str, ...] = DEFAULT_GRADES
    directions: tuple[str, ...] = ()
    grade_values: tuple[Decimal, ...] | None = None
    quota: tuple[tuple[str, int], ...] = ()
    threshold: Threshold | None = None  # on 优秀称职率 (the best two grades)
    adjust: Threshold | None = None  # on the worst grade's rate (不称职 ≥ 1/3 → 调整)
    expected: int | None = None
    present: int | None = None
    issued: int | None = None
    rounding: Rounding = "half_up"
    title: str | None = None
    electorate: str | None = None


@dataclass(frozen=True)
class DecideRound:
    """票决: agree/disagree/abstain per nominee; 差额 when `seats` is set."""

    kind: ClassVar[RoundKind] = RoundKind.DECIDE
    id: str
    expected: int
    nominees: tuple[str, ...]
    present: int | None = None
    issued: int | None = None
    seats: int | None = None
    threshold: Threshold = field(default_factory=lambda: Threshold.parse(">1/2"))  # 同意 over 应到
    defer_rule: Threshold | None = None  # 不同意+弃权+未按 over 应到; 等额 only
    title: str | None = None
    electorate: str | None = None

    def __post_init__(self) -> None:
        # RULES §4: the 30% rule is for 等额票决; with seats it would defer every nominee who has
        # the majority, whoever wins the seats. `tally.plan` refuses such a file with its place.
        if self.seats is not None and self.defer_rule is not None:
            raise ValueError(f'decide round "{self.id}": defer_rule applies to 等额票决 only, not with seats (差额)')


@dataclass(frozen=True)
class ScoreRound:
    """评分: a panel of `judges`; drop `trim` highest and lowest instances; mean of the rest."""

    kind: ClassVar[RoundKind] = RoundKind.SCORE
    id: str
    judges: int
    trim: int
    contestants: tuple[str, ...]
    min: Decimal = Decimal(0)
    max: Decimal = Decimal(100)
    step: Decimal = Decimal("0.1")
    decimals: int = 2
    rounding: Rounding = "half_up"
    tie_break: tuple[str, ...] = ()  # from SCORE_TIE_BREAKS
    shortlist: int | None = None
    title: str | None = None
    flag_distance: Decimal | None = None  # live oversight only: flag a score this far from the median


@dataclass(frozen=True)
class Component:
    """One part of a composite: published `scores`, or the results of another `round` (and `post`)."""

    name: str
    weight: Decimal
    scores: tuple[tuple[str, Decimal], ...] | None = None
    round: str | None = None
    post: str | None = None  # for a recommend round: the post whose rate (×100) is the component


@dataclass(frozen=True)
class CompositeRound:
    """综合成绩: Σ weight × component / 100 over published components, then a short list."""

    kind: ClassVar[RoundKind] = RoundKind.COMPOSITE
    id: str
    components: tuple[Component, ...]
    shortlist: int | None = None
    tie_break: tuple[str, ...] = ()  # component names, in order
    rounding: Rounding = "half_up"
    title: str | None = None


RoundPlan: TypeAlias = RecommendRound | EvaluateRound | DecideRound | ScoreRound | CompositeRound


@dataclass(frozen=True)
class Plan:
    """A whole meeting: its title, its rounds in order, and the presets it redefined."""

    title: str
    rounds: tuple[RoundPlan, ...]
    presets: tuple[tuple[str, str], ...] = ()
    source: str = field(default="", compare=False)
    _by_id: dict[str, RoundPlan] = field(init=False, repr=False, compare=False, hash=False)

    def __post_init__(self) -> None:
        # Derived once so that routing a ballot to its round is one dict lookup.
        object.__setattr__(self, "_by_id", {r.id: r for r in self.rounds})

    def round(self, round_id: str) -> RoundPlan:
        """The round with this id; KeyError if the meeting has none."""
        try:
            return self._by_id[round_id]
        except KeyError:
            raise KeyError(f"round {round_id!r} is not in the meeting file") from None

    def __contains__(self, round_id: object) -> bool:
        return round_id in self._by_id
