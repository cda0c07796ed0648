"""An independent, deliberately plain implementation of CONTRACT.md, for cross-checking the engine.

Written from CONTRACT.md, RULES.md and docs/counting.md alone; it shares no code with
`tally.rules` (no import from `tally`) and favours the obvious over the fast: whole lists in
memory, Decimal division at 200 digits then quantize, ballots re-read for every question.
It takes the meeting file as plain data (decimals as strings) and well-formed ballots.
"""
from __future__ import annotations

import re
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal, localcontext
from fractions import Fraction
from typing import Any

GRADES = ["优秀", "称职", "基本称职", "不称职"]


def rounded(num: Fraction | int, decimals: int, mode: str = "half_up") -> str:
    value = Fraction(num)
    with localcontext() as ctx:
        ctx.prec = 200
        exact = Decimal(value.numerator) / Decimal(value.denominator)
        out = exact.quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP if mode == "half_up" else ROUND_DOWN)
    text = format(out, "f")
    return "0" + text[2:] if text.startswith("-0") and set(text[1:]) <= {"0", "."} else text


def rate(num: int, den: int, mode: str = "half_up") -> str | None:
    return None if den <= 0 else rounded(Fraction(100 * num, den), 2, mode)


def meets(text: str, num: Fraction | int, den: Fraction | int) -> bool:
    """`>=1/3`, `>1/2`, `>=80%`, `>90.5%`."""
    if den <= 0:
        return False
    m = re.fullmatch(r"(>=|>)(\d+)/(\d+)", text) or re.fullmatch(r"(>=|>)([\d.]+)%", text)
    assert m, text
    bar = Fraction(Decimal(m.group(2))) / 100 if text.endswith("%") else Fraction(int(m.group(2)), int(m.group(3)))
    ratio = Fraction(num) / Fraction(den)
    return ratio >= bar if m.group(1) == ">=" else ratio > bar


def competition_ranks(keys: dict[str, tuple]) -> dict[str, int]:
    return {name: 1 + sum(1 for other in keys.values() if other > key) for name, key in keys.items()}


def count(meeting: dict[str, Any], ballots: list[dict[str, Any]]) -> dict[str, Any]:
    done: dict[str, dict[str, Any]] = {}
    for r in meeting["rounds"]:
        mine = [b for b in ballots if b["round"] == r["id"]]
        if r["kind"] != "composite":
            done[r["id"]] = {"recommend": recommend, "evaluate": evaluate, "decide": decide,
                             "score": score}[r["kind"]](r, mine)
    for r in meeting["rounds"]:
        if r["kind"] == "composite":
            done[r["id"]] = composite(r, done)
    return {"meeting": {"title": meeting["meeting"]["title"]}, "rounds": [done[r["id"]] for r in meeting["rounds"]]}


def _head(r: dict[str, Any]) -> dict[str, Any]:
    out = {"id": r["id"], "kind": r["kind"]}
    if r.get("title"):
        out["title"] = r["title"]
    return out


def recommend(r: dict[str, Any], ballots: list[dict[str, Any]]) -> dict[str, Any]:
    expected, present = r["expected"], r["present"]
    issued = r.get("issued", present)
    returned = len(ballots)
    quorum = 3 * present >= 2 * expected
    out = _head(r)
    out["status"] = "void" if returned > issued else ("counted" if quorum else "no_quorum")
    out.update(expected=expected, present=present, issued=issued, returned=returned, quorum_met=quorum)
    if returned > issued:
        return out

    def section_ok(post: dict[str, Any], names: list[str]) -> bool:
        if len(names) > post["seats"] or len(set(names)) != len(names):
            return False
        written = [n for n in names if n not in post["candidates"]]
        return not written or (post.get("write_in", False) and all(len(n) <= 32 for n in written))

    def ballot_voided(b: dict[str, Any]) -> bool:
        if r.get("overvote") != "ballot" or b.get("invalid"):
            return False
        return any(len(b.get("sections", {}).get(p["id"]) or []) > p["seats"] for p in r["posts"])

    posts = []
    for post in r["posts"]:
        invalid = blank = 0
        votes: dict[str, int] = {}
        for b in ballots:
            if b.get("invalid") or ballot_voided(b):
                invalid += 1
                continue
            names = b.get("sections", {}).get(post["id"]) or []
            if not names:
                blank += 1
            elif not section_ok(post, names):
                invalid += 1
            else:
                for n in names:
                    votes[n] = votes.get(n, 0) + 1
        valid = returned - invalid
        den = {"present": present, "valid": valid, "expected": expected}[r.get("denominator", "present")]
        threshold = post.get("threshold") or (">=1/3" if len(post["candidates"]) > post["seats"] else ">1/2")
        listed = [{"name": n, "votes": votes.get(n, 0), "write_in": False} for n in post["candidates"]]
        extra = [{"name": n, "votes": v, "write_in": True} for n, v in sorted(votes.items())
                 if n not in post["candidates"]]
        everyone = sorted(listed, key=lambda c: -c["votes"])
        for w in sorted(extra, key=lambda c: -c["votes"]):
            # a write-in goes after every listed name with at least as many votes
            at = len([c for c in everyone if c["votes"] >= w["votes"]])
            everyone.insert(at, w)
        candidates = [{"name": c["name"], "votes": c["votes"], "rate": rate(c["votes"], den),
                       "passes": quorum and meets(threshold, c["votes"], den), "write_in": c["write_in"]}
                      for c in everyone]
        p: dict[str, Any] = {"id": post["id"]}
        if post.get("title"):
            p["title"] = post["title"]
        p.update(seats=post["seats"], valid=valid, invalid=invalid, blank=blank, denominator=den,
                 threshold=threshold, candidates=candidates)
        posts.append(p)
    out["posts"] = posts
    return out


