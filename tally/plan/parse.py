"""Validating a meeting file's mapping into a `Plan` (CONTRACT.md), with one clear error.

`parse_plan(data, source)` takes the mapping a loader produced (YAML or JSON, or a stored
copy) and either returns the frozen plan the rules engine counts with or raises `PlanError`
naming the file, the line where known, the place (`rounds[0].posts[1].seats`) and the problem.
Never reads files (that is `tally.plan.load`).
"""
from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import replace
from decimal import Decimal
from typing import Any, Final

from tally.plan.errors import PlanError
from tally.plan.fields import ID, INT_MAX, Node, shown
from tally.rules.errors import ThresholdError
from tally.rules.kinds import CHANNELS, KINDS, Channel, RoundKind
from tally.rules.model import (
    DEFAULT_GRADES,
    REPEAT_REASONS,
    SCORE_TIE_BREAKS,
    BallotRound,
    Component,
    CompositeRound,
    Condition,
    DecideRound,
    EvaluateRound,
    OrderKey,
    Panel,
    Plan,
    Post,
    Publicity,
    RecommendRound,
    RoundPlan,
    ScoreRound,
    ShortlistRound,
    TypedKey,
)
from tally.rules.names import NAME_MAX
from tally.rules.presets import PRESETS
from tally.rules.rounding import ROUNDING_MODES, places
from tally.rules.threshold import Threshold

TOP_KEYS: Final = ("meeting", "rounds", "presets", "publicity")
BALLOT_KEYS: Final = ("electorate", "channel", "postal", "repeats", "repeat_reason")
ROUND_KEYS: Final[dict[str, tuple[str, ...]]] = {
    "recommend": ("id", "kind", "title", "expected", "present", "issued", "denominator", "overvote",
                  *BALLOT_KEYS, "posts", "beside", "valid_months"),
    "evaluate": ("id", "kind", "title", "expected", "present", "issued", *BALLOT_KEYS, "subjects",
                 "grades", "directions", "grade_values", "quota", "threshold", "preset", "adjust",
                 "rounding", "items", "item_step", "advisory"),
    "decide": ("id", "kind", "title", "expected", "present", "issued", *BALLOT_KEYS, "nominees", "seats",
               "threshold", "preset", "defer_rule", "post", "posts"),
    "score": ("id", "kind", "title", "judges", "trim", "min", "max", "step", "decimals", "rounding",
              "contestants", "tie_break", "shortlist", "flag_distance", "panel"),
    "composite": ("id", "kind", "title", "components", "shortlist", "tie_break", "rounding"),
    "shortlist": ("id", "kind", "title", "candidates", "conditions", "order", "keys", "seats", "ratio"),
}
POST_KEYS: Final = ("id", "title", "seats", "candidates", "write_in", "competitive", "threshold", "preset",
                    "advisory", "top")
COMPONENT_KEYS: Final = ("name", "weight", "scores", "round", "post")
PUBLICITY_KEYS: Final = ("working_days", "days", "issuer", "contact", "title", "details")
PANEL_KEYS: Final = ("quota", "advisory")
CONDITION_KEYS: Final = ("round", "post", "measure", "threshold", "preset", "advisory")
ORDER_KEYS: Final = ("round", "post", "by", "key", "lower_first")
TYPED_KEY_KEYS: Final = ("scale", "values")
MAX_DECIMALS: Final = 6
MAX_JUDGES: Final = 999  # seats J1…J999 (a panel is up to 30; the seat of a void is at most 999 too)
GROUP_MAX: Final = 80  # a check-in group's name (类别)
CONTACT_MAX: Final = 500
PUBLICITY_DAYS_MAX: Final = 60
VALID_MONTHS_MAX: Final = 120
NO_THRESHOLD: Final = "none"  # `threshold: none`: a post without a pass mark


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
        if kind == "decide" and "advisory" in node.data:
            node.fail("advisory", "a decision's majority is binding (超过半数同意形成决定); advisory is not allowed")
        node.only(ROUND_KEYS[kind])
        rounds.append(_READERS[kind](node, round_id, presets))
    rounds = _link_repeats(top, rounds_raw, rounds)
    plan = Plan(title=title, rounds=tuple(rounds), presets=tuple(sorted(_own_presets(top).items())),
                publicity=_publicity(top), source=source)
    for i, rnd in enumerate(plan.rounds):
        node = top.child("rounds", rounds_raw[i], i)
        if isinstance(rnd, CompositeRound):
            _check_composite_sources(node, rnd, plan)
        elif isinstance(rnd, RecommendRound) and rnd.beside is not None:
            _check_beside(node, rnd, plan)
    shortlists = {i: rnd for i, rnd in enumerate(plan.rounds) if isinstance(rnd, ShortlistRound)}
    if shortlists:
        resolved = list(plan.rounds)
        for i, rnd in shortlists.items():
            resolved[i] = _check_shortlist(top.child("rounds", rounds_raw[i], i), rnd, plan)
        plan = Plan(title=plan.title, rounds=tuple(resolved), presets=plan.presets, publicity=plan.publicity,
                    source=source)
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


