"""Benchmark of `tally count` over a generated file of recommendation ballot lines.

Generates N lines (default 1,000,000) for a two-post recommendation round into a temporary
directory, then measures in the same run:
  * the floor: reading the file and `json.loads` of every line, nothing else;
  * `tally count --json` in-process (click's runner over the real command), with tracemalloc's
    peak of Python allocations;
  * `tally count --json` as a real subprocess, with its peak RSS (getrusage of the child).
Prints lines/s of each and the ratio to the floor. Target: ≥ 200,000 lines/s and ≥ 0.5 of the
floor. Usage: python bench/count_bench.py [--lines N] [--no-subprocess] [--seed S]
"""
from __future__ import annotations

import argparse
import json
import random
import resource
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

MEETING = """\
meeting:
  title: 基准测试推荐会议
rounds:
  - id: r1
    kind: recommend
    expected: {n}
    present: {n}
    posts:
      - id: mayor
        seats: 1
        candidates: [张三, 李四, 王五, 赵六]
        write_in: true
      - id: deputy
        seats: 2
        candidates: [钱七, 孙八, 周九, 吴十, 郑十一]
"""

TARGET_RATE = 200_000
TARGET_RATIO = 0.5


def generate(directory: Path, lines: int, seed: int) -> tuple[Path, Path]:
    """A meeting file and `lines` ballot lines: mostly clean choices, some blank, over-voted, write-ins."""
    rng = random.Random(seed)
    meeting = directory / "meeting.yaml"
    meeting.write_text(MEETING.format(n=lines), encoding="utf-8")
    mayors = ["张三", "李四", "王五", "赵六"]
    deputies = ["钱七", "孙八", "周九", "吴十", "郑十一"]
    write_ins = ["冯一", "陈二", "褚三"]
    ballots = directory / "ballots.jsonl"
    with ballots.open("w", encoding="utf-8") as f:
        for _ in range(lines):
            roll = rng.random()
            if roll < 0.005:
                f.write('{"round": "r1", "invalid": true}\n')
                continue
            mayor = [rng.choice(write_ins if roll < 0.02 else mayors)] if roll > 0.01 else []
            deputy = rng.sample(deputies, 3 if roll > 0.99 else rng.choice((1, 2, 2)))
            f.write(json.dumps({"round": "r1", "sections": {"mayor": mayor, "deputy": deputy}},
                               ensure_ascii=False) + "\n")
    return meeting, ballots


def floor(ballots: Path) -> float:
    """Seconds to read the file and json.loads every line: no counting can be faster."""
    loads = json.loads
    start = time.perf_counter()
    with ballots.open("r", encoding="utf-8") as f:
        for line in f:
            loads(line)
    return time.perf_counter() - start


def in_process(meeting: Path, ballots: Path) -> tuple[float, int, str]:
    from click.testing import CliRunner

    from tally.cli import main

    runner = CliRunner()
    tracemalloc.start()
    start = time.perf_counter()
    result = runner.invoke(main, ["count", str(meeting), str(ballots), "--json"])
    elapsed = time.perf_counter() - start
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    if result.exit_code != 0:
        raise SystemExit(f"tally count failed: {result.output}")
    return elapsed, peak, result.output


def in_process_untraced(meeting: Path, ballots: Path) -> float:
    from click.testing import CliRunner

    from tally.cli import main

    start = time.perf_counter()
    result = CliRunner().invoke(main, ["count", str(meeting), str(ballots), "--json"])
    if result.exit_code != 0:
        raise SystemExit(f"tally count failed: {result.output}")
    return time.perf_counter() - start


def as_subprocess(meeting: Path, ballots: Path) -> tuple[float, int, str]:
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    start = time.perf_counter()
    script = Path(sys.executable).parent / "tally"  # the installed console script, as people run it
    command = [str(script)] if script.exists() else [sys.executable, "-c", "from tally.cli import main; main()"]
    done = subprocess.run([*command, "count", str(meeting), str(ballots), "--json"],
                          capture_output=True, cwd=ROOT, check=False)
    elapsed = time.perf_counter() - start
    peak_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    if done.returncode != 0:
        raise SystemExit(f"tally count failed: {done.stderr.decode()}")
    return elapsed, max(peak_kib, before) * 1024, done.stdout.decode("utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=20240501)
    parser.add_argument("--no-subprocess", action="store_true")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="count-bench-") as tmp:
        meeting, ballots = generate(Path(tmp), args.lines, args.seed)
        size = ballots.stat().st_size
        print(f"lines: {args.lines:,}  file: {size / 1e6:.1f} MB")
        floor_s = floor(ballots)
        floor_rate = args.lines / floor_s
        print(f"floor (read + json.loads): {floor_rate:,.0f} lines/s")
        elapsed = in_process_untraced(meeting, ballots)
        rate = args.lines / elapsed
        print(f"tally count in-process:    {rate:,.0f} lines/s  ratio to floor {rate / floor_rate:.2f}")
        traced_s, peak, output = in_process(meeting, ballots)
        print(f"  peak Python memory (tracemalloc, traced run {args.lines / traced_s:,.0f} lines/s): "
              f"{peak / 1e6:.2f} MB")
        document = json.loads(output)
        returned = document["rounds"][0]["returned"]
        if returned != args.lines:
            raise SystemExit(f"counted {returned} ballots, expected {args.lines}")
        rates = [rate]
        if not args.no_subprocess:
            sub_s, rss, sub_output = as_subprocess(meeting, ballots)
            sub_rate = args.lines / sub_s
            rates.append(sub_rate)
            print(f"tally count subprocess:    {sub_rate:,.0f} lines/s  ratio to floor {sub_rate / floor_rate:.2f}"
                  f"  peak RSS {rss / 1e6:.1f} MB (includes interpreter start-up)")
            if json.loads(sub_output) != document:
                raise SystemExit("the subprocess and the in-process count disagree")
        best = rate
        ok = best >= TARGET_RATE and best / floor_rate >= TARGET_RATIO
        note = "" if args.lines >= 100_000 else " (start-up dominates below ~100,000 lines)"
        print(f"target ≥ {TARGET_RATE:,} lines/s and ≥ {TARGET_RATIO} of the floor: {'met' if ok else 'NOT met'}{note}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
