"""`tally count`: the contract's JSON, the result sheet, and clean failures, through click's
runner and through a real subprocess."""
from __future__ import annotations

import json
import os
import pty
import subprocess
import sys
from pathlib import Path

import pytest
from contract_ballots import contract_ballots, contract_lines

from tally.cli import main
from tally.cli.count import width
from tally.plan import load_plan
from tally.rules import count_meeting

ROOT = Path(__file__).resolve().parents[2]

TALLY = [sys.executable, "-c", "from tally.cli import main; main()"]


@pytest.fixture
def contract_file(write_ballots):
    return write_ballots([contract_lines()])


def test_json_is_the_contract_document(runner, contract_meeting, contract_file):
    result = runner.invoke(main, ["count", str(contract_meeting), str(contract_file), "--json"])
    assert result.exit_code == 0, result.stderr
    assert result.stderr == ""
    doc = json.loads(result.stdout)
    assert doc == count_meeting(load_plan(contract_meeting), enumerate(contract_ballots(), 1))
    r1, e1, d1, s1, c1 = doc["rounds"]
    assert {k: r1[k] for k in ("status", "expected", "present", "issued", "returned", "quorum_met")} == {
        "status": "counted", "expected": 130, "present": 120, "issued": 120, "returned": 120, "quorum_met": True}
    post = r1["posts"][0]
    assert {k: post[k] for k in ("id", "seats", "valid", "invalid", "blank", "denominator", "threshold")} == {
        "id": "mayor", "seats": 1, "valid": 117, "invalid": 3, "blank": 2, "denominator": 120, "threshold": ">=1/3"}
    assert post["candidates"][0] == {"name": "张三", "votes": 58, "rate": "48.33", "passes": True, "write_in": False}
    assert [(c["name"], c["rate"], c["passes"]) for c in post["candidates"][1:]] == [
        ("李四", "33.33", True), ("王五", "10.00", False), ("赵六", "2.50", False), ("钱七", "1.67", False)]
    assert post["candidates"][-1]["write_in"] is True
    assert (e1["returned"], e1["invalid"]) == (58, 1)
    assert e1["subjects"][0]["counts"] == {"优秀": 30, "称职": 20, "基本称职": 5, "不称职": 2}
    assert e1["subjects"][0]["directions"]["提拔"] == 12
    assert d1["nominees"] == [{"name": "王五", "agree": 14, "disagree": 4, "abstain": 4, "not_voted": 0,
                               "outcome": "deferred"}]
    assert s1["contestants"][0] == {
        "name": "张三", "status": "complete", "count": 30, "mean": "88.55",
        "dropped_high": ["96.0", "95.0", "94.0", "93.0", "92.0"],
        "dropped_low": ["81.0", "82.0", "83.0", "84.0", "85.0"], "rank": 1}
    assert s1["contestants"][1] == {"name": "李四", "status": "incomplete", "count": 1}
    assert c1["candidates"][0]["components"] == {"笔试": "82.50", "面试": "88.55", "测评": "85.96"}
    assert c1["candidates"][0]["composite"] == "85.61"  # (40×82.50 + 40×88.55 + 20×85.96)/100 = 85.612


def test_sheet_in_chinese_with_aligned_columns(runner, contract_meeting, contract_file):
    result = runner.invoke(main, ["count", str(contract_meeting), str(contract_file)])
    assert result.exit_code == 0, result.stderr
    out = result.stdout
    assert out.startswith("某镇换届推荐会议  计票结果\n")
    assert "应到 130  实到 120  发出 120  收回 120  有效 117  无效 3" in out
    for heading in ("民主推荐", "民主测评", "票决", "评委评分", "综合成绩", "候选人", "得票率", "去掉的最高分", "暂缓"):
        assert heading in out
    lines = out.splitlines()
    start = lines.index(next(line for line in lines if line.strip().startswith("候选人")))
    table = lines[start:start + 6]
    assert [line.split()[0] for line in table] == ["候选人", "张三", "李四", "王五", "赵六", "钱七"]
    assert "48.33%" in table[1] and "是" in table[2] and "否" in table[3]
    # right-aligned columns end at the same terminal column, CJK characters counting two
    for column in (["得票", "58", "40", "12", "3", "2"], ["得票率", "48.33%", "33.33%", "10.00%", "2.50%", "1.67%"]):
        ends = {width(line[:line.index(v, line.index(" ")) + len(v)]) for line, v in zip(table, column, strict=False)}
        assert len(ends) == 1, (column, table)
    starts = {width(line[:line.rindex("  ") + 2]) for line in table}
    assert len(starts) == 1, table  # the last column starts at one column
    assert "96.0 95.0 94.0 93.0 92.0" in out and "\x1b[" not in out  # no styling when not a terminal


def test_sheet_in_english(runner, contract_meeting, contract_file):
    result = runner.invoke(main, ["count", str(contract_meeting), str(contract_file), "--lang", "en"])
    assert result.exit_code == 0
    assert "Expected 130  Present 120  Issued 120  Returned 120  Valid 117  Invalid 3" in result.stdout
    assert "Candidate" in result.stdout and "deferred" in result.stdout and "计票结果" not in result.stdout