def _ballot(node: Node, kind: RoundKind) -> dict[str, Any]:
    """The keys every ballot round has: electorate, channel, postal, repeats (linked later)."""
    channel = Channel(node.choice("channel", CHANNELS, Channel.KIOSK.value))
    if channel is Channel.TALK and kind is not RoundKind.RECOMMEND:
        node.fail("channel", "only a recommend round can be talk (个别谈话推荐)")
    postal = node.boolean("postal", False)
    if postal and channel is Channel.TALK:
        node.fail("postal", "a talk round takes no postal ballots")
    repeats = node.string("repeats", None, pattern=ID)
    reason = node.choice("repeat_reason", REPEAT_REASONS, "tie") if node.has("repeat_reason") else None
    if repeats is not None and reason is None:
        node.fail(None, "'repeat_reason' is required with repeats (tie, no_majority, void, closed_early, succession)")
    if repeats is None and reason is not None:
        node.fail("repeat_reason", "only a round that repeats another (repeats:) has a repeat_reason")
    return {"electorate": _electorate(node), "channel": channel, "postal": postal, "repeats": repeats,
            "repeat_reason": reason}


def _electorate(node: Node) -> tuple[str, ...] | None:
    """A check-in group, or a list of groups; None when the whole roster votes."""
    raw = node.raw("electorate", None)
    if raw is None:
        return None
    if isinstance(raw, str):
        node.check_text("electorate", raw, GROUP_MAX)
        return (raw,)
    if not isinstance(raw, list) or not raw:
        node.fail("electorate", "must be a group name or a list of group names")
    seen: list[str] = []
    for i, group in enumerate(raw):
        if not isinstance(group, str) or not group.strip():
            node.fail("electorate", "must be a group name or a list of group names", i)
        node.check_text("electorate", group, GROUP_MAX, i)
        if group in seen:
            node.fail("electorate", f"{shown(group)} is listed twice", i)
        seen.append(group)
    return tuple(seen)


def _recommend(node: Node, round_id: str, presets: Mapping[str, str]) -> RecommendRound:
    common = _ballot(node, RoundKind.RECOMMEND)
    talk = common["channel"] is Channel.TALK
    expected, present, issued = _attendance(node, required=not talk)
    beside = node.string("beside", None, pattern=ID)
    if beside is not None and not talk:
        node.fail("beside", "only a talk round is shown beside another round")
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
        threshold: Threshold | None
        if post.data.get("threshold") == NO_THRESHOLD:
            if post.has("preset"):
                post.fail("preset", "'none' takes no preset: give threshold: none or a preset, not both")
            threshold = None
        else:
            threshold = post.threshold("threshold", presets, default, "preset")
        advisory = post.boolean("advisory", False)
        if advisory and threshold is None:
            post.fail("advisory", "advisory needs a threshold (not none)")
        posts.append(Post(id=post_id, title=post.string("title", None), seats=seats, candidates=candidates,
                          write_in=write_in, competitive=competitive, threshold=threshold, advisory=advisory,
                          top=post.integer("top", None, 1)))
    return RecommendRound(
        id=round_id, title=node.string("title", None), expected=expected, present=present, issued=issued,
        denominator=node.choice("denominator", ("present", "valid", "expected"), "present"),
        overvote=node.choice("overvote", ("section", "ballot"), "section"), posts=tuple(posts),
        beside=beside, valid_months=node.integer("valid_months", None, 1, VALID_MONTHS_MAX), **common,
    )


