"""One result model per round kind (结果): what every screen and sheet shows of a counted round.

Built from the counted result document (the rules engine's, in the meeting file's order: the
contract of `tally count --json`) and the plan, and nothing else: the projector, the chair's
console, the HTML sheet, the PDF and the Excel sheet all render a `RoundView`, so no kind falls
back to raw JSON and no screen sorts or words a result on its own.

A `RoundView` is language-neutral: a label is either a `Phrase` (an English msgid with data
parameters, translated by the renderer: `gettext` in Python, the page's words table in JS) or
the meeting's own word (a grade, a direction, a component, a name), never translated. Tables
are generic (columns with a format, rows of values) so that a new figure of a kind (item means,
forwarded names) is one more column, not one more renderer.

Per kind (CONTRACT.md, RULES.md):
- recommend: one table per post (candidates sorted by votes as counted; 有效/无效/空白, the pass
  mark in words over its denominator, 通过, 另推);
- evaluate: grades with their rates over N, 优秀称职率, the quantified score, the pass mark and the
  adjustment mark in words, 弃权/无效 per person; directions (使用意见) in a table of their own;
- decide: 同意/不同意/弃权/未按, the majority and the 30% rule in words, 通过/不通过/暂缓/当选;
- score: the ranking (sorted, 入围) for screens; for paper, every seat's score with the dropped
  ones struck (marks from the rules engine, by seat), the mean and the rank;
- composite: components with their weights, the formula in words, sorted by rank, 入围.

Pure: no database, no request, no Flask; `tally.show.sheets` and `tally.show.screens` feed it.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Literal

from tally.rules import (
    CompositeRound,
    DecideRound,
    EvaluateRound,
    RecommendRound,
    RoundKind,
    RoundPlan,
    ScoreRound,
    Threshold,
    trimmed_result,
)


def N_(msgid: str) -> str:
    """Marks an msgid for extraction (tools/i18n.py); translated where it is shown."""
    return msgid


Value = int | str | tuple[str, ...] | None
# text: the meeting's words (names), never translated · count: a whole number · decimal: a
# decimal string ("85.56") · percent: a percentage as a decimal string ("48.33" is 48.33%) ·
# marks: a tuple of msgids (通过, 入围, 当选, 暂缓…) · word: one msgid.
Format = Literal["text", "count", "decimal", "percent", "marks", "word"]


@dataclass(frozen=True)
class Phrase:
    """Words with data in them: `msgid` % `params`, translated where shown."""

    msgid: str
    params: tuple[tuple[str, str | int], ...] = ()

    @property
    def kwargs(self) -> dict[str, str | int]:
        return dict(self.params)

    def to_json(self) -> dict[str, Any]:
        return {"msgid": self.msgid, "params": dict(self.params)}


Label = Phrase | str  # a Phrase is translated; a plain str is the meeting's own word


def P(msgid: str, **params: str | int) -> Phrase:
    return Phrase(msgid, tuple(params.items()))


@dataclass(frozen=True)
class Figure:
    """One labelled number of a round or a post: 应到 130, 有效 117…"""

    key: str
    value: int | str

    @property
    def label(self) -> str:
        return FIGURES[self.key]


FIGURES: dict[str, str] = {
    "expected": N_("Expected (应到)"), "present": N_("Present (实到)"), "issued": N_("Issued (发出)"),
    "returned": N_("Returned (收回)"), "valid": N_("Valid"), "invalid": N_("Invalid"), "blank": N_("Blank"),
    "seats": N_("Seats"), "denominator": N_("Rate denominator"), "judges": N_("Judges on the panel"),
    "desk_unlock": N_("Ballots by desk unlock (a card the kiosk made)"),
}


@dataclass(frozen=True)
class Column:
    key: str
    label: Label
    format: Format
    joins: bool = False  # compact renderers print it in the previous column's cell: "30 (52.63%)"
    total: int | None = None  # a count out of a whole: shown "28/30"
    note: str | None = None  # data after the label (a weight: "40%")
    seat: bool = False  # one judge's seat (a narrow column of the score grid)


@dataclass(frozen=True)
class Row:
    cells: tuple[Value, ...]
    highlight: bool = False  # passes, elected, shortlisted: shown in green
    struck: tuple[tuple[int, str], ...] = ()  # (column index, "high" | "low"): a dropped score

    def strike(self, index: int) -> str | None:
        for i, end in self.struck:
            if i == index:
                return end
        return None


@dataclass(frozen=True)
class Table:
    key: str
    columns: tuple[Column, ...]
    rows: tuple[Row, ...]
    title: str | None = None  # the meeting's word (a post's title)
    heading: Label | None = None  # what the table is (使用意见), when not the round's main table
    figures: tuple[Figure, ...] = ()
    rules: tuple[Phrase, ...] = ()
    screen: bool = True  # on the projector and the console
    paper: bool = True  # on the sheets


@dataclass(frozen=True)
class RoundView:
    """A counted round as people see it and sign it."""

    id: str
    kind: str
    title: str
    status: str
    figures: tuple[Figure, ...]
    rules: tuple[Phrase, ...]
    alerts: tuple[Phrase, ...]
    tables: tuple[Table, ...]
    chain_head: str | None = None
    # The fingerprint of the round's ballot-card credential list, when the tally has one (shown
    # with its QR code next to the ballot box fingerprint).
    credentials_fingerprint: str | None = None
    # A composite's rounds, each as (title, ballot box fingerprint): where its components come from.
    sources: tuple[tuple[str, str], ...] = field(default=())

    @property
    def kind_label(self) -> str:
        return self.kind  # a msgid (tally.show.vocab): 民主推荐, 民主测评…

    def screen_tables(self) -> tuple[Table, ...]:
        return tuple(t for t in self.tables if t.screen)

    def paper_tables(self) -> tuple[Table, ...]:
        return tuple(t for t in self.tables if t.paper)

    def to_json(self) -> dict[str, Any]:
        """For the pages' JS: the same model, labels as {msgid, params} or plain words."""
        return {
            "id": self.id, "kind": self.kind, "title": self.title, "status": self.status,
            "figures": [_figure_json(f) for f in self.figures],
            "rules": [p.to_json() for p in self.rules], "alerts": [p.to_json() for p in self.alerts],
            "tables": [_table_json(t) for t in self.screen_tables()],
            "chain_head": self.chain_head, "credentials_fingerprint": self.credentials_fingerprint,
            "sources": [{"title": t, "chain_head": h} for t, h in self.sources],
        }


