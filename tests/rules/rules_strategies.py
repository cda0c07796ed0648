"""Hypothesis strategies: random meeting files (as plain data) and ballots that fit them.

Ballots are well-formed (no input errors) but carry every voter mistake the rules classify:
over-votes, repeated names, write-ins, blanks, two grades, over-quota ballots, unreadable
paper ballots. Numbers sit near the rules' boundaries (quorum, 1/3, half, 30%).
"""
from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

PEOPLE = ["张三", "李四", "王五", "赵六", "钱七", "孙八"]
WRITE_INS = ["周九", "吴十"]
THRESHOLDS = [">=1/3", ">1/3", ">1/2", ">=1/2", ">=2/3", ">=80%", ">90%", ">=0%", ">50%", ">=100%"]


@st.composite
def attendance(draw: st.DrawFn, required: bool = True) -> dict[str, Any]:
    expected = draw(st.integers(1, 30))
    edge = -(-2 * expected // 3)  # the smallest 实到 with a quorum
    present = draw(st.one_of(st.just(edge), st.just(max(0, edge - 1)), st.integers(0, expected)))
    out = {"expected": expected, "present": present}
    if draw(st.booleans()):
        out["issued"] = draw(st.integers(max(0, present - 2), present + 2))
    return out


@st.composite
def recommend_round(draw: st.DrawFn, rid: str) -> dict[str, Any]:
    posts = []
    for i in range(draw(st.integers(1, 2))):
        seats = draw(st.integers(1, 3))
        write_in = draw(st.booleans())
        low = 0 if write_in else seats
        candidates = draw(st.lists(st.sampled_from(PEOPLE), min_size=low, max_size=5, unique=True))
        post: dict[str, Any] = {"id": f"p{i}", "seats": seats, "candidates": candidates, "write_in": write_in}
        if draw(st.booleans()):
            post["threshold"] = draw(st.sampled_from(THRESHOLDS))
        if draw(st.booleans()):
            post["title"] = f"职位{i}"
        posts.append(post)
    out = {"id": rid, "kind": "recommend", **draw(attendance()), "posts": posts,
           "denominator": draw(st.sampled_from(["present", "valid", "expected"])),
           "overvote": draw(st.sampled_from(["section", "ballot"]))}
    return out


@st.composite
def evaluate_round(draw: st.DrawFn, rid: str) -> dict[str, Any]:
    grades = draw(st.sampled_from([["优秀", "称职", "基本称职", "不称职"], ["优秀", "称职", "不称职"]]))
    out: dict[str, Any] = {"id": rid, "kind": "evaluate", "grades": grades,
                           "subjects": draw(st.lists(st.sampled_from(PEOPLE), min_size=1, max_size=3, unique=True))}
    if draw(st.booleans()):
        out.update(draw(attendance()))
    if draw(st.booleans()):
        out["directions"] = ["提拔", "留任", "交流", "改非"]
    if draw(st.booleans()):
        out["grade_values"] = draw(st.sampled_from([["100", 80, "60", 0], ["95.5", "80", "60.25", "0"]]))[:len(grades)]
    if draw(st.booleans()):
        out["quota"] = {"优秀": draw(st.integers(0, 2))}
    if draw(st.booleans()):
        out["threshold"] = draw(st.sampled_from(THRESHOLDS))
    if draw(st.booleans()):
        out["adjust"] = ">=1/3"
    out["rounding"] = draw(st.sampled_from(["half_up", "down"]))
    return out


@st.composite
def decide_round(draw: st.DrawFn, rid: str) -> dict[str, Any]:
    nominees = draw(st.lists(st.sampled_from(PEOPLE), min_size=1, max_size=4, unique=True))
    out: dict[str, Any] = {"id": rid, "kind": "decide", **draw(attendance()), "nominees": nominees}
    if draw(st.booleans()):
        out["expected"] = min(out["expected"], 6)  # small halls: majorities and ties come easily
        out["present"] = min(out["present"], out["expected"])
        out.pop("issued", None)
    if draw(st.booleans()):
        out["seats"] = draw(st.integers(1, len(nominees)))
        if len(nominees) > 2 and draw(st.booleans()):
            out["seats"] = len(nominees) - 1  # 差额 by one: ties at the last seat are likely
    if "seats" not in out and draw(st.booleans()):  # 等额 only: with seats it is a plan error
        out["defer_rule"] = draw(st.sampled_from([">30%", ">=30%", ">1/3"]))
    if draw(st.booleans()):
        out["threshold"] = draw(st.sampled_from([">1/2", ">=2/3", ">=1/2"]))
    return out


@st.composite
def score_round(draw: st.DrawFn, rid: str) -> dict[str, Any]:
    judges = draw(st.integers(1, 9))
    out: dict[str, Any] = {
        "id": rid, "kind": "score", "judges": judges, "trim": draw(st.integers(0, (judges - 1) // 2)),
        "min": 0, "max": 10, "step": draw(st.sampled_from(["1", "0.5", "0.1", "0.25"])),
        "decimals": draw(st.integers(0, 3)), "rounding": draw(st.sampled_from(["half_up", "down"])),
        "contestants": draw(st.lists(st.sampled_from(PEOPLE), min_size=1, max_size=4, unique=True)),
    }
    if draw(st.booleans()):
        out["tie_break"] = ["full_mean"]
    if draw(st.booleans()):
        out["shortlist"] = draw(st.integers(1, 3))
    return out


@st.composite
def composite_round(draw: st.DrawFn, rid: str, sources: list[dict[str, Any]]) -> dict[str, Any]:
    usable = [r for r in sources if r["kind"] == "score" or (r["kind"] == "evaluate" and "grade_values" in r)
              or r["kind"] == "recommend"]
    chosen = draw(st.lists(st.sampled_from(usable), max_size=2, unique_by=lambda r: r["id"])) if usable else []
    components: list[dict[str, Any]] = []
    names = draw(st.lists(st.sampled_from(PEOPLE), min_size=1, max_size=4, unique=True))
    components.append({"name": "笔试", "scores": {n: draw(st.sampled_from(["82.5", "88", "79.125", "85.995", "90"]))
                                                 for n in names}})
    for i, src in enumerate(chosen):
        comp: dict[str, Any] = {"name": f"c{i}", "round": src["id"]}
        if src["kind"] == "recommend":
            comp["post"] = draw(st.sampled_from([p["id"] for p in src["posts"]]))
        components.append(comp)
    if draw(st.booleans()):
        components.reverse()
    if len(components) == 1:
        weights = [100]
    elif len(components) == 2:
        w = draw(st.sampled_from([40, 50, 60, "33.5"]))
        weights = [w, 100 - w] if isinstance(w, int) else ["33.5", "66.5"]
    else:
        weights = [40, 40, 20]
    for c, w in zip(components, weights, strict=False):
        c["weight"] = w
    out: dict[str, Any] = {"id": rid, "kind": "composite", "components": components,
                           "rounding": draw(st.sampled_from(["half_up", "down"]))}
    if draw(st.booleans()):
        out["shortlist"] = draw(st.integers(1, 3))
    if draw(st.booleans()):
        out["tie_break"] = draw(st.permutations([c["name"] for c in components]))[:draw(st.integers(1, len(components)))]
    return out


@st.composite
def meetings(draw: st.DrawFn) -> dict[str, Any]:
    kinds = draw(st.lists(st.sampled_from(["recommend", "evaluate", "decide", "score"]), min_size=1, max_size=4))
    makers = {"recommend": recommend_round, "evaluate": evaluate_round, "decide": decide_round, "score": score_round}
    rounds = [draw(makers[k](f"r{i}")) for i, k in enumerate(kinds)]
    if draw(st.booleans()):
        rounds.append(draw(composite_round(f"c{len(rounds)}", rounds)))
    return {"meeting": {"title": "测试会议"}, "rounds": rounds}


def _names(draw: st.DrawFn, pool: list[str], most: int) -> list[str]:
    return draw(st.lists(st.sampled_from(pool), max_size=most))


@st.composite
def ballot_for(draw: st.DrawFn, r: dict[str, Any]) -> dict[str, Any]:
    if draw(st.integers(0, 15)) == 0:
        return {"round": r["id"], "invalid": True}
    if r["kind"] == "recommend":
        sections = {}
        for p in r["posts"]:
            if draw(st.integers(0, 5)) == 0:
                continue  # a missing section is blank
            pool = (p["candidates"] or WRITE_INS) + (WRITE_INS if draw(st.integers(0, 6)) == 0 else [])
            sections[p["id"]] = _names(draw, pool, p["seats"] + 1)
        return {"round": r["id"], "sections": sections}
    if r["kind"] == "evaluate":
        grades = r["grades"]
        marks: dict[str, Any] = {}
        for s in r["subjects"]:
            pick = draw(st.integers(0, 12))
            if pick == 0:
                continue
            if pick == 1:
                marks[s] = draw(st.lists(st.sampled_from(grades), min_size=0, max_size=2))
            else:
                marks[s] = draw(st.sampled_from(grades))
        ballot: dict[str, Any] = {"round": r["id"], "grades": marks}
        if r.get("directions") and draw(st.booleans()):
            ballot["directions"] = {s: draw(st.sampled_from(r["directions"])) for s in r["subjects"]
                                    if draw(st.booleans())}
        return ballot
    if r["kind"] == "decide":
        return draw(decide_ballot(r, 50))
    raise AssertionError(r["kind"])


@st.composite
def decide_ballot(draw: st.DrawFn, r: dict[str, Any], bias: int) -> dict[str, Any]:
    """Agree with each nominee with probability bias %; with seats, mostly within the seats."""
    votes = {}
    for n in r["nominees"]:
        if draw(st.integers(0, 99)) < bias:
            votes[n] = "agree"
        else:
            pick = draw(st.sampled_from(["disagree", "abstain", None]))
            if pick:
                votes[n] = pick
    if r.get("seats") and draw(st.integers(0, 6)):
        agreed = draw(st.permutations([n for n, v in votes.items() if v == "agree"]))
        for n in agreed[r["seats"]:]:
            votes[n] = "disagree"
    return {"round": r["id"], "votes": votes}


@st.composite
def decide_by_counts(draw: st.DrawFn, r: dict[str, Any], size: int) -> list[dict[str, Any]]:
    """差额 ballots built from drawn 同意 counts near the majority, so that ties at the last seat
    and passed-but-not-elected nominees turn up; each ballot agrees with at most `seats`."""
    seats, half = r["seats"], r["expected"] // 2
    counts = [draw(st.sampled_from([size, max(0, size - 1), half + 1, half, half + 2])) for _ in r["nominees"]]
    counts = [min(c, size) for c in counts]
    while sum(counts) > seats * size:
        counts[counts.index(max(counts))] -= 1
    loads = [0] * size
    votes: list[dict[str, str]] = [{} for _ in range(size)]
    for nominee, c in zip(r["nominees"], counts, strict=False):
        for i in sorted(range(size), key=lambda i: loads[i])[:c]:
            loads[i] += 1
            votes[i][nominee] = "agree"
    for v in votes:
        for nominee in r["nominees"]:
            if nominee not in v:
                pick = draw(st.sampled_from(["disagree", "abstain", None]))
                if pick:
                    v[nominee] = pick
    return [{"round": r["id"], "votes": v} for v in votes]


@st.composite
def score_lines(draw: st.DrawFn, r: dict[str, Any]) -> list[dict[str, Any]]:
    step = {"1": 1, "0.5": 2, "0.1": 10, "0.25": 4}[r["step"]]
    judges = [f"J{j}" for j in range(1, r["judges"] + 1)]
    lines = []
    for name in r["contestants"]:
        for judge in draw(st.lists(st.sampled_from(judges), unique=True)):
            units = draw(st.integers(0, 10 * step))
            value = units * {"1": 1, "0.5": 5, "0.1": 1, "0.25": 25}[r["step"]]
            text = {"1": str(units), "0.5": f"{value // 10}.{value % 10}",
                    "0.1": f"{units // 10}.{units % 10}", "0.25": f"{value // 100}.{value % 100:02d}"}[r["step"]]
            lines.append({"round": r["id"], "judge": judge, "contestant": name, "score": text})
    return lines


@st.composite
def meeting_and_ballots(draw: st.DrawFn) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    meeting = draw(meetings())
    ballots: list[dict[str, Any]] = []
    for r in meeting["rounds"]:
        if r["kind"] == "score":
            ballots += draw(score_lines(r))
        elif r["kind"] != "composite":
            # around 实到 so that void rounds (returned > issued) turn up too
            present = r.get("present") or 8
            size = draw(st.one_of(st.just(present), st.integers(0, present + 2)))
            if r["kind"] == "decide" and r.get("seats") and draw(st.booleans()):
                ballots += draw(decide_by_counts(r, min(size, r["present"])))
            elif r["kind"] == "decide":
                bias = draw(st.sampled_from([50, 85, 97]))
                ballots += [draw(st.one_of(decide_ballot(r, bias), ballot_for(r))) for _ in range(size)]
            else:
                ballots += [draw(ballot_for(r)) for _ in range(size)]
    return meeting, draw(st.permutations(ballots))


@st.composite
def contested_decisions(draw: st.DrawFn) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """One 差额票决 round in a full hall: winners, losers and ties at the last seat."""
    seats = draw(st.integers(1, 3))
    nominees = PEOPLE[:seats + draw(st.integers(1, 2))]
    expected = draw(st.integers(2, 9))
    r: dict[str, Any] = {"id": "d1", "kind": "decide", "expected": expected, "present": expected,
                         "nominees": nominees, "seats": seats}
    if draw(st.integers(0, 3)) == 0:
        r["threshold"] = ">=1/2"
    ballots = draw(decide_by_counts(r, expected))
    return {"meeting": {"title": "差额票决"}, "rounds": [r]}, draw(st.permutations(ballots))