def _evaluate(node: Node, round_id: str, presets: Mapping[str, str]) -> EvaluateRound:
    common = _ballot(node, RoundKind.EVALUATE)
    expected, present, issued = _attendance(node, required=False)
    subjects = node.names("subjects")
    if node.has("items"):
        return _evaluate_items(node, round_id, subjects, expected, present, issued, common)
    if node.has("item_step"):
        node.fail("item_step", "only with items (量化计分 by items)")
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
    threshold = node.threshold("threshold", presets, None, "preset")
    advisory = node.boolean("advisory", False)
    if advisory and threshold is None:
        node.fail("advisory", "advisory needs a threshold")
    return EvaluateRound(
        id=round_id, title=node.string("title", None), expected=expected, present=present, issued=issued,
        subjects=subjects, grades=grades, directions=directions,
        grade_values=grade_values, quota=tuple(quota), threshold=threshold,
        adjust=node.threshold("adjust", presets), rounding=node.choice("rounding", ROUNDING_MODES, "half_up"),
        advisory=advisory, **common,
    )


def _evaluate_items(node: Node, round_id: str, subjects: tuple[str, ...], expected: int | None,
                    present: int | None, issued: int | None, common: dict[str, Any]) -> EvaluateRound:
    """量化计分 by items (德能勤绩廉): item → full marks, a score per item on the ballot."""
    for key in ("grades", "grade_values", "quota", "threshold", "preset", "adjust", "advisory"):
        if node.has(key):
            node.fail(key, f"{key} cannot be combined with items (a round takes grades or scores per item)")
    table = node.child("items", node.raw("items"))
    if not table.data:
        node.fail("items", "must name at least one item")
    items: list[tuple[str, int]] = []
    for name, full in table.data.items():
        if not isinstance(name, str) or not name.strip():
            table.fail(str(name), "is not an item name (a non-empty string)")
        table.check_text(name, name, NAME_MAX)
        if isinstance(full, bool) or not isinstance(full, int) or full < 1:
            table.fail(name, f"full marks must be a whole number of at least 1, not {shown(full)}")
        if full > INT_MAX:
            table.fail(name, f"must be at most {INT_MAX}, not {shown(full)}")
        items.append((name, full))
    step = node.decimal("item_step", Decimal(1))
    if step <= 0:
        node.fail("item_step", "must be more than 0")
    if places(step) > MAX_DECIMALS:
        node.fail("item_step", f"at most {MAX_DECIMALS} places")
    for name, full in items:
        if Decimal(full) % step:
            node.fail("item_step", f"{step} does not divide the full marks of {name} ({full})")
    return EvaluateRound(
        id=round_id, title=node.string("title", None), expected=expected, present=present, issued=issued,
        subjects=subjects, directions=node.names("directions", (), allow_empty=True),
        rounding=node.choice("rounding", ROUNDING_MODES, "half_up"), items=tuple(items), item_step=step, **common,
    )


def _decide(node: Node, round_id: str, presets: Mapping[str, str]) -> DecideRound:
    common = _ballot(node, RoundKind.DECIDE)
    expected, present, issued = _attendance(node, required=True)
    assert expected is not None
    nominees = node.names("nominees")
    if node.has("post") and node.has("posts"):
        node.fail("posts", "give post or posts, not both")
    posts: list[tuple[str, str]] = []
    if node.has("posts"):
        table = node.child("posts", node.raw("posts"))
        for nominee in table.data:
            if nominee not in nominees:
                table.fail(str(nominee), f"{shown(nominee)} is not a nominee")
            posts.append((nominee, table.string(nominee)))
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
        nominees=nominees, seats=seats, threshold=threshold,
        defer_rule=defer_rule, post=node.string("post", None), posts=tuple(posts),
        **common,
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
        flag_distance=flag, panel=_panel(node, judges),
    )