def _label_json(label: Label | None) -> Any:
    return label.to_json() if isinstance(label, Phrase) else label


def _figure_json(f: Figure) -> dict[str, Any]:
    return {"key": f.key, "label": f.label, "value": f.value}


def _table_json(t: Table) -> dict[str, Any]:
    return {
        "key": t.key, "title": t.title, "heading": _label_json(t.heading),
        "figures": [_figure_json(f) for f in t.figures], "rules": [p.to_json() for p in t.rules],
        "columns": [{"key": c.key, "label": _label_json(c.label), "format": c.format, "joins": c.joins,
                     "total": c.total, "note": c.note} for c in t.columns],
        "rows": [{"cells": list(r.cells), "highlight": r.highlight, "struck": dict(r.struck)} for r in t.rows],
    }


# --- words ---------------------------------------------------------------------------------

MARKS = {
    "passes": N_("passes"), "fails": N_("does not pass"), "write_in": N_("write-in"), "adjust": N_("adjustment"),
    "passed": N_("passed"), "not_passed": N_("not passed"), "deferred": N_("deferred"), "no_quorum": N_("no quorum"),
    "tie": N_("tie at the last seat: vote again"), "elected": N_("elected"), "shortlisted": N_("Shortlisted"),
    "incomplete": N_("incomplete"),
}
COLUMN_WORDS = {
    "name": N_("Name"), "votes": N_("Votes"), "rate": N_("Rate"), "result": N_("Result"), "subject": N_("Person evaluated"),
    "valid": N_("Valid (N)"), "abstain": N_("Abstain"), "invalid": N_("Invalid"), "score": N_("Score"),
    "agree": N_("Agree"), "disagree": N_("Disagree"), "not_voted": N_("Not voted"), "rank": N_("Rank"),
    "contestant": N_("Contestant"), "judged": N_("Judges scored"), "mean": N_("Final score"),
    "composite": N_("Composite score"),
}
COLUMNS = {k: Phrase(v) for k, v in COLUMN_WORDS.items()}  # header labels: translated where shown
ALERTS = {
    "no_quorum": N_("No quorum: present (实到) is below two thirds of expected (应到); nobody passes."),
    "void": N_("Void: more ballots were returned than issued; the round must be held again."),
}
_BASIS = {
    ("present", ">="): N_("Passes with a rate of at least %(value)s of those present (实到)"),
    ("present", ">"): N_("Passes with a rate of more than %(value)s of those present (实到)"),
    ("valid", ">="): N_("Passes with a rate of at least %(value)s of the valid ballots"),
    ("valid", ">"): N_("Passes with a rate of more than %(value)s of the valid ballots"),
    ("expected", ">="): N_("Passes with a rate of at least %(value)s of those expected (应到)"),
    ("expected", ">"): N_("Passes with a rate of more than %(value)s of those expected (应到)"),
}
_BEST_TWO = {">=": N_("Passes with a %(grades)s rate of at least %(value)s"),
             ">": N_("Passes with a %(grades)s rate of more than %(value)s")}
