"""Validating a meeting file's mapping into a `Plan` (CONTRACT.md), with one clear error.

`parse_plan(data, source)` takes the mapping a loader produced (YAML or JSON, or a stored
copy) and either returns the frozen plan the rules engine counts with or raises `PlanError`
naming the file, the line where known, the place (`rounds[0].posts[1].seats`) and the problem.
Never reads files (that is `tally.plan.load`).
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any, Final

from tally.plan.errors import PlanError
from tally.plan.fields import ID, Node, shown
from tally.rules.errors import ThresholdError
from tally.rules.kinds import KINDS, RoundKind
from tally.rules.model import (
    DEFAULT_GRADES,
    SCORE_TIE_BREAKS,
    Component,
    CompositeRound,
    DecideRound,
    EvaluateRound,
    Plan,
    Post,
    RecommendRound,
    RoundPlan,
    ScoreRound,
)
from tally.rules.names import NAME_MAX
from tally.rules.presets import PRESETS
from tally.rules.rounding import ROUNDING_MODES, places
from tally.rules.threshold import Threshold

TOP_KEYS: Final = ("meeting", "rounds", "presets")
ROUND_KEYS: Final[dict[str, tuple[str, ...]]] = {
    "recommend": ("id", "kind", "title", "expected", "present", "issued", "denominator", "overvote",
                  "electorate", "posts"),
    "evaluate": ("id", "kind", "title", "expected", "present", "issued", "electorate", "subjects",
                 "grades", "directions", "grade_values", "quota", "threshold", "preset", "adjust",
                 "rounding"),
    "decide": ("id", "kind", "title", "expected", "present", "issued", "electorate", "nominees", "seats",
               "threshold", "preset", "defer_rule"),
    "score": ("id", "kind", "title", "judges", "trim", "min", "max", "step", "decimals", "rounding",
              "contestants", "tie_break", "shortlist", "flag_distance"),
    "composite": ("id", "kind", "title", "components", "shortlist", "tie_break", "rounding"),
}
POST_KEYS: Final = ("id", "title", "seats", "candidates", "write_in", "competitive", "threshold", "preset")
COMPONENT_KEYS: Final = ("name", "weight", "scores", "round", "post")
MAX_DECIMALS: Final = 6
MAX_JUDGES: Final = 999  # seats J1…J999 (a panel is up to 30; the seat of a void is at most 999 too)


def parse_plan(data: Mapping[str, Any], source: str = "meeting") -> Plan:
    """The validated plan of a meeting file's mapping; PlanError on the first problem."""
    top = Node(data, "", source)
    top.only(TOP_KEYS)
    presets = _presets(top)
    meeting = top.child("meeting", top.raw("meeting"))
    title = meeting.string("title")
    rounds_raw = top.raw("rounds")
    if not isinstance(rounds_raw, list) or not rounds_raw:
        top.fail("rounds", "must be a non-empty list of rounds")
    rounds: list[RoundPlan] = []
    seen: set[str] = set()
    for i, raw in enumerate(rounds_raw):
        node = top.child("rounds", raw, i)
        round_id = node.string("id", pattern=ID)
        if round_id in seen:
            node.fail("id", f'round id "{round_id}" is used twice')
        seen.add(round_id)
        kind = node.raw("kind")
        if kind not in KINDS:
            node.fail("kind", f"unknown kind {shown(kind)} (known: {', '.join(KINDS)})")
        node.only(ROUND_KEYS[kind])
        rounds.append(_READERS[kind](node, round_id, presets))
    plan = Plan(title=title, rounds=tuple(rounds), presets=tuple(sorted(_own_presets(top).items())),
                source=source)
    for i, rnd in enumerate(plan.rounds):
        if isinstance(rnd, CompositeRound):
            _check_composite_sources(top.child("rounds", rounds_raw[i], i), rnd, plan)
    return plan


def _own_presets(top: Node) -> dict[str, str]:
    raw = top.data.get("presets") or {}
    return {str(k): str(v) for k, v in raw.items()}


def _presets(top: Node) -> dict[str, str]:
    """The preset table: defaults, redefined or extended by the file's own `presets:`."""
    if not top.has("presets"):
        return dict(PRESETS)
    node = top.child("presets", top.data["presets"])
    for name, text in node.data.items():
        if not isinstance(name, str) or not ID.fullmatch(name):
            node.fail(str(name), "a preset name may use only letters, digits, - and _ (at most 64)")
        if not isinstance(text, str):
            node.fail(name, f'must be a threshold string such as ">=1/3", not {shown(text)}')
        try:
            Threshold.parse(text)
        except ThresholdError as exc:
            node.fail(name, str(exc))
    return {**PRESETS, **node.data}


def _attendance(node: Node, required: bool) -> tuple[int | None, int | None, int | None]:
    """应到 (required where a quorum is counted), 实到 and 发出 (the live tally fills these in)."""
    expected = node.integer("expected", minimum=1) if required else node.integer("expected", None, 1)
    present = node.integer("present", None, 0)
    issued = node.integer("issued", None, 0)
    if expected is not None and present is not None and present > expected:
        node.fail("present", f"实到 ({present}) cannot exceed 应到 ({expected})")
    return expected, present, issued