def _panel(node: Node, judges: int) -> Panel | None:
    """`panel: {quota: {category: minimum}, advisory}`: how the judges are drawn from the pool."""
    if not node.has("panel"):
        return None
    panel = node.child("panel", node.raw("panel"))
    panel.only(PANEL_KEYS)
    table = panel.child("quota", panel.raw("quota"))
    if not table.data:
        panel.fail("quota", "must name at least one pool category")
    quota: list[tuple[str, int]] = []
    for category in table.data:
        if not isinstance(category, str) or not category.strip():
            table.fail(str(category), "is not a pool category (a non-empty string)")
        table.check_text(category, category, GROUP_MAX)
        quota.append((category, table.integer(category, minimum=1)))
    total = sum(n for _, n in quota)
    if total > judges:
        panel.fail("quota", f"the minimums total {total}, more than the panel of {judges} judges")
    return Panel(quota=tuple(quota), advisory=panel.boolean("advisory", False))


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
        if isinstance(source, EvaluateRound) and source.grade_values is None and source.items is None:
            cnode.fail("round", f'evaluate round "{c.round}" has neither grade_values nor items, so no '
                                "quantified score")
        if isinstance(source, RecommendRound):
            if c.post is None:
                cnode.fail("post", f'a component from recommend round "{c.round}" must name one of its posts')
            if all(p.id != c.post for p in source.posts):
                cnode.fail("post", f'round "{c.round}" has no post "{c.post}"')
        elif c.post is not None:
            cnode.fail("post", "only a component drawn from a recommend round names a post")


def _shortlist(node: Node, round_id: str, presets: Mapping[str, str]) -> ShortlistRound:
    """The short list as written; its sources are checked once every round is read (`_check_shortlist`)."""
    conditions: list[Condition] = []
    raw = node.raw("conditions", [])
    if not isinstance(raw, list):
        node.fail("conditions", "must be a list of conditions")
    for i, item in enumerate(raw):
        c = node.child("conditions", item, i)
        c.only(CONDITION_KEYS)
        threshold = c.threshold("threshold", presets, None, "preset")
        if threshold is None:
            c.fail(None, "'threshold' is required (or a preset)")
        conditions.append(Condition(round=c.string("round", pattern=ID), post=c.string("post", None, pattern=ID),
                                    measure=c.string("measure"), threshold=threshold,
                                    advisory=c.boolean("advisory", False)))
    raw = node.raw("order")
    if not isinstance(raw, list) or not raw:
        node.fail("order", "must be a non-empty list: who leads, key by key")
    order: list[OrderKey] = []
    for i, item in enumerate(raw):
        o = node.child("order", item, i)
        o.only(ORDER_KEYS)
        if o.has("key") == o.has("round"):
            o.fail(None, "give round (with by) or key, exactly one")
        if o.has("key"):
            for extra in ("post", "by"):
                if o.has(extra):
                    o.fail(extra, "a typed key takes no post or by")
            order.append(OrderKey(key=o.string("key"), lower_first=o.boolean("lower_first", False)))
        else:
            order.append(OrderKey(round=o.string("round", pattern=ID), post=o.string("post", None, pattern=ID),
                                  by=o.string("by"), lower_first=o.boolean("lower_first", False)))
    keys: list[TypedKey] = []
    if node.has("keys"):
        table = node.child("keys", node.raw("keys"))
        for name in table.data:
            if not isinstance(name, str) or not name.strip():
                table.fail(str(name), "is not a key name (a non-empty string)")
            table.check_text(name, name, NAME_MAX)
            keys.append(_typed_key(table.child(name, table.data[name]), name))
    known = {k.name for k in keys}
    for i, entry in enumerate(order):
        if entry.key is not None and entry.key not in known:
            node.child("order", raw[i], i).fail("key", f"{shown(entry.key)} is not defined under keys")
    listed = node.has("candidates")
    return ShortlistRound(
        id=round_id, title=node.string("title", None),
        candidates=node.names("candidates") if listed else (), listed=listed,
        conditions=tuple(conditions), order=tuple(order), keys=tuple(keys),
        seats=node.integer("seats", 1, 1), ratio=node.integer("ratio", 1, 1),
    )