def evaluate(r: dict[str, Any], ballots: list[dict[str, Any]]) -> dict[str, Any]:
    grades = r.get("grades", GRADES)
    mode = r.get("rounding", "half_up")
    quota = r.get("quota", {})

    def single(value: Any) -> str | bool | None:
        """The one choice, None for none, False for two or more."""
        if isinstance(value, list):
            return None if not value else (value[0] if len(value) == 1 else False)
        return value

    def over_quota(b: dict[str, Any]) -> bool:
        chosen = [single(v) for v in b.get("grades", {}).values()]
        return any(chosen.count(g) > limit for g, limit in quota.items())

    out = _head(r)
    issued = r.get("issued", r.get("present"))
    returned = len(ballots)
    void = issued is not None and returned > issued
    out["status"] = "void" if void else "counted"
    for key, value in (("expected", r.get("expected")), ("present", r.get("present")), ("issued", issued)):
        if value is not None:
            out[key] = value
    good = [b for b in ballots if not b.get("invalid") and not over_quota(b)]
    out.update(returned=returned, invalid=returned - len(good))
    if r.get("threshold"):
        out["threshold"] = r["threshold"]
    if r.get("adjust"):
        out["adjust_threshold"] = r["adjust"]
    if void:
        return out
    subjects = []
    for s in r["subjects"]:
        picks = [single(b.get("grades", {}).get(s)) for b in good]
        counts = {g: picks.count(g) for g in grades}
        n = sum(counts.values())
        rates = {g: rate(c, n, mode) for g, c in counts.items()}
        best_two = counts[grades[0]] + counts[grades[1]]
        rates["competent_or_above"] = rate(best_two, n, mode)
        entry: dict[str, Any] = {"name": s, "valid": n, "abstain": picks.count(None), "invalid": picks.count(False),
                                 "counts": counts, "rates": rates}
        if r.get("grade_values"):
            total = sum(Fraction(Decimal(str(v))) * counts[g] for v, g in zip(r["grade_values"], grades, strict=False))
            entry["score"] = rounded(total / n, 2, mode) if n else None
        if r.get("threshold"):
            entry["passes"] = meets(r["threshold"], best_two, n)
        if r.get("adjust"):
            entry["adjust"] = meets(r["adjust"], counts[grades[-1]], n)
        if r.get("directions"):
            ds = [single(b.get("directions", {}).get(s)) for b in good]
            entry["directions"] = {d: ds.count(d) for d in r["directions"]}
        subjects.append(entry)
    out["subjects"] = subjects
    return out


def decide(r: dict[str, Any], ballots: list[dict[str, Any]]) -> dict[str, Any]:
    expected, present = r["expected"], r["present"]
    issued = r.get("issued", present)
    seats = r.get("seats")
    threshold = r.get("threshold", ">1/2")
    returned = len(ballots)
    quorum = 3 * present >= 2 * expected

    def readable(b: dict[str, Any]) -> bool:
        if b.get("invalid"):
            return False
        agreed = [v for v in b.get("votes", {}).values() if v == "agree"]
        return seats is None or len(agreed) <= seats

    good = [b for b in ballots if readable(b)]
    out = _head(r)
    out["status"] = "void" if returned > issued else ("counted" if quorum else "no_quorum")
    out.update(expected=expected, present=present, issued=issued, returned=returned, invalid=returned - len(good),
               quorum_met=quorum, threshold=threshold)
    if r.get("defer_rule"):
        out["defer_rule"] = r["defer_rule"]
    if seats is not None:
        out["seats"] = seats
    if returned > issued:
        return out
    nominees = []
    for name in r["nominees"]:
        said = [b.get("votes", {}).get(name) for b in good]
        agree, disagree, abstain = said.count("agree"), said.count("disagree"), said.count("abstain")
        not_voted = present - agree - disagree - abstain
        if not quorum:
            outcome = "no_quorum"
        elif not meets(threshold, agree, expected):
            outcome = "not_passed"  # the majority decides first: never deferred without it
        elif r.get("defer_rule") and meets(r["defer_rule"], disagree + abstain + not_voted, expected):
            outcome = "deferred"
        else:
            outcome = "passed"
        nominees.append({"name": name, "agree": agree, "disagree": disagree, "abstain": abstain,
                         "not_voted": not_voted, "outcome": outcome})
    if seats is not None:
        winners = sorted([n for n in nominees if n["outcome"] == "passed"], key=lambda n: -n["agree"])
        cut = winners[seats - 1]["agree"] if len(winners) > seats else None
        tie_at_cut = cut is not None and winners[seats]["agree"] == cut
        for n in nominees:
            n["elected"] = False
            if n["outcome"] != "passed":
                continue
            if cut is None or n["agree"] > cut or (n["agree"] == cut and not tie_at_cut):
                n["elected"] = True
            elif n["agree"] == cut:
                n["outcome"] = "tie"
    out["nominees"] = nominees
    return out


