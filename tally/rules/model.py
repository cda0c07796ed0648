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

from tally.rules.kinds import Channel, Conduct, RoundKind
from tally.rules.rounding import Rounding
from tally.rules.threshold import Threshold

Denominator = Literal["present", "valid", "expected"]
Overvote = Literal["section", "ballot"]
# Why a round repeats another (重新投票): a tie at the last seat, no majority in a 差额 decision,
# a void round (收回 > 发出), a round closed by mistake, or a 递补 after 公示.
RepeatReason = Literal["tie", "no_majority", "void", "closed_early", "succession"]
REPEAT_REASONS: tuple[RepeatReason, ...] = ("tie", "no_majority", "void", "closed_early", "succession")
# The repeats that replace their origin: a computed round drawing on the origin takes the repeat.
SUPERSEDING: frozenset[str] = frozenset({"void", "closed_early"})

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
    threshold: Threshold | None  # None: `threshold: none`, no pass mark (不简单以票取人)
    write_in: bool = False
    title: str | None = None
    competitive: bool = False  # the plan requires 差额 (more candidates than seats)
    advisory: bool = False  # 原则上: below the mark is flagged (the chair records a reason), never blocked
    top: int | None = None  # 最多上报 N 名: the N with the most votes (all tied at the cut) are `forwarded`


class BallotRound:
    """What every ballot round (recommend, evaluate, decide) has besides its own rules."""

    kind: ClassVar[RoundKind]
    id: str
    channel: Channel
    electorate: tuple[str, ...] | None
    repeats: str | None
    repeat_reason: RepeatReason | None
    attempt: int

    @property
    def conduct(self) -> Conduct:
        return Conduct(self.kind, self.channel)


@dataclass(frozen=True)
class RecommendRound(BallotRound):
    """民主推荐 (会议推荐, or 个别谈话推荐 with `channel: talk`): one section per post."""

    kind: ClassVar[RoundKind] = RoundKind.RECOMMEND
    id: str
    expected: int | None  # required but for a talk round
    posts: tuple[Post, ...]
    present: int | None = None
    issued: int | None = None
    denominator: Denominator = "present"
    overvote: Overvote = "section"
    title: str | None = None
    electorate: tuple[str, ...] | None = None  # check-in groups whose members vote; None = the whole roster
    channel: Channel = Channel.KIOSK
    postal: bool = False  # 书面/邮寄 ballots may be entered after the round closes
    repeats: str | None = None  # the round this one repeats (重新投票)
    repeat_reason: RepeatReason | None = None
    attempt: int = 1  # derived: 1 + the attempt of the round it repeats (never written in the file)
    beside: str | None = None  # a talk round: the meeting recommendation it is shown beside
    valid_months: int | None = None  # 推荐结果…个月内有效


@dataclass(frozen=True)
class EvaluateRound(BallotRound):
    """民主测评: one grade (and optionally a direction) per subject, or a score per item (量化计分)."""

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
    electorate: tuple[str, ...] | None = None  # check-in groups whose members vote; None = the whole roster
    channel: Channel = Channel.KIOSK
    postal: bool = False  # 书面/邮寄 ballots may be entered after the round closes
    repeats: str | None = None  # the round this one repeats (重新投票)
    repeat_reason: RepeatReason | None = None
    attempt: int = 1  # derived: 1 + the attempt of the round it repeats (never written in the file)
    items: tuple[tuple[str, int], ...] | None = None  # 德能勤绩廉: item → full marks, in order
    item_step: Decimal = Decimal(1)
    advisory: bool = False  # 一般达到…: the threshold flags, never blocks