def test_sheet_of_void_and_no_quorum_rounds(runner, write_meeting, write_ballots):
    meeting = write_meeting({"meeting": {"title": "t"}, "rounds": [
        {"id": "r", "kind": "recommend", "expected": 9, "present": 6, "issued": 1,
         "posts": [{"id": "p", "seats": 1, "candidates": ["甲", "乙"]}]},
        {"id": "d", "kind": "decide", "expected": 9, "present": 5, "nominees": ["甲"]},
        {"id": "e", "kind": "evaluate", "present": 1, "subjects": ["甲"]}]})
    ballots = write_ballots([{"round": "r", "sections": {"p": ["甲"]}}] * 2 + [{"round": "d", "votes": {"甲": "agree"}}]
                            + [{"round": "e", "grades": {"甲": "优秀"}}] * 2)
    result = runner.invoke(main, ["count", str(meeting), str(ballots)])
    assert result.exit_code == 0, result.stderr
    assert result.stdout.count("无效：收回票数多于发出票数，本轮须重新投票") == 2
    assert "[d] 票决  (到会人数不足)" in result.stdout and "到会人数不足" in result.stdout.split("\n[d]")[1]
    assert "甲" not in result.stdout.split("[d]")[0]  # a void round shows no candidate


BAD_BALLOTS = [
    (['{"round": "r1", "sections": {}}\n', '{"round": "r9"}\n'], 2, 'round "r9" is not in the meeting file'),
    (['{"round": "r1", "sections": {}}\n', "{oops\n"], 2, "not valid JSON"),
    (['{"round": "r1", "sections": {}}\n', "\n", "[1]\n"], 3, "a ballot must be a JSON object"),
    (['{"round": "s1", "judge": "J1", "contestant": "张三", "score": "50"}\n',
      '{"round": "s1", "judge": "J1", "contestant": "张三", "score": "51"}\n'], 2, "already scored"),
    (['{"round": "s1", "judge": "J1", "contestant": "张三", "score": "50.05"}\n'], 1, "not on the step 0.1"),
    (['{"round": "s1", "judge": "J1", "contestant": "张三", "score": 50.5}\n'], 1, "must be a decimal string"),
    (['{"round": "r1", "sections": {"mayor": "张三"}}\n'], 1, "must be a list of names"),
    (['{"round": "e1", "grades": {"张三": "良"}}\n'], 1, "grade '良'"),
    (['{"round": "d1", "votes": {"王五": "maybe"}}\n'], 1, "must be agree, disagree or abstain"),
    (['{"round": "r1", "sections": {}}\n'] * 3 + ['{"round": "c1"}\n'], 4, "takes no ballots"),
    (['{"round": "r1", "sections": {}}\n', '"just a string"\n'], 2, "a ballot must be a JSON object"),
    (['{"round": "r1", "sections": {}}\n', '{"round": "r1", "sections": {}} trailing\n'], 2, "not valid JSON"),
    (['{"round": "r1", "sections": {}}\n', "[" * 100_000 + "]" * 100_000 + "\n"], 2, "nested too deeply"),
    (['{"round": "s1", "judge": "J1", "contestant": "张三", "score": ' + "9" * 5000 + "}\n"], 1, "not valid JSON"),
    (['{"round": "s1", "judge": "J1", "contestant": "张三", "score": "1' + "0" * 5000 + '"}\n'], 1, "is outside"),
]


@pytest.mark.parametrize(("lines", "line", "message"), BAD_BALLOTS)
def test_bad_ballot_files_fail_cleanly(runner, contract_meeting, write_ballots, lines, line, message):
    path = write_ballots(lines)
    for extra in ([], ["--json"]):
        result = runner.invoke(main, ["count", str(contract_meeting), str(path), *extra])
        assert result.exit_code == 1
        assert result.stdout == ""
        assert result.stderr.count("\n") == 1 and result.stderr.startswith(f"{path}:{line}: ")
        assert message in result.stderr


def test_bad_bytes_name_their_line(runner, contract_meeting, tmp_path):
    path = tmp_path / "b.jsonl"
    path.write_bytes(b'{"round": "r1", "sections": {}}\n' * 5 + b'{"round": "r1", "sections": {"mayor": ["\xff"]}}\n')
    result = runner.invoke(main, ["count", str(contract_meeting), str(path)])
    assert result.exit_code == 1 and result.stdout == ""
    assert result.stderr == f"{path}:6: is not UTF-8 text\n"


def test_bad_meeting_file_fails_cleanly(runner, write_meeting, contract_file):
    path = write_meeting("meeting:\n  title: x\nrounds:\n  - id: r1\n    kind: vote\n")
    result = runner.invoke(main, ["count", str(path), str(contract_file), "--json"])
    assert result.exit_code == 1 and result.stdout == ""
    known = "recommend, evaluate, decide, score, composite, shortlist"
    assert result.stderr == f"{path}:5: rounds[0].kind: unknown kind 'vote' (known: {known})\n"


