"""`tally count MEETING BALLOTS`: the rules engine behind a command line (CONTRACT.md).

Streams the ballot file line by line (constant memory; a progress bar on a terminal), counts
with `tally.rules.MeetingCount`, and prints either the contract's JSON document (`--json`) or
a result sheet for people: Chinese headings by default, columns aligned for double-width
characters. A bad file exits 1 with one line on stderr (`ballots.jsonl:17: problem`) and
nothing on stdout. Counts nothing itself.
"""
from __future__ import annotations

import io
import itertools
import json
import sys
import unicodedata
from collections.abc import Iterator, Sequence
from functools import lru_cache
from gettext import NullTranslations
from pathlib import Path
from typing import IO, Any

import click
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations

from tally.plan import Plan, PlanError, load_plan
from tally.rules import BallotInputError, MeetingCount, RulesError
from tally.rules.beside import pairs, side_by_side
from tally.rules.names import escaped

CATALOG_DIR = Path(__file__).resolve().parents[1] / "translations"
DOMAIN = "count"
PROGRESS_EVERY = 1 << 14


class FileProblem(click.ClickException):
    """One line on stderr naming the file (and line), nothing else; exit status 1. What the line
    quotes from the file (which someone else wrote) is shown as text: a control or format
    character, such as the start of an escape sequence, as its escape (`tally.rules.names.escaped`)."""

    def show(self, file: IO[Any] | None = None) -> None:
        click.echo(escaped(self.message), err=True)


@lru_cache(maxsize=4)
def translations(lang: str) -> NullTranslations:
    """The sheet's catalog: msgids are English, so `en` needs none; .po compiled in memory."""
    if lang == "en":
        return NullTranslations()
    po = CATALOG_DIR / lang / "LC_MESSAGES" / f"{DOMAIN}.po"
    with po.open("rb") as f:
        catalog = read_po(f, locale=lang, domain=DOMAIN)
    buffer = io.BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    return Translations(buffer, domain=DOMAIN)


# --- reading the ballot file ---------------------------------------------------------------

def _first_undecodable_line(path: Path) -> int:
    """The line holding the first byte that is not UTF-8 (the text reader decodes ahead)."""
    with path.open("rb") as f:
        for number, raw in enumerate(f, start=1):
            try:
                raw.decode("utf-8")
            except UnicodeDecodeError:
                return number
    return 0


def _with_progress(stream: IO[str], bar: Any) -> Iterator[str]:
    done = 0
    for number, raw in enumerate(stream, start=1):
        if not number % PROGRESS_EVERY:
            position = stream.buffer.tell()  # type: ignore[attr-defined]
            bar.update(position - done)
            done = position
        yield raw


def _feed(counting: MeetingCount, lines: Iterator[str], name: str, path: Path) -> None:
    """Parse and count every line at C speed (zip/map); blank lines are skipped, bad ones named."""
    numbers = itertools.count(1)
    loads = json.loads
    while True:
        try:
            counting.feed(zip(numbers, map(loads, lines), strict=False))  # numbers never end
            return
        except ValueError as exc:
            # zip took the line's number before the line failed: the next number is one past it.
            line = next(numbers) - 1
            numbers = itertools.count(line + 1)
            if isinstance(exc, UnicodeDecodeError):
                raise FileProblem(f"{name}:{_first_undecodable_line(path)}: is not UTF-8 text") from None
            if isinstance(exc, json.JSONDecodeError):
                if not exc.doc.strip():
                    continue
                raise FileProblem(f"{name}:{line}: not valid JSON: {exc.msg} (column {exc.colno})") from None
            raise FileProblem(f"{name}:{line}: not valid JSON: {exc}") from None
        except RecursionError:
            line = next(numbers) - 1
            raise FileProblem(f"{name}:{line}: nested too deeply to be a ballot") from None
        except BallotInputError as exc:
            raise FileProblem(f"{name}:{exc.line}: {exc.message}") from None
        except OSError as exc:
            raise FileProblem(f"{name}: cannot be read: {exc.strerror or exc}") from None


