"""The kiosk simulator (模拟终端): many paired kiosks casting a ballot file against a real tally.

For tests, end-to-end runs and benchmarks. Each offer line pairs one simulated kiosk (a fresh
identity kept in memory, registered over HTTP exactly as `kiosk pair` does). Ballot lines are
the ballot file of CONTRACT.md; the i-th line of each round uses the i-th card; line j goes to
kiosk j mod N. Each line is sealed and signed by `kiosk.casting.cast` into that kiosk's own
durable outbox and sent by that kiosk's own `kiosk.sender.Sender`: the code paths of a real
kiosk, minus the screens. Lines are sent as given, without the screens' validation, so a test
can feed over-votes and see the count mark them invalid.

Ack latency runs from just before sealing to the moment the tally's receipt has verified.
"""
from __future__ import annotations

import functools
import json
import math
import queue
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from keys.cards import card_key, parse_card
from keys.errors import KeysError
from keys.identity import Identity
from keys.pairing import PairingOffer
from kiosk.casting import KioskSigner, cast
from kiosk.client import TallyClient, TallyError, TallyUnreachable, new_session
from kiosk.config import Paths, save_pairing
from kiosk.forms import FormError, RoundForm, parse_form
from kiosk.outbox import Item, Outbox
from kiosk.pairing import register
from kiosk.sender import Sender


class SimulationError(Exception):
    """The inputs cannot be simulated (bad file line, too few cards, round not open, ...)."""


def read_lines(path: Path) -> list[str]:
    """Non-empty, stripped lines of an offers or cards file."""
    return [ln.strip() for ln in Path(path).read_text(encoding="utf-8").splitlines() if ln.strip()]


def _no_float(text: str) -> Any:
    raise ValueError(f"{text} is a float: scores travel as decimal strings")


def read_ballots(path: Path) -> list[dict[str, Any]]:
    """A CONTRACT.md ballot file (JSON Lines); a bad line names its number."""
    out: list[dict[str, Any]] = []
    for n, text in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), start=1):
        if not text.strip():
            continue
        try:
            doc = json.loads(text, parse_float=_no_float)
        except ValueError as exc:
            raise SimulationError(f"{path}:{n}: not a JSON object without floats ({exc})") from exc
        if not isinstance(doc, dict) or not isinstance(doc.get("round"), str):
            raise SimulationError(f"{path}:{n}: a ballot line is an object with a round")
        out.append(doc)
    return out


@dataclass
class _Kiosk:
    index: int
    signer: KioskSigner
    outbox: Outbox
    sender: Sender
    thread: threading.Thread | None = None


@dataclass
class _Tracker:
    """Cast and acknowledgement times per (kiosk, outbox id), and how each envelope ended."""

    started: dict[tuple[int, int], float] = field(default_factory=dict)
    acked: dict[tuple[int, int], float] = field(default_factory=dict)
    rejected: Counter[str] = field(default_factory=Counter)
    cast_errors: Counter[str] = field(default_factory=Counter)
    resolved: int = 0
    cond: threading.Condition = field(default_factory=threading.Condition)

    def on_sent(self, kiosk: int, item: Item, _receipt: dict[str, Any]) -> None:
        now = time.monotonic()
        with self.cond:
            self.acked[(kiosk, item.id)] = now
            self.resolved += 1
            self.cond.notify_all()

    def on_rejected(self, kiosk: int, _item: Item, code: str) -> None:
        with self.cond:
            self.rejected[code] += 1
            self.resolved += 1
            self.cond.notify_all()


def _percentile(sorted_values: Sequence[float], p: int) -> float | None:
    """Nearest-rank percentile."""
    if not sorted_values:
        return None
    return sorted_values[max(0, math.ceil(p * len(sorted_values) / 100) - 1)]


def _work(
    lines: Sequence[Mapping[str, Any]], cards: Sequence[str], forms: Mapping[str, RoundForm],
    meeting: str, n_kiosks: int,
) -> list[tuple[int, Identity, RoundForm, dict[str, Any]]]:
    """(kiosk index, card identity, round form, line) for every line, checked before anything is cast."""
    per_round: Counter[str] = Counter()
    keys: dict[int, Identity] = {}
    work = []
    for j, line in enumerate(lines):
        rid = line["round"]
        form = forms.get(rid)
        if form is None:
            raise SimulationError(f"ballot line {j + 1}: round {rid} is not open on the tally")
        if form.kind == "score":
            # Judges' score lines ({"round","judge","contestant","score"}) go here once the tally
            # defines how a judge's seat is credentialled; until then they cannot be simulated.
            raise SimulationError(f"ballot line {j + 1}: judge score lines are not simulated yet")
        i = per_round[rid]
        per_round[rid] += 1
        if i >= len(cards):
            raise SimulationError(f"round {rid} has more ballot lines than there are cards ({len(cards)})")
        if i not in keys:
            try:
                card_meeting, secret = parse_card(cards[i])
            except KeysError as exc:
                raise SimulationError(f"card line {i + 1} is not a ballot card") from exc
            if card_meeting != meeting:
                raise SimulationError(f"card line {i + 1} belongs to another meeting")
            keys[i] = card_key(secret, meeting)
        work.append((j % n_kiosks, keys[i], form, dict(line)))
    return work


@contextmanager
def _data_root(data_dir: Path | None) -> Iterator[Path]:
    if data_dir is not None:
        data_dir.mkdir(parents=True, exist_ok=True)
        yield data_dir
        return
    with tempfile.TemporaryDirectory(prefix="kiosk-sim-") as tmp:
        yield Path(tmp)