_ADJUST = {">=": N_("A %(grade)s rate of at least %(value)s calls for adjustment"),
           ">": N_("A %(grade)s rate of more than %(value)s calls for adjustment")}
_MAJORITY = {">=": N_("Passes with agree votes of at least %(value)s of the members (应到)"),
             ">": N_("Passes with agree votes of more than %(value)s of the members (应到)")}
_HALF = N_("Passes with agree votes from more than half of the members (应到)")
_DEFER = {">=": N_("Deferred (暂缓) when disagree and abstain (未按 included) reach %(value)s of the members (应到)"),
          ">": N_("Deferred (暂缓) when disagree and abstain (未按 included) are more than %(value)s of the members (应到)")}
RATE_OF = N_("%(grades)s rate")
RATES_OVER_N = N_("Each person's rates are over their valid entries (N).")
GRADE_VALUES = N_("Score per grade: %(values)s; the mean over the valid entries, 2 decimals.")
QUOTA = N_("At most %(n)s may be graded %(grade)s on one ballot.")
NOT_VOTED = N_("Not voted (未按) counts as not agreeing, and with abstain for the deferral rule.")
SEATS = N_("差额: each member agrees with at most %(n)s; the most agree votes among those passing take the %(n)s seats.")
TRIM = N_("Drop the %(k)s highest and %(k)s lowest scores, then take the mean of the rest")
ALL_SCORES = N_("The mean of all scores")
HALF_UP = N_("Rounded to %(n)s decimals, half up")
DOWN = N_("Rounded down to %(n)s decimals")
SCORE_TIE = N_("Equal scores: compared by the mean of all scores")
SHORTLIST = N_("The top %(n)s go forward (入围); all tied at the cut go through")
FORMULA = N_("Composite = %(formula)s")
COMPONENTS_ROUNDED = N_("Components rounded to 2 decimals first, then weighted; the composite rounded half up.")
COMPOSITE_TIE = N_("Equal composites: compared by %(keys)s in turn")
INCOMPLETE = N_("Incomplete: fewer than %(n)s scores, no result.")
DIRECTIONS = N_("Directions (使用意见)")
STRUCK = N_("Dropped scores are struck through: red high, blue low.")
SEAT_SCORES = N_("Each seat's score")
RANKING = N_("Ranking")
SOURCE = N_("Drawn from the round %(title)s, ballot box fingerprint %(head)s")
RULES_WORDS = (RATES_OVER_N, GRADE_VALUES, QUOTA, NOT_VOTED, SEATS, TRIM, ALL_SCORES, HALF_UP, DOWN, SCORE_TIE,
               SHORTLIST, FORMULA, COMPONENTS_ROUNDED, COMPOSITE_TIE, INCOMPLETE, DIRECTIONS, STRUCK, SEAT_SCORES,
               RANKING, SOURCE)


