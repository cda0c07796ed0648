"""One meeting made of the five seed examples (docs/examples/*.yaml), and ballots for every round.

Each example's rounds keep their plan (kind, posts, grades, thresholds, presets, judges) under
an id prefixed with the seed (`s001-recommend`); a composite's components follow the renaming.
Every round with attendance draws its 实到 from its own electorate (an attendee group named for
it), so that one roster gives each round the 应到/实到 its seed document has. The ballots are
designed so that each round shows what its sheet must say: write-ins, a pass exactly at 1/3, a
post nobody passes, an adjustment mark, directions, a deferral under the 30% rule, a 差额 seat,
a judge panel all equal, a tie at the short-list cut, a 28-of-30 panel, a composite whose
ranking differs from the meeting file's order.
"""
from __future__ import annotations

import random
from decimal import Decimal
from pathlib import Path
from typing import Any

import yaml

EXAMPLES = Path(__file__).resolve().parents[2] / "docs" / "examples"
TITLE = "五份种子文件合并会议"
WORKED_30 = [88, 92, 85, 90, 87, 91, 86, 89, 93, 84, 90, 88, 87, 95, 82, 89, 90, 86, 88, 91, 94, 83, 87, 89, 90, 85,
             88, 92, 96, 81]


# Not from a seed: one meeting with four posts of five candidates (a township's 换届 slate), the
# long result that must page by post on the projector rather than shrink.
MANY_POSTS = {"id": "x-many-posts", "kind": "recommend", "title": "镇领导班子换届推荐（四个职位）", "expected": 60,
              "electorate": "x-60-56",
              "posts": [{"id": f"p{i}", "title": title, "seats": 1, "candidates": [f"{title[:2]}候选{j}" for j in range(1, 6)]}
                        for i, title in enumerate(["镇党委书记", "镇长", "镇党委副书记", "镇人大主席"], start=1)]}


def rounds() -> list[dict[str, Any]]:
    out = []
    for path in sorted(EXAMPLES.glob("*.yaml")):
        seed = "s" + path.name[:3]
        for r in yaml.safe_load(path.read_text(encoding="utf-8"))["rounds"]:
            r = dict(r, id=f"{seed}-{r['id']}")
            if r["kind"] == "composite":
                r["components"] = [dict(c, round=f"{seed}-{c['round']}") if "round" in c else c for c in r["components"]]
            if "present" in r:
                r["electorate"] = electorate(r)
                r.pop("present")
            out.append(r)
    return [*out, MANY_POSTS]


def electorate(r: dict[str, Any]) -> str:
    """Rounds of one seed that share 应到/实到 share an electorate (003's three town rounds)."""
    return f"{r['id'].split('-')[0]}-{r['expected']}-{r['present']}"


def meeting_yaml() -> str:
    return yaml.safe_dump({"meeting": {"title": TITLE}, "rounds": rounds()}, allow_unicode=True, sort_keys=False)


def roster() -> tuple[str, list[str]]:
    """The roster CSV (应到 people per electorate) and the numbers of those who sign in (实到)."""
    lines = ["编号,姓名,类别"]
    present: list[str] = []
    seen: set[str] = set()
    for path in sorted(EXAMPLES.glob("*.yaml")):
        seed = "s" + path.name[:3]
        for r in yaml.safe_load(path.read_text(encoding="utf-8"))["rounds"]:
            if "present" not in r:
                continue
            group = electorate(dict(r, id=f"{seed}-{r['id']}"))
            if group in seen:
                continue
            seen.add(group)
            for i in range(r["expected"]):
                number = f"{group}-{i:03d}"
                lines.append(f"{number},{group}代表{i:03d},{group}")
                if i < r["present"]:
                    present.append(number)
    for i in range(60):
        lines.append(f"x-{i:03d},班子推荐代表{i:03d},x-60-56")
        if i < 56:
            present.append(f"x-{i:03d}")
    return "\n".join(lines) + "\n", present


