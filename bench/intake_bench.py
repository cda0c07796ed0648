"""Intake benchmark: K simulated kiosks casting at once into a real tally process over HTTP.

Two phases against one `tally serve` (gunicorn, one gevent worker):
1. **Burst** (round r1): `kiosk simulate` casts the whole ballot file through K kiosks at once,
   through their durable outboxes. Prints accepted ballots/s and, per ballot, the time from
   cast to verified receipt (which includes the wait in the outbox queue of a burst).
2. **Paced** (round r2): K senders post pre-sealed envelopes at a steady rate below capacity
   (`--rate`, per second) and time each POST → signed receipt: the acknowledgement latency a
   voter's kiosk sees in a normal hall.
With the crypto floor measured in the same run: envelopes one core can parse, verify (two
Ed25519 signatures) and open (HPKE) per second, and the ratio intake/floor. Kiosks run in this
process, the tally in another, on the same 2-core machine, so they compete for CPU.

    python bench/intake_bench.py [--ballots 3000] [--kiosks 30] [--rate 150] [--database-url postgresql://…]
"""
from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from keys.canonical import b64d, b64e
from keys.cards import card_key, new_card, parse_card
from keys.envelope import open_envelope, parse_envelope, seal_envelope, verify_envelope
from keys.identity import Identity
from keys.pairing import PairingOffer
from keys.sealing import RoundKey
from tests.harness import TallyProcess, print_json

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
  - id: r2
    kind: recommend
    title: 推荐（第二轮）
    expected: {n}
    posts:
      - {{id: p, title: 职位, seats: 1, candidates: [张三, 李四, 王五, 赵六], write_in: true}}
"""


def paced(tally: TallyProcess, cards: list[str], senders: int, rate: float) -> dict[str, float]:
    """Post pre-sealed r2 envelopes at `rate` per second from `senders` threads; time each POST."""
    import requests

    offer = PairingOffer.parse(tally.offers(1)[0])
    kiosk = Identity.generate()
    paired = requests.post(tally.url + "/api/v1/kiosks/pair",
                           json={"code": offer.code, "public_key": b64e(kiosk.public_bytes()), "name": "paced"}).json()
    form = next(r for r in requests.get(tally.url + "/api/v1/ballot").json()["rounds"] if r["id"] == "r2")
    bodies = []
    for text in cards:
        meeting_id, secret = parse_card(text)
        bodies.append(seal_envelope(meeting=meeting_id, round_id="r2", kiosk_id=paired["kiosk_id"], kiosk_identity=kiosk,
                                    card_key=card_key(secret, meeting_id, "r2"), round_public=b64d(form["public_key"]),
                                    ballot={"round": "r2", "sections": {"p": [random.choice(CANDIDATES)]}}).body)
    latencies: list[float] = []
    lock = threading.Lock()
    start = time.perf_counter() + 0.2

    def sender(k: int) -> None:
        session = requests.Session()
        for i in range(k, len(bodies), senders):
            due = start + i / rate
            wait = due - time.perf_counter()
            if wait > 0:
                time.sleep(wait)
            t0 = time.perf_counter()
            r = session.post(tally.url + "/api/v1/envelopes", json=bodies[i])
            dt = time.perf_counter() - t0
            if r.status_code != 201:
                raise SystemExit(f"paced phase: {r.status_code} {r.text[:200]}")
            with lock:
                latencies.append(dt * 1000)

    threads = [threading.Thread(target=sender, args=(k,)) for k in range(senders)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - start
    latencies.sort()
    return {"accepted": len(latencies), "per_second": len(latencies) / elapsed,
            "p50": latencies[len(latencies) // 2], "p99": latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))]}


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
    ap.add_argument("--rate", type=float, default=150.0, help="paced phase: envelopes per second")
    ap.add_argument("--database-url", default=None)
    args = ap.parse_args()
    from kiosk.simulate import simulate

    with tempfile.TemporaryDirectory(prefix="intake-bench-") as tmp:
        env = {"TALLY_DATABASE_URL": args.database_url} if args.database_url else {}
        tally = TallyProcess(Path(tmp) / "data", meeting(args.ballots), env=env, cards=args.ballots)
        with tally:
            tally.roster(args.ballots)
            tally.round("r1", "open")
            cards = tally.cards(args.ballots)
            offers = tally.offers(args.kiosks)
            ballots = [{"round": "r1", "sections": {"p": [random.choice(CANDIDATES)]}} for _ in range(args.ballots)]
            summary = simulate(offers, cards, ballots, concurrency=args.kiosks, data_dir=Path(tmp) / "kiosks")
            tally.round("r2", "open")
            steady = paced(tally, cards, min(args.kiosks, 16), args.rate)
            state = tally.call("GET", "/api/v1/admin/state")
        floor = crypto_floor()
    accepted_rate = summary["accepted_per_second"]
    figures = {
        "ballots": args.ballots, "kiosks": args.kiosks,
        "database": "postgresql" if args.database_url else "sqlite",
        "accepted": summary["accepted"], "tally_cast": next(r["cast"] for r in state["rounds"] if r["id"] == "r1"),
        "rejected": summary["rejected"], "unacknowledged": summary["unacknowledged"],
        "accepted_per_second": round(accepted_rate, 1),
        "burst_cast_to_receipt_ms_p50": summary["ack_ms"]["p50"], "burst_cast_to_receipt_ms_p99": summary["ack_ms"]["p99"],
        "paced_rate_per_second": round(steady["per_second"], 1), "paced_accepted": steady["accepted"],
        "ack_ms_p50": round(steady["p50"], 1), "ack_ms_p99": round(steady["p99"], 1),
        "floor_open_per_second_one_core": round(floor, 1),
        "ratio_intake_to_floor": round(accepted_rate / floor, 3),
    }
    print_json(figures)


if __name__ == "__main__":
    main()