@dataclass(frozen=True)
class DecideRound(BallotRound):
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
    electorate: tuple[str, ...] | None = None  # check-in groups whose members vote; None = the whole roster
    channel: Channel = Channel.KIOSK
    postal: bool = False  # 书面/邮寄 ballots may be entered after the round closes
    repeats: str | None = None  # the round this one repeats (重新投票)
    repeat_reason: RepeatReason | None = None
    attempt: int = 1  # derived: 1 + the attempt of the round it repeats (never written in the file)
    post: str | None = None  # 拟任职务 of every nominee (for the 公示 notice)
    posts: tuple[tuple[str, str], ...] = ()  # or per nominee

    def post_of(self, nominee: str) -> str | None:
        """The post a nominee is decided for, if the file says."""
        return dict(self.posts).get(nominee, self.post)

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
    panel: Panel | None = None  # how the panel is drawn from the pool (category minimums)


@dataclass(frozen=True)
class Panel:
    """A judge panel's draw: at least `minimum` judges of each pool category (002: 区公务员局)."""

    quota: tuple[tuple[str, int], ...]  # category → minimum, in the file's order
    advisory: bool = False  # 原则上: a pool that cannot meet it is drawn with a recorded reason


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


@dataclass(frozen=True)
class Condition:
    """A short list's condition: a rate of another round against a threshold (all must hold)."""

    round: str
    measure: str  # "rate" (recommend), "competent_or_above" or a grade (evaluate)
    threshold: Threshold
    post: str | None = None
    advisory: bool = False  # a candidate below it is flagged, not left out


@dataclass(frozen=True)
class OrderKey:
    """One key of a short list's order, highest first: a measure of a round, or a typed key."""

    round: str | None = None
    post: str | None = None
    by: str | None = None  # votes, rate, competent_or_above, a grade, score, mean, composite
    key: str | None = None  # a typed key (资历, 学历) defined under `keys`
    lower_first: bool = False


@dataclass(frozen=True)
class TypedKey:
    """A key the plan (or the chair, live) types in per person: numbers, or labels on a scale."""

    name: str
    scale: tuple[str, ...] | None = None  # labels, best first; None = decimal numbers (more ranks first)
    values: tuple[tuple[str, str], ...] = ()  # person → the decimal text, or a label of the scale


@dataclass(frozen=True)
class ShortlistRound:
    """跨轮次名单: the candidates who meet every condition, ranked by `order`, cut at seats × ratio."""

    kind: ClassVar[RoundKind] = RoundKind.SHORTLIST
    id: str
    candidates: tuple[str, ...]  # as written, or the first source's names (derived)
    order: tuple[OrderKey, ...]
    conditions: tuple[Condition, ...] = ()
    keys: tuple[TypedKey, ...] = ()
    seats: int = 1
    ratio: int = 1
    title: str | None = None
    listed: bool = False  # whether the file lists the candidates (else they were derived)

    @property
    def take(self) -> int:
        return self.seats * self.ratio


@dataclass(frozen=True)
class Publicity:
    """任前公示: its period (working days or calendar days), who publishes it, where concerns go."""

    issuer: str
    contact: str
    working_days: int | None = None
    days: int | None = None
    title: str = "干部任前公示"
    details: tuple[tuple[str, str], ...] = ()  # person → 现任职务 etc.


RoundPlan: TypeAlias = RecommendRound | EvaluateRound | DecideRound | ScoreRound | CompositeRound | ShortlistRound
BallotPlan: TypeAlias = RecommendRound | EvaluateRound | DecideRound


@dataclass(frozen=True)
class Plan:
    """A whole meeting: its title, its rounds in order, and the presets it redefined."""

    title: str
    rounds: tuple[RoundPlan, ...]
    presets: tuple[tuple[str, str], ...] = ()
    publicity: Publicity | None = None
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

    def superseding(self, round_id: str) -> str:
        """The round whose result stands for `round_id`: the latest repeat that replaces it (a void
        round or one closed by mistake, repeated), else the round itself. A tie, no-majority or
        succession re-vote decides its own nominees beside its origin and replaces nothing."""
        current = round_id
        while True:
            nxt = next((r.id for r in self.rounds if isinstance(r, BallotRound)
                        and r.repeats == current and r.repeat_reason in SUPERSEDING), None)
            if nxt is None:
                return current
            current = nxt