def threshold_value(t: Threshold) -> str:
    """The pass mark's number as the plan wrote it ("1/3", "80%"), without its operator."""
    return t.text.lstrip(">=").strip()


def _alerts(status: str) -> tuple[Phrase, ...]:
    return (P(ALERTS[status]),) if status in ALERTS else ()


def _attendance(result: Mapping[str, Any], valid: int | None = None, invalid: int | None = None) -> tuple[Figure, ...]:
    out = [Figure(k, result[k]) for k in ("expected", "present", "issued", "returned") if result.get(k) is not None]
    if valid is not None:
        out.append(Figure("valid", valid))
    if invalid is not None:
        out.append(Figure("invalid", invalid))
    return tuple(out)


def _rank_key(entry: Mapping[str, Any], position: int) -> tuple[int, int, int]:
    """Ranked lists: by rank, then the meeting file's order; the incomplete last (never by name)."""
    rank = entry.get("rank")
    return (0 if rank is not None else 1, rank or 0, position)


# --- per kind ------------------------------------------------------------------------------

Parts = tuple[tuple[Figure, ...], tuple[Phrase, ...], tuple[Table, ...]]  # figures, rules, tables

def _recommend(result: Mapping[str, Any], plan: RecommendRound) -> Parts:
    posts = result.get("posts", [])
    by_id = {p.id: p for p in plan.posts}
    figures = _attendance(result)
    if len(posts) == 1:
        figures += (Figure("valid", posts[0]["valid"]), Figure("invalid", posts[0]["invalid"]))
    columns = (Column("name", COLUMNS["name"], "text"), Column("votes", COLUMNS["votes"], "count"),
               Column("rate", COLUMNS["rate"], "percent"), Column("result", COLUMNS["result"], "marks"))
    tables = []
    for post in posts:
        spec = by_id.get(post["id"])
        threshold = spec.threshold if spec else Threshold.parse(post["threshold"])
        rule = P(_BASIS[(plan.denominator, threshold.op)], value=threshold_value(threshold))
        rows = []
        for c in post["candidates"]:
            marks: tuple[str, ...] = (MARKS["write_in"],) if c.get("write_in") else ()
            marks += (MARKS["passes"] if c.get("passes") else MARKS["fails"],)
            rows.append(Row((c["name"], c["votes"], c.get("rate"), marks), highlight=bool(c.get("passes"))))
        tables.append(Table(
            key=f"post:{post['id']}", title=post.get("title") or (spec.title if spec and spec.title else post["id"]),
            figures=(Figure("seats", post["seats"]), Figure("valid", post["valid"]), Figure("invalid", post["invalid"]),
                     Figure("blank", post["blank"]), Figure("denominator", post["denominator"])),
            rules=(rule,), columns=columns, rows=tuple(rows)))
    return figures, (), tuple(tables)