def _recommend(node: Node, round_id: str, presets: Mapping[str, str]) -> RecommendRound:
    expected, present, issued = _attendance(node, required=True)
    assert expected is not None
    posts_raw = node.raw("posts")
    if not isinstance(posts_raw, list) or not posts_raw:
        node.fail("posts", "must be a non-empty list of posts")
    posts: list[Post] = []
    for i, raw in enumerate(posts_raw):
        post = node.child("posts", raw, i)
        post.only(POST_KEYS)
        post_id = post.string("id", pattern=ID)
        if any(p.id == post_id for p in posts):
            post.fail("id", f'post id "{post_id}" is used twice in this round')
        seats = post.integer("seats", minimum=1)
        write_in = post.boolean("write_in", False)
        # 另推 only: a post may list nobody when voters write every name in.
        candidates = post.names("candidates", (), allow_empty=True) if write_in else post.names("candidates")
        competitive = post.boolean("competitive", False)
        if competitive and len(candidates) <= seats:
            post.fail("candidates", f"差额 needs more candidates than seats ({len(candidates)} for {seats})")
        if len(candidates) < seats and not write_in:
            post.fail("candidates", f"fewer candidates ({len(candidates)}) than seats ({seats}) and no "
                                    "write-ins: the seats could never be filled")
        default = ">=1/3" if len(candidates) > seats else ">1/2"
        threshold = post.threshold("threshold", presets, default, "preset")
        assert threshold is not None
        posts.append(Post(id=post_id, title=post.string("title", None), seats=seats, candidates=candidates,
                          write_in=write_in, competitive=competitive, threshold=threshold))
    return RecommendRound(
        id=round_id, title=node.string("title", None), expected=expected, present=present, issued=issued,
        denominator=node.choice("denominator", ("present", "valid", "expected"), "present"),
        overvote=node.choice("overvote", ("section", "ballot"), "section"),
        electorate=node.string("electorate", None), posts=tuple(posts),
    )


def _evaluate(node: Node, round_id: str, presets: Mapping[str, str]) -> EvaluateRound:
    expected, present, issued = _attendance(node, required=False)
    subjects = node.names("subjects")
    grades = node.names("grades", DEFAULT_GRADES)
    if len(grades) < 2:
        node.fail("grades", "needs at least two grades, best first")
    directions = node.names("directions", (), allow_empty=True)
    grade_values = None
    if node.has("grade_values"):
        grade_values = node.numbers("grade_values", len(grades))
    quota: list[tuple[str, int]] = []
    if node.has("quota"):
        q = node.child("quota", node.raw("quota"))
        for grade in q.data:
            if grade not in grades:
                q.fail(str(grade), f"{grade!r} is not one of the grades ({', '.join(grades)})")
            quota.append((grade, q.integer(grade, minimum=0)))
    return EvaluateRound(
        id=round_id, title=node.string("title", None), expected=expected, present=present, issued=issued,
        electorate=node.string("electorate", None), subjects=subjects, grades=grades, directions=directions,
        grade_values=grade_values, quota=tuple(quota),
        threshold=node.threshold("threshold", presets, None, "preset"),
        adjust=node.threshold("adjust", presets), rounding=node.choice("rounding", ROUNDING_MODES, "half_up"),
    )


def _decide(node: Node, round_id: str, presets: Mapping[str, str]) -> DecideRound:
    expected, present, issued = _attendance(node, required=True)
    assert expected is not None
    nominees = node.names("nominees")
    seats = node.integer("seats", None, 1)
    if seats is not None and len(nominees) < seats:
        node.fail("nominees", f"差额票决 needs at least as many nominees as seats ({len(nominees)} for {seats})")
    threshold = node.threshold("threshold", presets, ">1/2", "preset")
    assert threshold is not None
    defer_rule = node.threshold("defer_rule", presets)
    if seats is not None and defer_rule is not None:
        node.fail("defer_rule", "the 30% rule (暂缓) applies to 等额票决 only; a round with seats (差额票决) "
                                "cannot have it: remove defer_rule or seats")
    return DecideRound(
        id=round_id, title=node.string("title", None), expected=expected, present=present, issued=issued,
        electorate=node.string("electorate", None), nominees=nominees, seats=seats, threshold=threshold,
        defer_rule=defer_rule,
    )