def _typed_key(node: Node, name: str) -> TypedKey:
    """`{values: {person: number}}` or `{scale: [labels, best first], values: {person: label}}`."""
    node.only(TYPED_KEY_KEYS)
    scale = node.names("scale") if node.has("scale") else None
    values: list[tuple[str, str]] = []
    if node.has("values"):
        table = node.child("values", node.raw("values"))
        for person, value in table.data.items():
            if not isinstance(person, str) or not person.strip():
                table.fail(str(person), "is not a name")
            table.check_text(person, person, NAME_MAX)
            values.append((person, _key_value(table, person, value, scale)))
    return TypedKey(name=name, scale=scale, values=tuple(values))


def _key_value(node: Node, person: str, value: object, scale: tuple[str, ...] | None) -> str:
    """One typed value: a label on the scale, or a decimal number written exactly."""
    if scale is not None:
        if value not in scale:
            node.fail(person, f"{shown(value)} is not on the scale ({', '.join(scale)})")
        return str(value)
    try:
        return format(_number_of(value), "f")
    except ValueError:
        node.fail(person, "not a decimal number")


def _number_of(value: object) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, int | str | Decimal):
        raise ValueError(value)
    if isinstance(value, str):
        if not re.fullmatch(r"-?\d+(\.\d+)?", value):
            raise ValueError(value)
        return Decimal(value)
    return Decimal(value)


# What each kind of source offers a short list: measures a condition may compare (rates), and what
# the order may use (`by`). Scores are never conditions: "conditions compare rates; put scores in order".
def _measures(source: RoundPlan, post: str | None) -> tuple[tuple[str, ...], tuple[str, ...]]:
    if isinstance(source, RecommendRound):
        return ("rate",), ("votes", "rate")
    if isinstance(source, EvaluateRound):
        if source.items is not None:
            return (), ("score",)
        rates = ("competent_or_above", *source.grades)
        return rates, rates + (("score",) if source.grade_values is not None else ())
    if isinstance(source, ScoreRound):
        return (), ("mean",)
    if isinstance(source, CompositeRound):
        return (), ("composite",)
    return (), ()


def _source(node: Node, key: str, round_id: str, post: str | None, plan: Plan) -> RoundPlan:
    if round_id not in plan:
        node.fail(key, f'names round "{round_id}", which is not in the meeting file')
    source = plan.round(round_id)
    if isinstance(source, ShortlistRound):
        node.fail(key, f'round "{round_id}" is a short list: a short list draws on other kinds of round')
    if isinstance(source, DecideRound):
        node.fail(key, f'round "{round_id}" is a decide round: it has no rate or score to compare')
    if isinstance(source, RecommendRound):
        if post is None:
            node.fail("post", f'a condition or order on recommend round "{round_id}" must name one of its posts')
        if all(p.id != post for p in source.posts):
            node.fail("post", f'round "{round_id}" has no post "{post}"')
    elif post is not None:
        node.fail("post", "only a recommend round's condition or order names a post")
    return source


def _names_of(source: RoundPlan, post: str | None, plan: Plan) -> tuple[str, ...]:
    """The people a source lists, in its order (a short list's default candidates)."""
    if isinstance(source, RecommendRound):
        return next(p.candidates for p in source.posts if p.id == post)
    if isinstance(source, EvaluateRound):
        return source.subjects
    if isinstance(source, ScoreRound):
        return source.contestants
    if isinstance(source, CompositeRound):
        first = source.components[0]
        if first.scores is not None:
            return tuple(name for name, _ in first.scores)
        assert first.round is not None and first.round in plan
        return _names_of(plan.round(first.round), first.post, plan)
    return ()