def _evaluate(result: Mapping[str, Any], plan: EvaluateRound) -> Parts:
    returned, invalid = result.get("returned", 0), result.get("invalid", 0)
    figures = _attendance(result, returned - invalid, invalid)
    grades = plan.grades
    best_two = "".join(grades[:2])
    rules: list[Phrase] = []
    if plan.threshold is not None:
        rules.append(P(_BEST_TWO[plan.threshold.op], grades=best_two, value=threshold_value(plan.threshold)))
    if plan.adjust is not None:
        rules.append(P(_ADJUST[plan.adjust.op], grade=grades[-1], value=threshold_value(plan.adjust)))
    if plan.grade_values is not None:
        values = "、".join(f"{g}{v}" for g, v in zip(grades, plan.grade_values, strict=True))
        rules.append(P(GRADE_VALUES, values=values))
    for grade, limit in plan.quota:
        rules.append(P(QUOTA, n=limit, grade=grade))
    rules.append(P(RATES_OVER_N))
    subjects = result.get("subjects", [])
    columns: list[Column] = [Column("subject", COLUMNS["subject"], "text"), Column("valid", COLUMNS["valid"], "count"),
                             Column("abstain", COLUMNS["abstain"], "count"), Column("invalid", COLUMNS["invalid"], "count")]
    for g in grades:
        columns += [Column(f"count:{g}", g, "count"), Column(f"rate:{g}", P(RATE_OF, grades=g), "percent", joins=True)]
    columns.append(Column("competent_or_above", P(RATE_OF, grades=best_two), "percent"))
    has_score = plan.grade_values is not None
    has_marks = plan.threshold is not None or plan.adjust is not None
    if has_score:
        columns.append(Column("score", COLUMNS["score"], "decimal"))
    if has_marks:
        columns.append(Column("result", COLUMNS["result"], "marks"))
    rows = []
    for s in subjects:
        cells: list[Value] = [s["name"], s["valid"], s["abstain"], s["invalid"]]
        for g in grades:
            cells += [s["counts"].get(g), s["rates"].get(g)]
        cells.append(s["rates"].get("competent_or_above"))
        if has_score:
            cells.append(s.get("score"))
        marks: tuple[str, ...] = ()
        if has_marks:
            if "passes" in s:
                marks += (MARKS["passes"] if s["passes"] else MARKS["fails"],)
            if s.get("adjust"):
                marks += (MARKS["adjust"],)
            cells.append(marks)
        rows.append(Row(tuple(cells), highlight=bool(s.get("passes"))))
    tables = [Table("grades", tuple(columns), tuple(rows))]
    if plan.directions:
        dcols = (Column("subject", COLUMNS["subject"], "text"),
                 *(Column(f"direction:{d}", d, "count") for d in plan.directions))
        drows = tuple(Row((s["name"], *(s.get("directions", {}).get(d, 0) for d in plan.directions)))
                      for s in subjects)
        tables.append(Table("directions", dcols, drows, heading=P(DIRECTIONS)))
    return figures, tuple(rules), tuple(tables)


def _decide(result: Mapping[str, Any], plan: DecideRound) -> Parts:
    returned, invalid = result.get("returned", 0), result.get("invalid", 0)
    figures = _attendance(result, returned - invalid, invalid)
    t = plan.threshold
    rules = [P(_HALF) if t.op == ">" and t.value == Threshold.parse(">1/2").value else
             P(_MAJORITY[t.op], value=threshold_value(t))]
    if plan.defer_rule is not None:
        rules.append(P(_DEFER[plan.defer_rule.op], value=threshold_value(plan.defer_rule)))
    rules.append(P(NOT_VOTED))
    if plan.seats is not None:
        rules.append(P(SEATS, n=plan.seats))
    columns = (Column("name", COLUMNS["name"], "text"), Column("agree", COLUMNS["agree"], "count"),
               Column("disagree", COLUMNS["disagree"], "count"), Column("abstain", COLUMNS["abstain"], "count"),
               Column("not_voted", COLUMNS["not_voted"], "count"), Column("result", COLUMNS["result"], "marks"))
    rows = []
    for n in result.get("nominees", []):
        marks: tuple[str, ...] = (MARKS[n["outcome"]],)
        if n.get("elected"):
            marks += (MARKS["elected"],)
        good = n["outcome"] == "passed" and n.get("elected", True)
        rows.append(Row((n["name"], n["agree"], n["disagree"], n["abstain"], n["not_voted"], marks), highlight=good))
    return figures, tuple(rules), (Table("nominees", columns, tuple(rows)),)


