"""`kiosk simulate` playing a judging panel against the real tally: contestant by contestant, every seat
at once, through real kiosks' outboxes and senders; the tally's 亮分 follows RULES.md."""
from __future__ import annotations

import json
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from kiosk.cli import main
from kiosk.simulate import SimulationError
from kiosk.simulate_judges import read_judge_cards, simulate_judges

from .conftest import LiveJudging, local_offer

# RULES.md's 7-judge example first (trim 1 → 87.60), then two more contestants.
PANEL = {
    "甲": ["85.5", "88", "90", "86.5", "92", "79", "88"],   # drop 92, 79 → 437.5 / 5 = 87.60
    "乙": ["90", "91", "89", "90", "92", "88", "90"],       # drop 92, 88 → 450 / 5 = 90.00
    "丙": ["70.5", "75", "80", "72.5", "78", "77", "74"],   # drop 80, 70.5 → 376.5 / 5 = 75.30
}
MEANS = {"甲": "87.60", "乙": "90.00", "丙": "75.30"}


def score_lines(panel: dict[str, list[str]]) -> list[dict[str, str]]:
    return [{"round": "s1", "judge": f"J{seat:02d}", "contestant": name, "score": value}
            for name, values in panel.items() for seat, value in enumerate(values, start=1)]


def offers(tally: LiveJudging, n: int) -> list[str]:
    return [local_offer(tally).to_url() for _ in range(n)]


def test_seven_judges_score_three_contestants(tmp_path: Path, judging_tally: LiveJudging) -> None:
    opened: list[str] = []

    def open_next(contestant: str) -> None:  # what a benchmark's chair does
        opened.append(contestant)
        judging_tally.chair("next", {"contestant": contestant})

    summary = simulate_judges(offers(judging_tally, 7), judging_tally.judge_cards, score_lines(PANEL),
                              open_next=open_next, data_dir=tmp_path / "sim", timeout=60, open_timeout=10)
    assert opened == ["甲", "乙", "丙"]
    assert summary["kiosks"] == 7 and summary["judges"] == 7 and summary["scores"] == 21
    assert (summary["cast"], summary["accepted"], summary["rejected"], summary["unacknowledged"]) == (21, 21, {}, 0)
    assert summary["not_opened"] == [] and summary["cast_errors"] == {}
    assert [c["contestant"] for c in summary["contestants"]] == ["甲", "乙", "丙"]
    for c in summary["contestants"]:
        assert (c["accepted"], c["phase"]) == (7, "revealed")
        assert c["ack_ms"]["p50"] <= c["ack_ms"]["p99"] <= c["panel_ms"]
        assert c["began"] <= c["last_ack"]
    ranking = judging_tally.console()["ranking"]
    assert {r["name"]: r["mean"] for r in ranking} == MEANS
    assert [(r["name"], r["rank"]) for r in ranking] == [("乙", 1), ("甲", 2), ("丙", 3)]
    # One outbox per kiosk, each holding its seat's three acknowledged scores.
    assert sorted(p.name for p in (tmp_path / "sim").iterdir()) == [f"kiosk-{i}" for i in range(7)]


def test_fewer_kiosks_than_seats_and_a_refused_score(judging_tally: LiveJudging) -> None:
    lines = score_lines({"甲": ["80", "81", "82", "83", "84", "85", "86.3"]})
    summary = simulate_judges(offers(judging_tally, 3), judging_tally.judge_cards, lines,
                              open_next=lambda name: judging_tally.chair("next"), timeout=60, open_timeout=10)
    (only,) = summary["contestants"]
    assert summary["kiosks"] == 3 and only["accepted"] == 6 and only["rejected"] == {"score_off_step": 1}
    # Six of seven seats: the panel is not complete, so nothing is shown.
    assert only["phase"] == "scoring" and judging_tally.console()["scored_seats"] == [1, 2, 3, 4, 5, 6]


def test_bad_input_is_refused_before_an_offer_is_spent(judging_tally: LiveJudging) -> None:
    cards = judging_tally.judge_cards
    cases: list[tuple[list[dict[str, Any]], dict[str, str], str]] = [
        ([{"round": "zz", "judge": "J01", "contestant": "甲", "score": "80"}], cards, "not an open score round"),
        ([{"round": "s1", "judge": "J09", "contestant": "甲", "score": "80"}], cards, "no judge card for seat J09"),
        ([{"round": "s1", "judge": "7", "contestant": "甲", "score": "80"}], cards, "seat label"),
        ([{"round": "s1", "judge": "J01", "contestant": "甲", "score": 80}], cards, "decimal string"),
        (score_lines({"甲": ["80"]}) * 2, cards, "a second score from J01"),
        (score_lines({"甲": ["80"]}), {"J01": "SCR1.nonsense"}, "not a card"),
    ]
    offer = local_offer(judging_tally).to_url()
    for lines, judge_cards, message in cases:
        with pytest.raises(SimulationError, match=message):
            simulate_judges([offer], judge_cards, lines)
    # The offer's one-time code is still good.
    summary = simulate_judges([offer], cards, score_lines({"甲": ["80"]}),
                              open_next=lambda name: judging_tally.chair("next"), timeout=30, open_timeout=10)
    assert summary["accepted"] == 1


