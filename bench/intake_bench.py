"""Intake benchmark: K simulated kiosks casting at once into a real tally process over HTTP.

Prints accepted ballots/s, ack latency p50/p99 (cast → verified receipt at the kiosk), and the
crypto open floor measured in the same run: how many envelopes one core can parse, verify (two
Ed25519 signatures) and open (HPKE) per second, with the ratio intake/floor. The kiosks run in
this process (threads), the tally in another (gunicorn, one gevent worker), on the same
2-core machine, so the two compete for CPU: the ratio says how close the whole path comes to
the cryptography alone.

    python bench/intake_bench.py [--ballots 3000] [--kiosks 30] [--database-url postgresql://…]
"""
from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._harness import TallyProcess, print_json  # noqa: E402
from keys.cards import card_key, new_card  # noqa: E402
from keys.envelope import open_envelope, parse_envelope, seal_envelope, verify_envelope  # noqa: E402
from keys.identity import Identity  # noqa: E402
from keys.sealing import RoundKey  # noqa: E402

CANDIDATES = ["张三", "李四", "王五", "赵六"]


def meeting(n: int) -> str:
    return f"""
meeting: {{title: 性能测试}}
rounds:
  - id: r1
    kind: recommend
    title: 推荐
    expected: {n}
    posts:
      - {{id: p, title: 职位, seats: 1, candidates: [张三, 李四, 王五, 赵六], write_in: true}}
"""


def crypto_floor(samples: int = 2000) -> float:
    """Envelopes per second one core can parse + verify + open: the floor of intake and counting."""
    kiosk, rk = Identity.generate(), RoundKey.generate()
    meeting_id = "0123456789abcdef"
    card = new_card(meeting_id)
    bodies = [seal_envelope(meeting=meeting_id, round_id="r1", kiosk_id="k1", kiosk_identity=kiosk,
                            card_key=card_key(card.secret, meeting_id, "r1"), round_public=rk.public_bytes(),
                            ballot={"round": "r1", "sections": {"p": [random.choice(CANDIDATES)]}}).body
              for _ in range(samples)]
    pub = kiosk.public_bytes()
    runs = []
    for _ in range(3):
        t0 = time.perf_counter()
        for b in bodies:
            h = parse_envelope(b)
            verify_envelope(h, pub)
            open_envelope(h, rk)
        runs.append(samples / (time.perf_counter() - t0))
    return statistics.median(runs)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--ballots", type=int, default=3000)
    ap.add_argument("--kiosks", type=int, default=30)
    ap.add_argument("--database-url", default=None)
    args = ap.parse_args()
    from kiosk.simulate import simulate

    with tempfile.TemporaryDirectory(prefix="intake-bench-") as tmp:
        env = {"TALLY_DATABASE_URL": args.database_url} if args.database_url else {}
        tally = TallyProcess(Path(tmp) / "data", meeting(args.ballots), env=env)
        with tally:
            tally.roster(args.ballots)
            tally.round("r1", "open")
            cards = tally.cards(args.ballots)
            offers = tally.offers(args.kiosks)
            ballots = [{"round": "r1", "sections": {"p": [random.choice(CANDIDATES)]}} for _ in range(args.ballots)]
            summary = simulate(offers, cards, ballots, concurrency=args.kiosks, data_dir=Path(tmp) / "kiosks")
            state = tally.call("GET", "/api/v1/admin/state")
        floor = crypto_floor()
    accepted_rate = summary["accepted_per_second"]
    figures = {
        "ballots": args.ballots, "kiosks": args.kiosks,
        "database": "postgresql" if args.database_url else "sqlite",
        "accepted": summary["accepted"], "tally_cast": next(r["cast"] for r in state["rounds"] if r["id"] == "r1"),
        "rejected": summary["rejected"], "unacknowledged": summary["unacknowledged"],
        "accepted_per_second": round(accepted_rate, 1),
        "ack_ms_p50": summary["ack_ms"]["p50"], "ack_ms_p99": summary["ack_ms"]["p99"],
        "floor_open_per_second_one_core": round(floor, 1),
        "ratio_intake_to_floor": round(accepted_rate / floor, 3),
    }
    print_json(figures)


if __name__ == "__main__":
    main()