def score_rules(plan: ScoreRound) -> tuple[Phrase, ...]:
    rules = [P(TRIM, k=plan.trim) if plan.trim else P(ALL_SCORES),
             P(HALF_UP if plan.rounding == "half_up" else DOWN, n=plan.decimals)]
    if plan.tie_break:
        rules.append(P(SCORE_TIE))
    if plan.shortlist is not None:
        rules.append(P(SHORTLIST, n=plan.shortlist))
    return tuple(rules)


def _score(result: Mapping[str, Any], plan: ScoreRound,
           seats: Mapping[str, Mapping[int, Decimal]] | None) -> Parts:
    entries = sorted(enumerate(result.get("contestants", [])), key=lambda p: _rank_key(p[1], p[0]))
    has_short = plan.shortlist is not None
    columns = [Column("rank", COLUMNS["rank"], "count"), Column("name", COLUMNS["contestant"], "text"),
               Column("judged", COLUMNS["judged"], "count", total=plan.judges),
               Column("mean", COLUMNS["mean"], "decimal")]
    if has_short:
        columns.append(Column("result", COLUMNS["result"], "marks"))
    rows = []
    for _pos, c in entries:
        cells: list[Value] = [c.get("rank"), c["name"], c["count"], c.get("mean")]
        marks: tuple[str, ...] = (MARKS["incomplete"],) if c["status"] != "complete" else ()
        if c.get("shortlisted"):
            marks += (MARKS["shortlisted"],)
        if has_short:
            cells.append(marks)
        rows.append(Row(tuple(cells), highlight=bool(c.get("shortlisted"))))
    tables = [Table("ranking", tuple(columns), tuple(rows), paper=seats is None)]
    if seats is not None:
        tables.append(_score_grid(entries, plan, seats))
    rules = score_rules(plan)
    if any(c["status"] != "complete" for _p, c in entries):
        rules += (P(INCOMPLETE, n=2 * plan.trim + 1),)
    return (Figure("judges", result.get("judges", plan.judges)),), rules, tuple(tables)


def _score_grid(entries: Sequence[tuple[int, Mapping[str, Any]]], plan: ScoreRound,
                seats: Mapping[str, Mapping[int, Decimal]]) -> Table:
    """Paper: each contestant's row of seat scores, the dropped ones struck (the engine's marks)."""
    n = plan.judges
    columns = [Column("rank", COLUMNS["rank"], "count"), Column("name", COLUMNS["contestant"], "text"),
               *(Column(f"seat:{i}", f"J{i:02d}", "decimal", seat=True) for i in range(1, n + 1)),
               Column("judged", COLUMNS["judged"], "count", total=n), Column("mean", COLUMNS["mean"], "decimal")]
    if plan.shortlist is not None:
        columns.append(Column("result", COLUMNS["result"], "marks"))
    rows = []
    for _pos, c in entries:
        by_seat = dict(seats.get(c["name"], {}))
        marks = trimmed_result(by_seat, plan.trim, plan.rounding, plan.decimals, plan.step)
        cells: list[Value] = [c.get("rank"), c["name"]]
        struck = []
        for i in range(1, n + 1):
            v = by_seat.get(i)
            cells.append(None if v is None else format(v, "f"))
            end = marks.strike_of(i) if v is not None else None
            if end:
                struck.append((len(cells) - 1, end))
        cells += [c["count"], c.get("mean")]
        if plan.shortlist is not None:
            cells.append((MARKS["shortlisted"],) if c.get("shortlisted") else ())
        rows.append(Row(tuple(cells), highlight=bool(c.get("shortlisted")), struck=tuple(struck)))
    return Table("grid", tuple(columns), tuple(rows), heading=P(SEAT_SCORES), screen=False,
                 rules=(P(STRUCK),))