def _check_shortlist(node: Node, rnd: ShortlistRound, plan: Plan) -> ShortlistRound:
    """Every source exists and offers the measure asked of it; the candidates default to the first source's."""
    for i, c in enumerate(rnd.conditions):
        cnode = node.child("conditions", node.data["conditions"][i], i)
        source = _source(cnode, "round", c.round, c.post, plan)
        rates, _ = _measures(source, c.post)
        if not rates:
            cnode.fail("round", f'round "{c.round}" is a {source.kind} round: conditions compare rates '
                                "(recommend, evaluate); put scores in order")
        if c.measure not in rates:
            cnode.fail("measure", f"must be {' or '.join(rates)} for round \"{c.round}\", not {shown(c.measure)}")
    for i, o in enumerate(rnd.order):
        if o.round is None:
            continue
        onode = node.child("order", node.data["order"][i], i)
        source = _source(onode, "round", o.round, o.post, plan)
        _, by = _measures(source, o.post)
        if o.by not in by:
            onode.fail("by", f"{shown(o.by)} is not a measure of {source.kind} round \"{o.round}\" ({', '.join(by)})")
    if rnd.listed:
        return rnd
    first = rnd.conditions[0] if rnd.conditions else rnd.order[0]
    if first.round is None:
        node.fail("candidates", "give the candidates: the first order entry is a typed key, which lists nobody")
    names = _names_of(plan.round(first.round), first.post, plan)
    if not names:
        node.fail("candidates", f'give the candidates: round "{first.round}" lists nobody (write-ins only)')
    return replace(rnd, candidates=names)


def _check_beside(node: Node, rnd: RecommendRound, plan: Plan) -> None:
    """A talk round is shown beside a kiosk or paper recommend round that has its posts."""
    assert rnd.beside is not None
    if rnd.beside not in plan:
        node.fail("beside", f'names round "{rnd.beside}", which is not in the meeting file')
    other = plan.round(rnd.beside)
    if not isinstance(other, RecommendRound):
        node.fail("beside", f'round "{rnd.beside}" is a {other.kind} round: a talk round is shown beside a '
                            "recommend round")
    if other.channel is Channel.TALK:
        node.fail("beside", f'round "{rnd.beside}" is a talk round too: shown beside the meeting recommendation')
    ids = {p.id for p in other.posts}
    for p in rnd.posts:
        if p.id not in ids:
            node.fail("beside", f'round "{rnd.beside}" has no post "{p.id}" (a talk round\'s posts must be among '
                                "those of the round it is shown beside)")


def _link_repeats(top: Node, raw: list[Any], rounds: list[RoundPlan]) -> list[RoundPlan]:
    """Check each `repeats` against the round it names (above it, same kind and electorate, a
    reason that fits) and derive `attempt` (1 + the attempt of the round it repeats)."""
    out: list[RoundPlan] = []
    repeated: dict[str, str] = {}
    for i, rnd in enumerate(rounds):
        if not isinstance(rnd, BallotRound) or rnd.repeats is None:
            out.append(rnd)
            continue
        node = top.child("rounds", raw[i], i)
        origin = next((r for r in out if r.id == rnd.repeats), None)
        if origin is None:
            if any(r.id == rnd.repeats for r in rounds):
                node.fail("repeats", "must name a round above this one")
            node.fail("repeats", f'names round "{rnd.repeats}", which is not in the meeting file')
        if origin.kind is not rnd.kind:
            node.fail("repeats", f'round "{origin.id}" is a {origin.kind} round; this is a {rnd.kind} round')
        assert isinstance(origin, RecommendRound | EvaluateRound | DecideRound)
        if origin.channel is Channel.TALK:
            node.fail("repeats", f'round "{origin.id}" is a talk round: talk records are not voted again')
        if frozenset(origin.electorate or ()) != frozenset(rnd.electorate or ()):
            node.fail("electorate", f'the electorate must be the same as that of "{origin.id}"')
        if origin.id in repeated:
            node.fail("repeats", f'round "{origin.id}" is already repeated by "{repeated[origin.id]}"; '
                                 "repeat that one")
        repeated[origin.id] = rnd.id
        _check_reason(node, rnd, origin)
        out.append(replace(rnd, attempt=origin.attempt + 1))
    return out