def simulate(
    offers: Sequence[str],
    cards: Sequence[str],
    ballots: Sequence[Mapping[str, Any]],
    *,
    concurrency: int | None = None,
    data_dir: Path | None = None,
    timeout: float = 300.0,
) -> dict[str, Any]:
    """Pair one kiosk per offer, cast every ballot line, wait for every answer; return a summary.

    `concurrency` is the number of threads sealing and storing ballots (default: one per
    kiosk); each kiosk also runs its own sender thread. `data_dir` keeps each kiosk's outbox in
    `data_dir/kiosk-<i>/` (default: a temporary directory, removed afterwards). `timeout` bounds
    the wait for answers; what is still pending then is reported as `unacknowledged`.

    Summary: `{"kiosks", "ballots", "cast", "accepted", "rejected": {code: n}, "cast_errors":
    {...}, "unacknowledged", "ack_ms": {"p50", "p99"}, "seconds", "accepted_per_second"}`.
    """
    if not offers:
        raise SimulationError("no pairing offers")
    parsed = []
    for n, text in enumerate(offers, start=1):
        try:
            parsed.append(PairingOffer.parse(text))
        except KeysError as exc:
            raise SimulationError(f"offer line {n} is not a pairing offer") from exc
    tracker = _Tracker()
    kiosks: list[_Kiosk] = []
    stop = threading.Event()
    # Everything that can be checked is checked before an offer's one-time code is spent.
    try:
        form = parse_form(TallyClient(parsed[0].url).ballot())
    except (TallyUnreachable, TallyError, FormError) as exc:
        raise SimulationError(f"cannot read the open rounds from the tally: {exc}") from exc
    work = _work(ballots, cards, {r.id: r for r in form.rounds}, form.meeting_id, len(parsed))
    with _data_root(data_dir) as root:
        try:
            for i, offer in enumerate(parsed):
                identity = Identity.generate()
                paired = register(offer, identity, f"sim-{i}", TallyClient(offer.url, session=new_session(2)))
                p = paired.pairing
                if p.meeting != form.meeting_id:
                    raise SimulationError(f"offer line {i + 1} is for another meeting")
                if paired.status != "active":
                    raise SimulationError(f"offer line {i + 1} paired a kiosk that is {paired.status}: "
                                          "make scripted offers with `tally kiosks offer --preconfirm`")
                paths = Paths(root / f"kiosk-{i}")
                if paths.outbox.exists():
                    raise SimulationError(f"{paths.data} already holds an outbox; use an empty data directory")
                paths.data.mkdir(parents=True, exist_ok=True)
                save_pairing(paths, p)
                outbox = Outbox(paths.outbox)
                sender = Sender(
                    outbox, TallyClient(p.tally_url, session=new_session(2)), p.tally_public_key, p.meeting,
                    on_sent=functools.partial(tracker.on_sent, i),
                    on_rejected=functools.partial(tracker.on_rejected, i),
                )
                kiosks.append(_Kiosk(i, KioskSigner(p.kiosk_id, identity, p.meeting), outbox, sender))

            for k in kiosks:
                k.thread = threading.Thread(target=k.sender.run, args=(stop, 0.05), daemon=True,
                                            name=f"sim-sender-{k.index}")
                k.thread.start()
            jobs: queue.SimpleQueue[tuple[int, Identity, RoundForm, dict[str, Any]] | None] = queue.SimpleQueue()
            for job in work:
                jobs.put(job)
            workers = max(1, concurrency or len(kiosks))
            for _ in range(workers):
                jobs.put(None)
            began = time.monotonic()

            def caster() -> None:
                while (job := jobs.get()) is not None:
                    k_index, card, rform, line = job
                    kiosk = kiosks[k_index]
                    t0 = time.monotonic()
                    try:
                        done = cast(kiosk.outbox, kiosk.signer, card, [(rform, line)])
                    except Exception as exc:  # counted and reported, never silently dropped
                        with tracker.cond:
                            tracker.cast_errors[type(exc).__name__] += 1
                        continue
                    with tracker.cond:
                        for oid in done.outbox_ids:
                            tracker.started[(k_index, oid)] = t0
                    kiosk.sender.wake.set()

            threads = [threading.Thread(target=caster, daemon=True, name=f"sim-caster-{n}") for n in range(workers)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            expected = len(tracker.started)
            deadline = time.monotonic() + timeout
            with tracker.cond:
                while tracker.resolved < expected:
                    left = deadline - time.monotonic()
                    if left <= 0:
                        break
                    tracker.cond.wait(min(left, 1.0))
            elapsed = time.monotonic() - began
        finally:
            stop.set()
            for k in kiosks:
                k.sender.wake.set()
            for k in kiosks:
                if k.thread is not None:
                    k.thread.join(15)
                k.outbox.close()

    latencies = sorted(
        (tracker.acked[key] - t0) * 1000 for key, t0 in tracker.started.items() if key in tracker.acked
    )
    p50, p99 = _percentile(latencies, 50), _percentile(latencies, 99)
    accepted = len(latencies)
    return {
        "kiosks": len(kiosks),
        "ballots": len(ballots),
        "cast": len(tracker.started),
        "accepted": accepted,
        "rejected": dict(sorted(tracker.rejected.items())),
        "cast_errors": dict(sorted(tracker.cast_errors.items())),
        "unacknowledged": len(tracker.started) - accepted - sum(tracker.rejected.values()),
        "ack_ms": {"p50": None if p50 is None else round(p50, 2), "p99": None if p99 is None else round(p99, 2)},
        "seconds": round(elapsed, 3),
        "accepted_per_second": round(accepted / elapsed, 1) if elapsed > 0 else None,
    }