def _rec(rid: str, *sections: tuple[str, list[tuple[int, list[str]]]]) -> list[dict[str, Any]]:
    """Ballots of a recommend round from (post, [(how many, names)]) per post, zipped ballot by ballot."""
    columns = []
    for post, runs in sections:
        column: list[list[str]] = []
        for n, names in runs:
            column += [names] * n
        columns.append((post, column))
    size = max(len(c) for _p, c in columns)
    return [{"round": rid, "sections": {p: c[i] for p, c in columns if i < len(c) and c[i] is not None}}
            for i in range(size)]


def _eval(rid: str, subjects: dict[str, list[tuple[int, Any]]],
          directions: dict[str, list[tuple[int, str]]] | None = None) -> list[dict[str, Any]]:
    grades = {s: [g for n, g in runs for _ in range(n)] for s, runs in subjects.items()}
    dirs = {s: [d for n, d in runs for _ in range(n)] for s, runs in (directions or {}).items()}
    size = max(len(v) for v in grades.values())
    out = []
    for i in range(size):
        b: dict[str, Any] = {"round": rid, "grades": {s: g[i] for s, g in grades.items() if i < len(g) and g[i]}}
        d = {s: v[i] for s, v in dirs.items() if i < len(v)}
        if d:
            b["directions"] = d
        out.append(b)
    return out


def _decide(rid: str, runs: list[tuple[int, dict[str, str]]]) -> list[dict[str, Any]]:
    return [{"round": rid, "votes": votes} for n, votes in runs for _ in range(n)]


def ballots() -> list[dict[str, Any]]:
    """Every ballot round's ballots (CONTRACT.md lines)."""
    b: list[dict[str, Any]] = []
    # 000: an open list (write-ins only), 3 seats, >= 1/3 of 80 present: 27 votes pass.
    b += _rec("s000-unit-recommend", ("director", [(30, ["刘一", "陈二", "杨三"]), (12, ["刘一", "陈二", "黄四"]),
                                                   (8, ["刘一", "黄四"]), (6, ["陈二"]), (4, []), (2, ["刘一", "刘一"])]))
    # 001: 李四 76 of 226 present is 33.63%, >= 1/3 (76×3 = 228 ≥ 226); 赵六 over half.
    b += _rec("s001-recommend", ("bureau-head", [(110, ["张三"]), (76, ["李四"]), (10, ["王五"]), (2, []),
                                                 (2, ["张三", "李四"])]),
              ("deputy-head", [(150, ["赵六"]), (50, [])]))
    b += _eval("s001-evaluation", {"张三": [(20, "优秀"), (14, "称职"), (4, "基本称职"), (2, "不称职"), (2, None)],
                                   "李四": [(4, "优秀"), (10, "称职"), (13, "基本称职"), (14, "不称职"), (1, None)]})
    # 35 members, 31 present: 20 agree (> 17.5), 6 + 3 + 2 未按 = 11 > 10.5: deferred.
    b += _decide("s001-full-committee", [(20, {"张三": "agree"}), (6, {"张三": "disagree"}), (3, {"张三": "abstain"})])
    b += _decide("s001-standing-committee", [(7, {"李四": "agree", "王五": "disagree"}),
                                             (3, {"李四": "disagree", "王五": "agree"}),
                                             (1, {"李四": "abstain", "王五": "abstain"})])
    b += _eval("s002-evaluation", {"甲": [(30, "优秀"), (15, "称职"), (3, "基本称职")],
                                   "乙": [(25, "优秀"), (18, "称职"), (4, "基本称职"), (1, "不称职")],
                                   "丙": [(35, "优秀"), (12, "称职"), (1, "基本称职")],
                                   "丁": [(20, "优秀"), (20, "称职"), (6, "基本称职"), (2, "不称职")]})
    b += _eval("s003-evaluation",
               {"陈一": [(60, "优秀"), (35, "称职"), (3, "不称职"), (2, None)],
                "林二": [(30, "优秀"), (55, "称职"), (15, "不称职")],
                "黄三": [(10, "优秀"), (50, "称职"), (38, "不称职"), (2, ["优秀", "称职"])]},
               {"陈一": [(50, "提拔"), (40, "留任"), (5, "交流")], "林二": [(60, "留任"), (20, "交流"), (10, "改非")],
                "黄三": [(30, "交流"), (40, "改非")]})
    b += _rec("s003-full-slate", ("secretary", [(70, ["陈一"]), (28, ["林二"]), (2, [])]),
              ("mayor", [(50, ["林二"]), (48, ["黄三"]), (2, [])]))
    b += _rec("s003-reserve", ("reserve", [(45, ["陈一", "林二"]), (25, ["陈一", "黄三"]), (20, ["林二", "周四"]),
                                           (10, ["黄三", "周四"])]))
    b += _rec("s003-self-nominated", ("mayor", [(31, ["吴五"]), (5, [])]))
    b += _rec("s004-recommend", ("hr-head", [(40, ["钱一"]), (8, ["孙二"]), (3, ["李三"]), (2, ["赵某"]), (2, [])]))
    b += _eval("s004-evaluation", {"钱一": [(30, "优秀"), (18, "称职"), (5, "基本称职"), (1, "不称职"), (1, None)]},
               {"钱一": [(40, "提拔"), (10, "留任")]})
    b += _decide("s004-party-group", [(5, {"钱一": "agree"}), (1, {"钱一": "disagree"}), (1, {"钱一": "abstain"})])
    posts = MANY_POSTS["posts"]
    b += [{"round": "x-many-posts", "sections": {p["id"]: [p["candidates"][(i + k) % 3 if i < 40 else i % 5]]
                                                 for k, p in enumerate(posts)}} for i in range(50)]
    return b