def test_missing_files_fail_cleanly(runner, contract_meeting, tmp_path):
    result = runner.invoke(main, ["count", str(contract_meeting), str(tmp_path / "none.jsonl")])
    assert (result.exit_code, result.stdout) == (1, "")
    assert result.stderr == f"{tmp_path / 'none.jsonl'}: cannot be read: No such file or directory\n"
    result = runner.invoke(main, ["count", str(tmp_path / "none.yaml"), str(tmp_path / "none.jsonl")])
    assert result.stderr.startswith(f"{tmp_path / 'none.yaml'}: cannot be read") and result.stdout == ""


def test_meeting_without_attendance_fails_before_reading_ballots(runner, write_meeting, write_ballots):
    path = write_meeting(
        {"meeting": {"title": "t"}, "rounds": [{"id": "d1", "kind": "decide", "expected": 9, "nominees": ["a"]}]}
    )
    result = runner.invoke(main, ["count", str(path), str(write_ballots(["{broken\n"]))])
    assert result.exit_code == 1 and result.stdout == ""
    assert result.stderr == f'{path}: round "d1" needs expected (应到) and present (实到) to be counted\n'


def test_blank_lines_bom_and_crlf_are_read(runner, contract_meeting, tmp_path):
    path = tmp_path / "b.jsonl"
    body = contract_lines().replace("\n", "\r\n", 7).replace("\n", "\n\n", 3)
    path.write_bytes(b"\xef\xbb\xbf" + body.encode("utf-8") + b"\n  \n")
    result = runner.invoke(main, ["count", str(contract_meeting), str(path), "--json"])
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout) == count_meeting(load_plan(contract_meeting), enumerate(contract_ballots(), 1))


def test_usage_errors_exit_2(runner):
    result = runner.invoke(main, ["count", "only-one-file"])
    assert result.exit_code == 2 and result.stdout == ""


def test_real_subprocess(contract_meeting, contract_file, write_ballots):
    env = {**os.environ, "LANG": "C", "LC_ALL": "C", "PYTHONIOENCODING": ""}
    done = subprocess.run(
        [*TALLY, "count", str(contract_meeting), str(contract_file), "--json"],
        capture_output=True,
        cwd=ROOT,
        env=env,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert done.stderr == b""  # not a terminal: no progress bar
    assert json.loads(done.stdout.decode("utf-8")) == count_meeting(
        load_plan(contract_meeting), enumerate(contract_ballots(), 1)
    )
    sheet = subprocess.run(
        [*TALLY, "count", str(contract_meeting), str(contract_file)], capture_output=True, cwd=ROOT, env=env, timeout=60
    )
    assert sheet.returncode == 0 and "计票结果" in sheet.stdout.decode("utf-8")
    bad = write_ballots(['{"round": "r1", "sections": {}}\n', '{"round": "r9"}\n'], "bad.jsonl")
    failed = subprocess.run(
        [*TALLY, "count", str(contract_meeting), str(bad), "--json"], capture_output=True, cwd=ROOT, env=env, timeout=60
    )
    assert failed.returncode == 1 and failed.stdout == b""
    assert failed.stderr.decode("utf-8") == f'{bad}:2: round "r9" is not in the meeting file\n'


def test_progress_bar_only_on_a_terminal(contract_meeting, write_ballots):
    # ~36,000 lines (the judges' lines left out: they may not repeat), so the bar moves a few times
    lines = "".join(json.dumps(b, ensure_ascii=False) + "\n" for b in contract_ballots() if b["round"] != "s1")
    ballots = write_ballots([lines * 180])
    big = contract_meeting.read_text(encoding="utf-8")
    for small, large in (
        ("expected: 130\n    present: 120\n    issued: 120", "expected: 30000\n    present: 30000"),
        ("expected: 60\n    present: 58", "expected: 20000\n    present: 20000"),
        ("expected: 25\n    present: 22", "expected: 5000\n    present: 5000"),
    ):
        assert small in big
        big = big.replace(small, large)
    big_meeting = ballots.parent / "big.yaml"
    big_meeting.write_text(big, encoding="utf-8")
    command = [*TALLY, "count", str(big_meeting), str(ballots), "--json"]
    parent, child = pty.openpty()
    try:
        on_terminal = subprocess.run(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=child, timeout=120)
    finally:
        os.close(child)
    shown = b""
    while True:
        try:
            chunk = os.read(parent, 65536)
        except OSError:
            break
        if not chunk:
            break
        shown += chunk
    os.close(parent)
    assert on_terminal.returncode == 0
    doc = json.loads(on_terminal.stdout.decode("utf-8"))
    assert doc["rounds"][0]["returned"] == 120 * 180
    text = shown.decode("utf-8", "replace")
    assert str(ballots) in text and "100%" in text  # the bar's label and its end, on the terminal only
    piped = subprocess.run(command, cwd=ROOT, capture_output=True, timeout=120)
    assert piped.stderr == b"" and json.loads(piped.stdout.decode("utf-8")) == doc
