"""The benchmarks still run (at small sizes) and print their figures; no timing is asserted."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.slow
@pytest.mark.parametrize(
    "script, args, keys",
    [
        (
            "intake_bench.py",
            ["--ballots", "60", "--kiosks", "3"],
            {"accepted_per_second", "ratio_intake_to_floor", "ack_ms_p99"},
        ),
        (
            "reveal_bench.py",
            ["--contestants", "1", "--displays", "2", "--judges", "7", "--trim", "1"],
            {"reveal_ms_p99", "floor_ack_ms_p50"},
        ),
    ],
)
def test_benchmark_runs_and_prints_its_figures(script, args, keys):
    out = subprocess.run(
        [sys.executable, str(ROOT / "bench" / script), *args], capture_output=True, text=True, timeout=300
    )
    assert out.returncode == 0, out.stderr[-2000:]
    figures = json.loads(out.stdout[out.stdout.index("{") :])
    assert keys <= set(figures)
    if script == "intake_bench.py":
        assert figures["accepted"] == 60 and figures["tally_cast"] == 60 and figures["unacknowledged"] == 0
    else:
        assert figures["samples"] == 2 and figures["ranked"] == 1