def _panel(rid: str, contestant: str, values: list[Any], seats: list[int] | None = None) -> list[dict[str, str]]:
    seats = seats or list(range(1, len(values) + 1))
    return [{"round": rid, "judge": f"J{s:02d}", "contestant": contestant, "score": str(Decimal(str(v)))}
            for s, v in zip(seats, values, strict=True)]


def score_lines() -> dict[str, list[dict[str, str]]]:
    """Each score round's lines, contestant by contestant in speaking order (the plan's)."""
    rng = random.Random(11)
    out: dict[str, list[dict[str, str]]] = {}
    # 000: ten contestants, 7 judges, step 0.5; 03 and 04 tie at the short-list cut (3rd place).
    means = [90, 88, 85, 85, 80, 78, 76, 82, 70, 84]
    lines: list[dict[str, str]] = []
    for i, m in enumerate(means, start=1):
        lines += _panel("s000-interview", f"候选人{i:02d}", [m - 1, m, m + 1, m, m - 0.5, m + 0.5, m])
    out["s000-interview"] = lines
    out["s002-interview"] = (_panel("s002-interview", "甲", [85.5, 88, 90, 86.5, 92, 79, 88])
                             + _panel("s002-interview", "乙", [80, 84, 83, 82, 85, 81, 84])
                             + _panel("s002-interview", "丙", [90] * 7)
                             + _panel("s002-interview", "丁", [86, 87, 88, 86, 85, 89, 87]))
    out["s003-speech"] = (_panel("s003-speech", "郑六", WORKED_30)
                          + _panel("s003-speech", "王七", [rng.randint(850, 930) / 10 for _ in range(28)],
                                   seats=list(range(1, 29)))
                          + _panel("s003-speech", "冯八", [rng.randint(800, 880) / 10 for _ in range(30)])
                          + _panel("s003-speech", "陈九", [rng.randint(860, 940) / 10 for _ in range(30)]))
    return out