def _check_reason(node: Node, rnd: RoundPlan, origin: RoundPlan) -> None:
    reason = getattr(rnd, "repeat_reason", None)
    if reason == "no_majority" and not (isinstance(origin, DecideRound) and origin.seats is not None):
        node.fail("repeat_reason", "no_majority repeats only a 差额 decide round (one with seats)")
    if reason == "succession" and not isinstance(origin, DecideRound):
        node.fail("repeat_reason", "succession repeats only a decide round")
    if reason in ("tie", "no_majority") and isinstance(rnd, DecideRound) and isinstance(origin, DecideRound):
        for name in rnd.nominees:
            if name not in origin.nominees:
                node.fail("nominees", f'{reason}: {shown(name)} is not a nominee of "{origin.id}"')
    if reason == "tie" and isinstance(rnd, RecommendRound) and isinstance(origin, RecommendRound):
        posts = {p.id: p for p in origin.posts}
        for p in rnd.posts:
            if p.id not in posts:
                node.fail("posts", f'tie: round "{origin.id}" has no post "{p.id}"')
            for name in p.candidates:
                if name not in posts[p.id].candidates and not posts[p.id].write_in:
                    node.fail("posts", f'tie: {shown(name)} is not a candidate of "{origin.id}"')
    if reason == "tie" and isinstance(rnd, EvaluateRound):
        node.fail("repeat_reason", "an evaluation has no seats to tie for: repeat it for void or closed_early")


def _publicity(top: Node) -> Publicity | None:
    """任前公示: N working days (N 个工作日) or N days (N 天), counted from the next day."""
    if not top.has("publicity"):
        return None
    node = top.child("publicity", top.raw("publicity"))
    node.only(PUBLICITY_KEYS)
    working, days = node.has("working_days"), node.has("days")
    if working == days:
        node.fail(None, "give working_days (N 个工作日) or days (N 天), exactly one")
    for key in ("working_days", "days"):
        value = node.data.get(key)
        if value is not None and (isinstance(value, bool) or not isinstance(value, int)
                                  or not 1 <= value <= PUBLICITY_DAYS_MAX):
            node.fail(key, f"must be a whole number between 1 and {PUBLICITY_DAYS_MAX}, not {shown(value)}")
    if not node.has("issuer"):
        node.fail(None, "'issuer' is required (who publishes the notice, 落款)")
    if not node.has("contact"):
        node.fail(None, "'contact' is required (where concerns are sent)")
    contact = node.raw("contact")
    if not isinstance(contact, str) or not contact.strip():
        node.fail("contact", f"must be a non-empty string, not {shown(contact)}")
    node.check_text("contact", contact, CONTACT_MAX)
    details: list[tuple[str, str]] = []
    if node.has("details"):
        table = node.child("details", node.raw("details"))
        for person in table.data:
            if not isinstance(person, str) or not person.strip():
                table.fail(str(person), "is not a name")
            table.check_text(person, person, NAME_MAX)
            details.append((person, table.string(person)))
    return Publicity(issuer=node.string("issuer"), contact=contact,
                     working_days=node.integer("working_days", None, 1, PUBLICITY_DAYS_MAX),
                     days=node.integer("days", None, 1, PUBLICITY_DAYS_MAX),
                     title=node.string("title", "干部任前公示"), details=tuple(details))


_READERS: dict[str, Callable[[Node, str, Mapping[str, str]], RoundPlan]] = {
    "recommend": _recommend, "evaluate": _evaluate, "decide": _decide, "score": _score,
    "composite": _composite, "shortlist": _shortlist}

__all__ = ["KINDS", "PlanError", "parse_plan"]