def _score(node: Node, round_id: str, presets: Mapping[str, str]) -> ScoreRound:
    judges = node.integer("judges", minimum=1, maximum=MAX_JUDGES)
    trim = node.integer("trim", minimum=0)
    if 2 * trim + 1 > judges:
        node.fail("trim", f"dropping {trim} at each end needs at least {2 * trim + 1} judges; the panel has {judges}")
    low, high = node.decimal("min", Decimal(0)), node.decimal("max", Decimal(100))
    step = node.decimal("step", Decimal("0.1"))
    if step <= 0:
        node.fail("step", "must be more than 0")
    if low >= high:
        node.fail("max", f"must be more than min ({low})")
    for key, value in (("min", low), ("max", high)):
        if places(value) > places(step) or (value - low) % step:
            node.fail(key, f"{value} is not on the step {step}")
    decimals = node.integer("decimals", 2, 0)
    if decimals > MAX_DECIMALS:
        node.fail("decimals", f"at most {MAX_DECIMALS} places")
    tie_break = node.names("tie_break", (), allow_empty=True)
    for i, key in enumerate(tie_break):
        if key not in SCORE_TIE_BREAKS:
            node.fail("tie_break", f"unknown tie-break key {shown(key)} (known: {', '.join(SCORE_TIE_BREAKS)})", i)
    flag = node.decimal("flag_distance", None)
    if flag is not None and flag <= 0:
        node.fail("flag_distance", "must be more than 0")
    return ScoreRound(
        id=round_id, title=node.string("title", None), judges=judges, trim=trim, min=low, max=high, step=step,
        decimals=decimals, rounding=node.choice("rounding", ROUNDING_MODES, "half_up"),
        contestants=node.names("contestants"), tie_break=tie_break, shortlist=node.integer("shortlist", None, 1),
        flag_distance=flag,
    )


def _composite(node: Node, round_id: str, presets: Mapping[str, str]) -> CompositeRound:
    raw = node.raw("components")
    if not isinstance(raw, list) or not raw:
        node.fail("components", "must be a non-empty list of components")
    components: list[Component] = []
    for i, item in enumerate(raw):
        c = node.child("components", item, i)
        c.only(COMPONENT_KEYS)
        name = c.string("name")
        if any(x.name == name for x in components):
            c.fail("name", f"component {shown(name)} is named twice")
        weight = c.decimal("weight")
        if weight <= 0:
            c.fail("weight", "must be more than 0")
        if c.has("scores") == c.has("round"):
            c.fail(None, "give either scores (published) or round (another round's results), exactly one")
        scores = None
        if c.has("scores"):
            table = c.child("scores", c.raw("scores"))
            if not table.data:
                c.fail("scores", "lists nobody")
            for person in table.data:
                if not isinstance(person, str) or not person.strip():
                    table.fail(str(person), "is not a name")
                table.check_text(person, person, NAME_MAX)
            scores = tuple((person, table.decimal(person)) for person in table.data)
        components.append(Component(name=name, weight=weight, scores=scores,
                                    round=c.string("round", None, pattern=ID), post=c.string("post", None)))
        if scores is not None and components[-1].post is not None:
            c.fail("post", "only a component drawn from a recommend round names a post")
    total = sum((c.weight for c in components), Decimal(0))
    if total != 100:
        node.fail("components", f"weights total {total}, not 100")
    names = [c.name for c in components]
    tie_break = node.names("tie_break", (), allow_empty=True)
    for i, key in enumerate(tie_break):
        if key not in names:
            node.fail("tie_break", f"{shown(key)} is not a component ({', '.join(names)})", i)
    return CompositeRound(
        id=round_id, title=node.string("title", None), components=tuple(components),
        shortlist=node.integer("shortlist", None, 1), tie_break=tie_break,
        rounding=node.choice("rounding", ROUNDING_MODES, "half_up"),
    )


def _check_composite_sources(node: Node, rnd: CompositeRound, plan: Plan) -> None:
    """Rounds named by components must exist and publish a per-person number."""
    raw = node.data["components"]
    for i, c in enumerate(rnd.components):
        if c.round is None:
            continue
        cnode = node.child("components", raw[i], i)
        if c.round not in plan:
            cnode.fail("round", f'names round "{c.round}", which is not in the meeting file')
        source = plan.round(c.round)
        if source.kind not in (RoundKind.SCORE, RoundKind.EVALUATE, RoundKind.RECOMMEND):
            cnode.fail("round", f'round "{c.round}" is a {source.kind} round: it publishes no per-person score')
        if isinstance(source, EvaluateRound) and source.grade_values is None:
            cnode.fail("round", f'evaluate round "{c.round}" has no grade_values, so no quantified score')
        if isinstance(source, RecommendRound):
            if c.post is None:
                cnode.fail("post", f'a component from recommend round "{c.round}" must name one of its posts')
            if all(p.id != c.post for p in source.posts):
                cnode.fail("post", f'round "{c.round}" has no post "{c.post}"')
        elif c.post is not None:
            cnode.fail("post", "only a component drawn from a recommend round names a post")


_READERS: dict[str, Callable[[Node, str, Mapping[str, str]], RoundPlan]] = {
    "recommend": _recommend, "evaluate": _evaluate, "decide": _decide, "score": _score,
            "composite": _composite}

__all__ = ["KINDS", "PlanError", "parse_plan"]
