"""`tally count` on issue 12's rounds: item evaluations, `top`, `threshold: none`, talk rounds
beside the meeting, re-votes and short lists, as JSON and as the result sheet."""
from __future__ import annotations

import json

from tally.cli import main
from tests.rules.test_plan_issue12 import ALL

BALLOTS = (
    [{"round": "r1", "sections": {"p": ["张三"], "q": ["钱七", "孙八"]}}] * 5
    + [{"round": "r1", "sections": {"p": ["李四"], "q": ["钱七"]}}] * 3
    + [{"round": "r1", "sections": {"p": ["王五"], "q": ["周九"]}}]
    + [{"round": "t1", "sections": {"p": ["李四"]}}] * 2 + [{"round": "t1", "sections": {"p": ["王五"]}}]
    + [{"round": "e1", "scores": {"张三": {"德": "18", "能": "18", "勤": "18", "绩": "22", "廉": "14"},
                                  "李四": {"德": "18", "能": "18", "勤": "18", "绩": "26", "廉": "14"}}},
       {"round": "e1", "scores": {"张三": {"德": "17.5", "能": "17", "勤": "18", "绩": "20", "廉": "13"}}},
       {"round": "e1", "scores": {"张三": {"德": 15, "能": "15", "勤": "16", "绩": "19", "廉": "12"}}}]
)


def _run(runner, write_ballots, *args):
    path = write_ballots(BALLOTS)
    result = runner.invoke(main, ["count", str(ALL), str(path), *args])
    assert result.exit_code == 0, result.stderr
    return result.stdout


def test_count_items_top_none_and_talk_json(runner, write_ballots):
    rounds = {r["id"]: r for r in json.loads(_run(runner, write_ballots, "--json"))["rounds"]}
    p, q = rounds["r1"]["posts"]
    assert [(c["name"], c["rank"], c["passes"], c["forwarded"]) for c in p["candidates"]] == [
        ("张三", 1, True, True), ("李四", 2, True, True), ("王五", 3, False, False)]  # 3 of 9 is exactly 1/3
    assert p["top"] == 2 and p["advisory"] is True
    assert "threshold" not in q and all("passes" not in c for c in q["candidates"])
    assert [(c["name"], c["votes"], c["forwarded"]) for c in q["candidates"]] == [
        ("钱七", 8, True), ("孙八", 5, True), ("周九", 1, True)]
    assert rounds["r1"]["valid_months"] == 12
    talk = rounds["t1"]
    assert talk["channel"] == "talk" and "quorum_met" not in talk and talk["present"] == 3
    assert [(c["name"], c["rate"]) for c in talk["posts"][0]["candidates"]][:2] == [("李四", "66.67"), ("王五", "33.33")]
    zhang = rounds["e1"]["subjects"][0]
    assert zhang["score"] == "84.17" and rounds["e1"]["subjects"][1]["invalid"] == 1


def test_count_sheet_shows_items_forwarded_talk_and_the_short_list(runner, write_ballots):
    out = _run(runner, write_ballots)
    assert "德(20)  能(20)  勤(20)  绩(25)  廉(15)  量化得分(100)" in out
    assert "84.17" in out and "分项量化计分：满分100分，最小单位0.5分" in out
    assert "最多上报2名" in out and "不设通过线" in out and "⚑" in out
    assert "推荐结果自推荐之日起12个月内有效" in out
    assert "与会议推荐 r1 对照（各按各自人数计算得票率，不合并计算）" in out
    beside = out[out.index("与会议推荐 r1"):]
    assert "5 (55.56%)" in beside and "2 (66.67%)" in beside  # each over its own count
    assert "[r2] （第二次投票）  民主推荐" in out and "本轮已重新投票（见 r2）" in out
    assert "[sl] 人选名单" in out and "按职数1、1:2比例确定2人" in out


def test_count_sheet_in_english(runner, write_ballots):
    out = _run(runner, write_ballots, "--lang", "en")
    assert "(vote no. 2)" in out and "Forward at most 2" in out and "Short list" in out