def _composite(result: Mapping[str, Any], plan: CompositeRound) -> Parts:
    formula = " + ".join(f"{c.name}×{format(c.weight.normalize(), 'f')}%" for c in plan.components)
    rules = [P(FORMULA, formula=formula), P(COMPONENTS_ROUNDED)]
    if plan.tie_break:
        rules.append(P(COMPOSITE_TIE, keys="、".join(plan.tie_break)))
    if plan.shortlist is not None:
        rules.append(P(SHORTLIST, n=plan.shortlist))
    columns = [Column("rank", COLUMNS["rank"], "count"), Column("name", COLUMNS["name"], "text"),
               *(Column(f"component:{c.name}", c.name, "decimal", note=f"{format(c.weight.normalize(), 'f')}%")
                 for c in plan.components),
               Column("composite", COLUMNS["composite"], "decimal")]
    has_short = plan.shortlist is not None
    if has_short:
        columns.append(Column("result", COLUMNS["result"], "marks"))
    rows = []
    for _pos, c in sorted(enumerate(result.get("candidates", [])), key=lambda p: _rank_key(p[1], p[0])):
        cells: list[Value] = [c.get("rank"), c["name"], *(c["components"].get(k.name) for k in plan.components),
                              c.get("composite")]
        if has_short:
            marks: tuple[str, ...] = (MARKS["incomplete"],) if c.get("status") == "incomplete" else ()
            cells.append(marks + ((MARKS["shortlisted"],) if c.get("shortlisted") else ()))
        rows.append(Row(tuple(cells), highlight=bool(c.get("shortlisted"))))
    return (), tuple(rules), (Table("candidates", tuple(columns), tuple(rows)),)


def round_view(result: Mapping[str, Any], plan: RoundPlan, *, chain_head: str | None = None,
               credentials_fingerprint: str | None = None,
               seats: Mapping[str, Mapping[int, Decimal]] | None = None,
               sources: Sequence[tuple[str, str]] = ()) -> RoundView:
    """The view of one counted round. `seats` (score rounds, paper): contestant → seat → score."""
    kind = RoundKind(result["kind"])
    status = result.get("status", "counted")
    figures: tuple[Figure, ...]
    rules: tuple[Phrase, ...]
    tables: tuple[Table, ...]
    if isinstance(plan, RecommendRound):
        figures, rules, tables = _recommend(result, plan)
    elif isinstance(plan, EvaluateRound):
        figures, rules, tables = _evaluate(result, plan)
    elif isinstance(plan, DecideRound):
        figures, rules, tables = _decide(result, plan)
    elif isinstance(plan, ScoreRound):
        figures, rules, tables = _score(result, plan, seats)
    else:
        figures, rules, tables = _composite(result, plan)
    if status == "void":
        tables = ()
    return RoundView(id=result["id"], kind=kind.value, title=result.get("title") or plan.title or result["id"],
                     status=status, figures=figures, rules=rules, alerts=_alerts(status), tables=tables,
                     chain_head=chain_head, credentials_fingerprint=credentials_fingerprint, sources=tuple(sources))


# Every msgid a page's JS may meet in a view (the words table of templates/console/_result_words.html).
def words() -> tuple[str, ...]:
    out: list[str] = [*FIGURES.values(), *MARKS.values(), *COLUMN_WORDS.values(), *ALERTS.values(), *_BASIS.values(),
                      *_BEST_TWO.values(), *_ADJUST.values(), *_MAJORITY.values(), _HALF, *_DEFER.values(), RATE_OF,
                      *RULES_WORDS]
    return tuple(dict.fromkeys(out))
