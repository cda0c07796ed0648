"""Run every benchmark in `bench/` with its defaults and print their figures one after another.

    python bench/run_all.py            # what `make bench` runs
    python bench/run_all.py --quick    # small sizes, to check they still run
"""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
BENCHES = [
    ("count_bench.py", ["--lines", "20000"]),
    ("intake_bench.py", ["--ballots", "300", "--kiosks", "5"]),
    ("reveal_bench.py", ["--contestants", "2", "--displays", "3"]),
]


def main() -> int:
    quick = "--quick" in sys.argv
    failed = 0
    for script, quick_args in BENCHES:
        print(f"== {script}", flush=True)
        rc = subprocess.call([sys.executable, str(HERE / script), *(quick_args if quick else [])])
        failed += rc != 0
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
