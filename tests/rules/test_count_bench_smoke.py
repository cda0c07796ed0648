"""The benchmark runs end to end on a small file (its figures are printed, never asserted)."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_bench_smoke_run():
    done = subprocess.run([sys.executable, str(ROOT / "bench" / "count_bench.py"), "--lines", "2000"],
                          capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert done.returncode == 0, done.stderr
    out = done.stdout
    for needle in ("lines: 2,000", "floor (read + json.loads)", "tally count in-process", "peak Python memory",
                   "tally count subprocess", "ratio to floor", "peak RSS", "target"):
        assert needle in out, out