def _places(step: str) -> int:
    return len(step.split(".")[1]) if "." in step else 0


def score(r: dict[str, Any], ballots: list[dict[str, Any]]) -> dict[str, Any]:
    trim, decimals, mode = r["trim"], r.get("decimals", 2), r.get("rounding", "half_up")
    step_places = _places(str(r.get("step", "0.1")))
    shown = lambda d: format(d.quantize(Decimal(1).scaleb(-step_places)), "f")  # noqa: E731
    rows = []
    for name in r["contestants"]:
        scores = sorted(Decimal(str(b["score"])) for b in ballots if b["contestant"] == name)
        row: dict[str, Any] = {"name": name, "count": len(scores)}
        if len(scores) >= 2 * trim + 1:
            kept = scores[trim:len(scores) - trim]
            row["status"] = "complete"
            row["mean"] = rounded(Fraction(sum(kept)) / len(kept), decimals, mode)
            row["dropped_high"] = [shown(s) for s in scores[::-1][:trim]]
            row["dropped_low"] = [shown(s) for s in scores[:trim]]
            row["full_mean"] = rounded(Fraction(sum(scores)) / len(scores), decimals, mode)
        else:
            row["status"] = "incomplete"
        rows.append(row)
    ties = r.get("tie_break", [])
    keys = {row["name"]: (Decimal(row["mean"]), *tuple(Decimal(row["full_mean"]) for _ in ties))
            for row in rows if row["status"] == "complete"}
    ranks = competition_ranks(keys)
    contestants = []
    for row in rows:
        entry: dict[str, Any] = {"name": row["name"], "status": row["status"], "count": row["count"]}
        if row["status"] == "complete":
            entry.update(mean=row["mean"], dropped_high=row["dropped_high"], dropped_low=row["dropped_low"],
                         rank=ranks[row["name"]])
            if ties:
                entry["full_mean"] = row["full_mean"]
        if r.get("shortlist") is not None:
            entry["shortlisted"] = row["name"] in ranks and ranks[row["name"]] <= r["shortlist"]
        contestants.append(entry)
    out = _head(r)
    out.update(status="counted", judges=r["judges"], trim=trim, contestants=contestants)
    return out


def composite(r: dict[str, Any], done: dict[str, dict[str, Any]]) -> dict[str, Any]:
    mode = r.get("rounding", "half_up")
    tables: list[dict[str, str | None]] = []
    for c in r["components"]:
        if "scores" in c:
            tables.append({k: str(v) for k, v in c["scores"].items()})
            continue
        src = done[c["round"]]
        if src["kind"] == "score":
            tables.append({x["name"]: x.get("mean") for x in src["contestants"]})
        elif src["kind"] == "evaluate":
            tables.append({x["name"]: x.get("score") if src["status"] == "counted" else None
                           for x in src.get("subjects", [])})
        else:
            post = [p for p in src.get("posts", []) if p["id"] == c["post"]]
            tables.append({x["name"]: x["rate"] if src["status"] == "counted" else None
                           for x in (post[0]["candidates"] if post else [])})
    names = [c["name"] for c in r["components"]]
    weights = [Fraction(Decimal(str(c["weight"]))) for c in r["components"]]
    rows = []
    for person in tables[0]:
        parts = {n: rounded(Fraction(Decimal(t[person])), 2, mode) for n, t in zip(names, tables, strict=False)
                 if t.get(person) is not None}
        row: dict[str, Any] = {"name": person, "parts": parts}
        if len(parts) == len(names):
            row["composite"] = rounded(sum(w * Fraction(Decimal(parts[n])) for w, n in zip(weights, names, strict=False)) / 100,
                                       2, mode)
        rows.append(row)
    keys = {row["name"]: (Decimal(row["composite"]), *tuple(Decimal(row["parts"][t]) for t in r.get("tie_break", [])))
            for row in rows if "composite" in row}
    ranks = competition_ranks(keys)
    candidates = []
    for row in rows:
        entry: dict[str, Any] = {"name": row["name"], "status": "complete" if "composite" in row else "incomplete",
                                 "components": row["parts"]}
        if "composite" in row:
            entry.update(composite=row["composite"], rank=ranks[row["name"]])
        if r.get("shortlist") is not None:
            entry["shortlisted"] = row["name"] in ranks and ranks[row["name"]] <= r["shortlist"]
        candidates.append(entry)
    out = _head(r)
    out.update(status="counted", candidates=candidates)
    return out