def _count(plan: Plan, meeting: str, ballots: str) -> dict[str, Any]:
    counting = MeetingCount(plan)
    try:
        counting.check()  # a plan tally count cannot finish fails before the ballots are read
    except RulesError as exc:
        raise FileProblem(f"{meeting}: {exc}") from None
    path = Path(ballots)
    try:
        stream = path.open("r", encoding="utf-8-sig", newline="\n")
    except OSError as exc:
        raise FileProblem(f"{ballots}: cannot be read: {exc.strerror or exc}") from None
    with stream:
        if sys.stderr.isatty():
            with click.progressbar(length=max(path.stat().st_size, 1), file=sys.stderr, label=ballots) as bar:
                _feed(counting, _with_progress(stream, bar), ballots, path)
                bar.update(max(0, (bar.length or 0) - bar.pos))
        else:
            _feed(counting, iter(stream), ballots, path)
    try:
        return counting.document()
    except RulesError as exc:
        raise FileProblem(f"{meeting}: {exc}") from None


# --- the sheet -------------------------------------------------------------------------------

def width(text: str) -> int:
    """Terminal columns: CJK characters take two, combining marks none."""
    total = 0
    for ch in text:
        if unicodedata.combining(ch):
            continue
        total += 2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1
    return total


def _pad(text: str, columns: int, right: bool) -> str:
    gap = " " * max(0, columns - width(text))
    return gap + text if right else text + gap


def table(headers: Sequence[str], rows: Sequence[Sequence[str]], right: Sequence[bool],
          strike: Sequence[bool] = ()) -> list[str]:
    """Aligned columns; `strike` columns are struck through (ANSI) when styling is on."""
    widths = [max([width(h)] + [width(r[i]) for r in rows]) for i, h in enumerate(headers)]
    out = ["  " + "  ".join(_pad(h, w, r) for h, w, r in zip(headers, widths, right, strict=False)).rstrip()]
    for row in rows:
        cells = []
        for i, (cell, w, r) in enumerate(zip(row, widths, right, strict=False)):
            padded = _pad(cell, w, r)
            if i < len(strike) and strike[i] and cell:
                padded = padded.replace(cell, click.style(cell, strikethrough=True), 1)
            cells.append(padded)
        out.append("  " + "  ".join(cells).rstrip())
    return out