def test_a_contestant_nobody_opens_stops_the_play(judging_tally: LiveJudging) -> None:
    summary = simulate_judges(offers(judging_tally, 1), judging_tally.judge_cards,
                              score_lines({"甲": ["80"], "乙": ["81"]}), open_timeout=0.3)
    assert summary["not_opened"] == ["甲", "乙"] and summary["contestants"] == [] and summary["cast"] == 0


def chair_thread(tally: LiveJudging, names: list[str], stop: threading.Event) -> threading.Thread:
    """A chair at the console: opens the next contestant whenever the last one has been revealed."""

    def run() -> None:
        left = list(names)
        while left and not stop.is_set():
            st = tally.console()
            if st["phase"] != "scoring":
                tally.chair("next", {"contestant": left.pop(0)})
            time.sleep(0.05)

    t = threading.Thread(target=run, daemon=True)
    t.start()
    return t


def test_cli_plays_judges_and_ballots_as_the_chair_opens_contestants(tmp_path: Path,
                                                                     judging_tally: LiveJudging) -> None:
    meeting = json.loads(judging_tally.client.get("/api/v1/judging").get_data())["meeting"]["id"]
    (tmp_path / "offers").write_text("\n".join(offers(judging_tally, 4)) + "\n", encoding="utf-8")
    (tmp_path / "judges.tsv").write_text(
        "".join(f"{label}\t{text}\n" for label, text in judging_tally.judge_cards.items()), encoding="utf-8")
    (tmp_path / "cards").write_text("\n".join(c.qr_text for c in judging_tally.cards(meeting, 2)) + "\n",
                                    encoding="utf-8")
    ballots = [{"round": "r1", "sections": {"mayor": ["张三"]}}, {"round": "r1", "sections": {"mayor": ["李四"]}}]
    lines = score_lines(PANEL)[:14] + ballots  # 甲 and 乙, with two ballots in the same file
    (tmp_path / "ballots").write_text("\n".join(json.dumps(x, ensure_ascii=False) for x in lines) + "\n",
                                      encoding="utf-8")
    assert read_judge_cards(tmp_path / "judges.tsv") == judging_tally.judge_cards
    stop = threading.Event()
    chair = chair_thread(judging_tally, ["甲", "乙"], stop)
    try:
        result = CliRunner().invoke(main, [
            "simulate", "--offers", str(tmp_path / "offers"), "--cards", str(tmp_path / "cards"),
            "--judge-cards", str(tmp_path / "judges.tsv"), "--ballots", str(tmp_path / "ballots"),
            "--open-timeout", "30", "--timeout", "60"])
    finally:
        stop.set()
        chair.join(5)
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output)
    assert summary["kiosks"] == 4
    assert summary["voting"]["accepted"] == 2
    judging = summary["judging"]
    assert judging["accepted"] == 14 and judging["not_opened"] == []
    assert [(c["contestant"], c["phase"]) for c in judging["contestants"]] == [("甲", "revealed"), ("乙", "revealed")]
    assert "began" not in judging["contestants"][0]  # process-local clock readings stay in Python
    assert {r["name"]: r["mean"] for r in judging_tally.console()["ranking"]} == {"甲": "87.60", "乙": "90.00"}


def test_cli_wants_judge_cards_for_score_lines(tmp_path: Path, judging_tally: LiveJudging) -> None:
    (tmp_path / "offers").write_text(local_offer(judging_tally).to_url() + "\n", encoding="utf-8")
    (tmp_path / "ballots").write_text(json.dumps(score_lines({"甲": ["80"]})[0]) + "\n", encoding="utf-8")
    (tmp_path / "bad.tsv").write_text("J01 SCR1.x extra\n", encoding="utf-8")
    base = ["simulate", "--offers", str(tmp_path / "offers"), "--ballots", str(tmp_path / "ballots")]
    result = CliRunner().invoke(main, base)
    assert result.exit_code == 1 and "--judge-cards" in result.output
    result = CliRunner().invoke(main, [*base, "--judge-cards", str(tmp_path / "bad.tsv")])
    assert result.exit_code == 1 and "bad.tsv:1" in result.output
