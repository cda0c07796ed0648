"""Ballot lines that reproduce the numbers of CONTRACT.md's example output (and RULES.md §8)."""
from __future__ import annotations

import json

WORKED_30 = [88, 92, 85, 90, 87, 91, 86, 89, 93, 84, 90, 88, 87, 95, 82, 89, 90, 86, 88, 91, 94, 83,
             87, 89, 90, 85, 88, 92, 96, 81]


def contract_ballots() -> list[dict]:
    out: list[dict] = []
    rec = [("张三", 58), ("李四", 40), ("王五", 12), ("赵六", 3), ("钱七", 2)]
    for name, n in rec:
        out += [{"round": "r1", "sections": {"mayor": [name]}} for _ in range(n)]
    out += [{"round": "r1", "sections": {"mayor": []}}, {"round": "r1", "sections": {}}]
    out += [{"round": "r1", "invalid": True}, {"round": "r1", "sections": {"mayor": ["张三", "李四"]}},
            {"round": "r1", "sections": {"mayor": ["张三", "张三"]}}]
    grades = ["优秀"] * 30 + ["称职"] * 20 + ["基本称职"] * 5 + ["不称职"] * 2
    for i, g in enumerate(grades):
        ballot: dict = {"round": "e1", "grades": {"张三": g, "李四": "称职"}}
        if i < 12:
            ballot["directions"] = {"张三": "提拔"}
        out.append(ballot)
    out.append({"round": "e1", "invalid": True})
    for choice, n in (("agree", 14), ("disagree", 4), ("abstain", 4)):
        out += [{"round": "d1", "votes": {"王五": choice}} for _ in range(n)]
    for j, score in enumerate(WORKED_30, start=1):
        out.append({"round": "s1", "judge": f"J{j:02d}", "contestant": "张三", "score": f"{score}.0"})
    out.append({"round": "s1", "judge": "J01", "contestant": "李四", "score": "90"})
    return out


def contract_lines() -> str:
    return "".join(json.dumps(b, ensure_ascii=False) + "\n" for b in contract_ballots())
