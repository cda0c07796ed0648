"""Reveal latency benchmark (亮分): the last judge's submission → the projector's event.

A real tally process (gunicorn, one gevent worker), a 30-judge panel (trim 5), 10 projector
displays connected over Socket.IO (websocket), and contestants scored one after another. For
each contestant, 29 seats score first; then the clock starts just before the 30th seat's POST
and stops when each display receives the state in which that contestant is revealed. Prints
p50/p99 over every (contestant, display), with the floor measured in the same run: the HTTP
round trip of that same last POST (the acknowledgement), and the ratio between them.
Target: p99 ≤ 100 ms.

    python bench/reveal_bench.py [--contestants 10] [--displays 10] [--judges 30]
"""
from __future__ import annotations

import argparse
import io
import random
import statistics
import sys
import tempfile
import threading
import time
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from keys.canonical import b64d, b64e
from keys.cards import Card, parse_card
from keys.envelope import seal_envelope
from keys.identity import Identity
from keys.pairing import PairingOffer
from tests.harness import TallyProcess, print_json


def meeting(judges: int, trim: int, contestants: list[str]) -> str:
    return f"""
meeting: {{title: 演讲答辩}}
rounds:
  - id: s1
    kind: score
    title: 竞争性选拔演讲答辩
    judges: {judges}
    trim: {trim}
    min: 0
    max: 100
    step: "0.1"
    decimals: 2
    contestants: [{", ".join(contestants)}]
"""


def percentile(values: list[float], p: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, max(0, round(p / 100 * len(s) + 0.5) - 1))]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--contestants", type=int, default=10)
    ap.add_argument("--displays", type=int, default=10)
    ap.add_argument("--judges", type=int, default=30)
    ap.add_argument("--trim", type=int, default=5)
    args = ap.parse_args()
    import requests
    import socketio

    names = [f"选手{i:02d}" for i in range(1, args.contestants + 1)]
    with tempfile.TemporaryDirectory(prefix="reveal-bench-") as tmp:
        tally = TallyProcess(Path(tmp) / "data", meeting(args.judges, args.trim, names), cards=0)
        with tally:
            pool = "编号,姓名,类别\n" + "".join(f"P{i:03d},评委{i},代表\n" for i in range(1, args.judges + 11))
            tally.call("POST", "/api/v1/admin/judges/pool", files={"file": ("pool.csv", io.BytesIO(pool.encode()))})
            tally.round("s1", "draw")
            cards = {c["seat"]: Card(*parse_card(c["qr_text"])) for c in tally.round("s1", "judge-cards")["cards"]}
            offer = PairingOffer.parse(tally.offers(1)[0])
            kiosk = Identity.generate()
            paired = requests.post(tally.url + "/api/v1/kiosks/pair",
                                   json={"code": offer.code, "public_key": b64e(kiosk.public_bytes()), "name": "bench"}).json()
            tally.round("s1", "open")
            tally.round("s1", "order", {"order": names})
            form = requests.get(tally.url + "/api/v1/judging").json()["rounds"][0]
            projector = tally.call("GET", "/api/v1/admin/links")["projector"].split("t=")[1]

            waiting: dict[str, float] = {}
            latencies: list[float] = []
            lock = threading.Lock()
            got = threading.Condition(lock)
            clients = []
            for _ in range(args.displays):
                sio = socketio.Client(reconnection=False)

                def on_state(state, _sio=sio):  # type: ignore[no-untyped-def]
                    now = time.perf_counter()
                    j = state["rounds"][0].get("judging") or {}
                    with got:
                        t0 = waiting.get(j.get("current") or "")
                        if t0 is not None and j.get("phase") == "revealed" and _sio not in seen:
                            seen.add(_sio)
                            latencies.append(now - t0)
                            got.notify_all()

                sio.on("state", on_state, namespace="/live")
                sio.connect(tally.url, namespaces=["/live"], transports=["websocket"], auth={"t": projector})
                clients.append(sio)
            session = requests.Session()
            acks: list[float] = []
            rng = random.Random(7)
            for name in names:
                tally.round("s1", "next")
                bodies = []
                for seat in range(1, args.judges + 1):
                    value = Decimal(rng.randint(800, 960)) / 10
                    bodies.append(seal_envelope(meeting=paired["meeting"], round_id="s1", kiosk_id=paired["kiosk_id"],
                                                kiosk_identity=kiosk, card_key=cards[seat].identity("s1"),
                                                round_public=b64d(form["public_key"]),
                                                ballot={"round": "s1", "judge": f"J{seat:02d}", "contestant": name,
                                                        "score": str(value)}).body)
                for b in bodies[:-1]:
                    assert session.post(tally.url + "/api/v1/envelopes", json=b).status_code == 201
                time.sleep(0.3)  # let the turnout pushes of the first 29 settle
                seen: set = set()
                with got:
                    waiting[name] = time.perf_counter()
                t0 = time.perf_counter()
                r = session.post(tally.url + "/api/v1/envelopes", json=bodies[-1])
                acks.append(time.perf_counter() - t0)
                assert r.status_code == 201, r.text
                with got:
                    got.wait_for(lambda seen=seen: len(seen) == args.displays, timeout=10)
                    if len(seen) < args.displays:
                        raise SystemExit(f"only {len(seen)} of {args.displays} displays saw {name} revealed")
            for c in clients:
                c.disconnect()
            ranking = tally.call("GET", "/api/v1/admin/rounds/s1/judging")["ranking"]
    ms = [x * 1000 for x in latencies]
    ack_ms = [x * 1000 for x in acks]
    print_json({
        "judges": args.judges, "trim": args.trim, "displays": args.displays, "contestants": args.contestants,
        "samples": len(ms), "reveal_ms_p50": round(statistics.median(ms), 1), "reveal_ms_p99": round(percentile(ms, 99), 1),
        "reveal_ms_max": round(max(ms), 1), "floor_ack_ms_p50": round(statistics.median(ack_ms), 1),
        "ratio_reveal_p50_to_ack_p50": round(statistics.median(ms) / statistics.median(ack_ms), 2),
        "target_p99_ms": 100, "meets_target": percentile(ms, 99) <= 100, "ranked": len(ranking),
    })


if __name__ == "__main__":
    main()