class Sheet:
    """The result sheet of a counted meeting, in one language."""

    def __init__(self, plan: Plan, lang: str) -> None:
        self._plan = plan
        self._lang = lang
        self._ = translations(lang).gettext
        self._beside: dict[str, tuple[dict[str, Any], dict[str, Any]]] = {}
        self._repeated: dict[str, str] = {}

    def render(self, doc: dict[str, Any]) -> str:
        _ = self._
        title = f"{doc['meeting']['title']}  {_('Results of the count')}"
        lines = [title, "=" * width(title)]
        self._beside = pairs(doc["rounds"])
        self._repeated = {r["repeats"]: r["id"] for r in doc["rounds"] if "repeats" in r}
        for rnd in doc["rounds"]:
            lines.append("")
            lines.extend(getattr(self, f"_{rnd['kind']}")(rnd))
            if rnd["id"] in self._repeated:
                lines.append(_("This round was voted again: see %(round)s") % {"round": self._repeated[rnd["id"]]})
        return "\n".join(lines) + "\n"

    def attempt(self, n: int) -> str:
        """第二次投票 / vote 2."""
        numeral = "〇一二三四五六七八九十"[n] if self._lang == "zh" and n <= 10 else str(n)
        return self._("(vote no. %(n)s)") % {"n": numeral}

    def _heading(self, rnd: dict[str, Any]) -> str:
        _ = self._
        kinds = {"recommend": _("Recommendation"), "evaluate": _("Evaluation"), "decide": _("Decision vote"),
                 "score": _("Judges' scores"), "composite": _("Composite score"), "shortlist": _("Short list")}
        statuses = {"counted": _("counted"), "no_quorum": _("no quorum"),
                    "void": _("void: more ballots returned than issued, repeat the round")}
        channels = {"talk": _("talk records"), "paper": _("paper ballots")}
        name = f"{rnd['title']}  " if rnd.get("title") else ""
        if "attempt" in rnd:
            name += f"{self.attempt(rnd['attempt'])}  "
        kind = kinds[rnd["kind"]]
        if "channel" in rnd:
            kind += f" · {channels[rnd['channel']]}"
        return f"[{rnd['id']}] {name}{kind}  ({statuses[rnd['status']]})"

    def _attendance(self, rnd: dict[str, Any], valid: int | None = None, invalid: int | None = None) -> str:
        _ = self._
        parts = [(_("Expected"), rnd.get("expected")), (_("Present"), rnd.get("present")),
                 (_("Issued"), rnd.get("issued")), (_("Returned"), rnd.get("returned")),
                 (_("Valid"), valid), (_("Invalid"), invalid)]
        return "  ".join(f"{label} {value}" for label, value in parts if value is not None)

    def _mark(self, value: bool | None) -> str:
        return {True: self._("yes"), False: self._("no"), None: "-"}[value]

    @staticmethod
    def _pct(rate: str | None) -> str:
        return "-" if rate is None else f"{rate}%"

    def _recommend(self, rnd: dict[str, Any]) -> list[str]:
        _ = self._
        lines = [self._heading(rnd)]
        posts = rnd.get("posts", [])
        single = len(posts) == 1
        if single:
            lines.append(self._attendance(rnd, posts[0]["valid"], posts[0]["invalid"]))
        else:
            lines.append(self._attendance(rnd))
        if rnd["status"] == "no_quorum":
            lines.append(_("Present is below two thirds of expected: no quorum, nobody passes."))
        plan = self._plan.round(rnd["id"])
        basis = {"present": _("present"), "valid": _("valid"), "expected": _("expected")}[
            getattr(plan, "denominator", "present")]
        if rnd.get("channel") == "talk":
            basis = _("those talked to")
        for post in posts:
            lines.append("")
            name = post.get("title") or post["id"]
            mark = f"{_('Pass mark')} {post['threshold']}" if "threshold" in post else _("No pass mark")
            if post.get("advisory"):
                mark += f" ⚑ {_('in principle: below it is flagged, not blocked')}"
            head = (f"{_('Post')}: {name}  {_('Seats')} {post['seats']}  {_('Blank')} {post['blank']}  "
                    f"{_('Rate over')} {basis} {post['denominator']}  {mark}")
            if "top" in post:
                head += "  " + _("Forward at most %(n)s") % {"n": post["top"]}
            if not single:
                head += f"  {_('Valid')} {post['valid']}  {_('Invalid')} {post['invalid']}"
            lines.append(head)
            passes, top = "threshold" in post, "top" in post
            headers = [_("Candidate"), _("Votes"), _("Rate")]
            headers += [_("Passes")] if passes else []
            headers += [_("Rank"), _("Forwarded")] if top else []
            rows = []
            for c in post["candidates"]:
                shown = f"{c['name']} ({_('write-in')})" if c["write_in"] else c["name"]
                row = [shown, str(c["votes"]), self._pct(c["rate"])]
                if passes:
                    row.append(self._mark(c["passes"]) + (" ⚑" if post.get("advisory") and not c["passes"] else ""))
                if top:
                    row += [str(c["rank"]), "▲" if c["forwarded"] else ""]
                rows.append(row)
            lines += table(headers, rows, [False, True, True] + [False] * (len(headers) - 3))
        if "valid_months" in rnd:
            lines.append(_("Results valid for %(n)s months from the day of the recommendation")
                         % {"n": rnd["valid_months"]})
        if rnd["id"] in self._beside:
            lines += self._side_by_side(*self._beside[rnd["id"]])
        return lines

    def _side_by_side(self, meeting: dict[str, Any], talk: dict[str, Any]) -> list[str]:
        """The talk records beside the meeting recommendation, post by post: never summed."""
        _ = self._
        lines = ["", _("Beside the meeting recommendation %(round)s (each over its own count, never added up)")
                 % {"round": meeting["id"]}]
        posts = {p["id"]: p for p in meeting["posts"]}
        for tpost in talk["posts"]:
            mpost = posts.get(tpost["id"])
            if mpost is None:
                continue
            lines.append(f"{_('Post')}: {tpost.get('title') or mpost.get('title') or tpost['id']}")
            rows = [[r.name,
                     f"{r.meeting.votes} ({self._pct(r.meeting.rate)})" if r.meeting else "-",
                     f"{r.talk.votes} ({self._pct(r.talk.rate)})" if r.talk else "-"]
                    for r in side_by_side(mpost, tpost)]
            lines += table([_("Candidate"), _("Meeting recommendation"), _("Talk records")], rows,
                           [False, True, True])
        return lines

    def _evaluate(self, rnd: dict[str, Any]) -> list[str]:
        _ = self._
        lines = [self._heading(rnd),
                 self._attendance(rnd, rnd["returned"] - rnd["invalid"], rnd["invalid"])]
        subjects = rnd.get("subjects", [])
        if not subjects:
            return lines
        if "full_marks" in rnd:
            return lines + self._items(rnd, subjects)
        grades = list(subjects[0]["counts"])
        headers = [_("Person evaluated"), _("Valid"), _("Abstain"), _("Invalid"), *grades]
        headers.append(_("Competent or above"))
        has_score = "score" in subjects[0]
        has_pass = "passes" in subjects[0]
        if has_score:
            headers.append(_("Score"))
        if has_pass:
            headers.append(f"{_('Passes')} {rnd['threshold']}" + (" ⚑" if rnd.get("advisory") else ""))
        rows = []
        for s in subjects:
            row = [s["name"], str(s["valid"]), str(s["abstain"]), str(s["invalid"])]
            row += [f"{s['counts'][g]} ({self._pct(s['rates'][g])})" for g in grades]
            row.append(self._pct(s["rates"]["competent_or_above"]))
            if has_score:
                row.append(s["score"] or "-")
            if has_pass:
                row.append(self._mark(s["passes"]) + (" ⚑" if rnd.get("advisory") and not s["passes"] else ""))
            rows.append(row)
        lines += table(headers, rows, [False] + [True] * (len(headers) - 1))
        lines += self._directions(subjects)
        return lines

    def _items(self, rnd: dict[str, Any], subjects: list[dict[str, Any]]) -> list[str]:
        """量化计分 by items: each item's mean (its full marks in the heading) and the score."""
        _ = self._
        full = rnd["full_marks"]
        total = sum(full.values())
        lines = [_("Scored by items: full marks %(total)s, in steps of %(step)s; a row left blank abstains")
                 % {"total": total, "step": rnd["item_step"]}]
        headers = [_("Person evaluated"), _("Valid"), _("Abstain"), _("Invalid"),
                   *(f"{item}({marks})" for item, marks in full.items()), f"{_('Score')}({total})"]
        rows = [[s["name"], str(s["valid"]), str(s["abstain"]), str(s["invalid"]),
                 *(s["items"][item] or "-" for item in full), s["score"] or "-"] for s in subjects]
        lines += table(headers, rows, [False] + [True] * (len(headers) - 1))
        return lines + self._directions(subjects)

    def _directions(self, subjects: list[dict[str, Any]]) -> list[str]:
        _ = self._
        lines: list[str] = []
        if "directions" in subjects[0]:
            lines.append("")
            lines.append(_("Directions"))
            directions = list(subjects[0]["directions"])
            lines += table([_("Person evaluated"), *directions],
                           [[s["name"]] + [str(s["directions"][d]) for d in directions] for s in subjects],
                           [False] + [True] * len(directions))
        return lines

    def _shortlist(self, rnd: dict[str, Any]) -> list[str]:
        """Who meets the conditions, ranked by the order, cut at seats × ratio."""
        _ = self._
        lines = [self._heading(rnd)]
        for c in rnd["conditions"]:
            where = f"{c['round']}/{c['post']}" if "post" in c else c["round"]
            flag = f" ⚑ {_('in principle: below it is flagged, not blocked')}" if c.get("advisory") else ""
            lines.append(f"{_('Condition')}: {where} {self._measure(c['measure'])} {c['threshold']}{flag}")
        order = [f"{o['round']}/{o['post']} {self._measure(o['by'])}" if "post" in o
                 else f"{o['round']} {self._measure(o['by'])}" if "round" in o else o["key"] for o in rnd["order"]]
        lines.append(f"{_('Order')}: " + " > ".join(order))
        lines.append(_("Take %(take)s (%(seats)s seats, ratio 1:%(ratio)s); all tied at the cut go through")
                     % {"take": rnd["take"], "seats": rnd["seats"], "ratio": rnd["ratio"]})
        percents = ["round" in o and o["by"] not in ("votes", "score", "mean", "composite") for o in rnd["order"]]
        ordered = sorted(rnd["candidates"], key=lambda c: (not c["meets"], c.get("rank", 1 << 30)))
        headers = [_("Rank"), _("Name")]
        headers += [f"{_('Condition')} {i + 1}" for i in range(len(rnd["conditions"]))]
        headers += [*order, _("Shortlisted")]
        rows = []
        for c in ordered:
            missing = "" if c["status"] == "complete" else f" ({_('a result is missing')})"
            row = [str(c.get("rank", "-")), c["name"] + missing]
            for i, check in enumerate(c["checks"]):
                flag = " ⚑" if i in c.get("flagged", ()) else ""
                row.append("-" if check["value"] is None else f"{check['value']}% {self._mark(check['passes'])}{flag}")
            values = c.get("order_values") or [None] * len(order)
            row += ["-" if v is None else f"{v}%" if rated else v
                    for v, rated in zip(values, percents, strict=True)]
            row.append("▲" if c["shortlisted"] else "")
            rows.append(row)
        lines += table(headers, rows, [True, False] + [True] * (len(headers) - 3) + [False])
        if rnd["tie_at_cut"]:
            lines.append(_("A tie at the cut: more than %(take)s go through") % {"take": rnd["take"]})
        for key, names in rnd.get("missing_keys", {}).items():
            lines.append(_("Tied at the cut without %(key)s: %(names)s") % {"key": key, "names": ", ".join(names)})
        return lines

    def _measure(self, by: str) -> str:
        _ = self._
        words = {"rate": _("rate"), "votes": _("votes"), "competent_or_above": _("competent or above"),
                 "score": _("score"), "mean": _("mean"), "composite": _("composite")}
        return words.get(by, by)

    def _decide(self, rnd: dict[str, Any]) -> list[str]:
        _ = self._
        lines = [self._heading(rnd),
                 self._attendance(rnd, rnd["returned"] - rnd["invalid"], rnd["invalid"])]
        rule = f"{_('Agree needed, over all members')} {rnd['threshold']}"
        if "defer_rule" in rnd:
            rule += f"  {_('Deferred when disagree + abstain + not voted, over all members, is')} {rnd['defer_rule']}"
        if "seats" in rnd:
            rule += f"  {_('Seats')} {rnd['seats']}"
        lines.append(rule)
        outcomes = {"passed": _("passed"), "not_passed": _("not passed"), "deferred": _("deferred"),
                    "no_quorum": _("no quorum"), "tie": _("tie at the last seat: vote again")}
        headers = [_("Nominee"), _("Agree"), _("Disagree"), _("Abstain"), _("Not voted"), _("Outcome")]
        seats = "seats" in rnd
        if seats:
            headers.append(_("Elected"))
        rows = []
        for n in rnd.get("nominees", []):
            row = [n["name"], str(n["agree"]), str(n["disagree"]), str(n["abstain"]), str(n["not_voted"]),
                   outcomes[n["outcome"]]]
            if seats:
                row.append(self._mark(n["elected"]))
            rows.append(row)
        if rows:
            lines += table(headers, rows, [False, True, True, True, True, False, False])
        return lines

    def _score(self, rnd: dict[str, Any]) -> list[str]:
        _ = self._
        lines = [self._heading(rnd),
                 f"{_('Judges')} {rnd['judges']}  {_('Dropped at each end')} {rnd['trim']}"]
        ordered = sorted(rnd["contestants"], key=lambda c: c.get("rank", 1 << 30))
        has_short = any("shortlisted" in c for c in ordered)
        headers = [_("Rank"), _("Contestant"), _("Scores"), _("Mean"), _("Dropped high"), _("Dropped low")]
        if has_short:
            headers.append(_("Shortlisted"))
        rows = []
        for c in ordered:
            if c["status"] == "complete":
                row = [str(c["rank"]), c["name"], str(c["count"]), c["mean"],
                       " ".join(c["dropped_high"]), " ".join(c["dropped_low"])]
            else:
                row = ["-", c["name"], str(c["count"]), _("incomplete"), "", ""]
            if has_short:
                row.append(self._mark(c.get("shortlisted")))
            rows.append(row)
        styled = sys.stdout.isatty()
        lines += table(headers, rows, [True, False, True, True, False, False, False],
                       strike=[False, False, False, False, styled, styled])
        return lines

    def _composite(self, rnd: dict[str, Any]) -> list[str]:
        _ = self._
        lines = [self._heading(rnd)]
        ordered = sorted(rnd["candidates"], key=lambda c: c.get("rank", 1 << 30))
        names: list[str] = []
        for c in rnd["candidates"]:
            names += [k for k in c["components"] if k not in names]
        has_short = any("shortlisted" in c for c in ordered)
        headers = [_("Rank"), _("Name"), *names, _("Composite")]
        if has_short:
            headers.append(_("Shortlisted"))
        rows = []
        for c in ordered:
            row = [str(c.get("rank", "-")), c["name"]] + [c["components"].get(k, "-") for k in names]
            row.append(c.get("composite") or _("incomplete"))
            if has_short:
                row.append(self._mark(c.get("shortlisted")))
            rows.append(row)
        lines += table(headers, rows, [True, False] + [True] * (len(names) + 1) + [False])
        return lines


def write_text(text: str) -> None:
    # Bytes, so that the output is UTF-8 whatever the locale says.
    buffer = getattr(sys.stdout, "buffer", None)
    if buffer is None:
        click.echo(text, nl=False)
        return
    sys.stdout.flush()
    buffer.write(text.encode("utf-8"))
    buffer.flush()


@click.command("count")
@click.argument("meeting")
@click.argument("ballots")
@click.option("--json", "as_json", is_flag=True, help="Print the contract's JSON document.")
@click.option("--lang", type=click.Choice(["zh", "en"]), default="zh", show_default=True,
              help="Language of the result sheet.")
def count(meeting: str, ballots: str, as_json: bool, lang: str) -> None:
    """Count the plaintext BALLOTS (JSON Lines) of the MEETING file and print the results."""
    try:
        plan = load_plan(meeting)
    except PlanError as exc:
        raise FileProblem(str(exc)) from None
    doc = _count(plan, meeting, ballots)
    if as_json:
        write_text(json.dumps(doc, ensure_ascii=False, indent=2) + "\n")
    else:
        write_text(Sheet(plan, lang).render(doc))
