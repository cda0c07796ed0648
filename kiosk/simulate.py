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
from kiosk.forms import BallotForm, FormError, RoundForm, parse_form
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
class SimKiosk:
    """One simulated kiosk: its signer, its own outbox and its own sender."""

    index: int
    signer: KioskSigner
    outbox: Outbox
    sender: Sender
    thread: threading.Thread | None = None


@dataclass
class Tracker:
    """Cast and acknowledgement times per (kiosk, outbox id), and how each envelope ended."""

    started: dict[tuple[int, int], float] = field(default_factory=dict)
    acked: dict[tuple[int, int], float] = field(default_factory=dict)
    refused: dict[tuple[int, int], str] = field(default_factory=dict)
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

    def on_rejected(self, kiosk: int, item: Item, code: str) -> None:
        with self.cond:
            self.refused[(kiosk, item.id)] = code
            self.rejected[code] += 1
            self.resolved += 1
            self.cond.notify_all()

    def wait_resolved(self, keys: Sequence[tuple[int, int]], deadline: float) -> None:
        """Until each of these envelopes has a receipt or a refusal, or the deadline passes."""
        with self.cond:
            while any(k not in self.acked and k not in self.refused for k in keys):
                left = deadline - time.monotonic()
                if left <= 0:
                    return
                self.cond.wait(min(left, 1.0))


def percentile(sorted_values: Sequence[float], p: int) -> float | None:
    """Nearest-rank percentile."""
    if not sorted_values:
        return None
    return sorted_values[max(0, math.ceil(p * len(sorted_values) / 100) - 1)]


def plan_ballots(
    lines: Sequence[Mapping[str, Any]], cards: Sequence[str], forms: Mapping[str, RoundForm],
    meeting: str, n_kiosks: int,
) -> list[tuple[int, Identity, RoundForm, dict[str, Any]]]:
    """(kiosk index, the card's key for the line's round, round form, line) for every line,
    checked before anything is cast."""
    per_round: Counter[str] = Counter()
    card_secrets: dict[int, bytes] = {}
    work = []
    for j, line in enumerate(lines):
        rid = line["round"]
        form = forms.get(rid)
        if form is None:
            raise SimulationError(f"ballot line {j + 1}: round {rid} is not open on the tally")
        if "judge" in line or form.kind == "score":
            raise SimulationError(f"ballot line {j + 1}: a judge's score line: play it with simulate_judges")
        i = per_round[rid]
        per_round[rid] += 1
        if i >= len(cards):
            raise SimulationError(f"round {rid} has more ballot lines than there are cards ({len(cards)})")
        if i not in card_secrets:
            try:
                card_meeting, card_secrets[i] = parse_card(cards[i])
            except KeysError as exc:
                raise SimulationError(f"card line {i + 1} is not a ballot card") from exc
            if card_meeting != meeting:
                raise SimulationError(f"card line {i + 1} belongs to another meeting")
        work.append((j % n_kiosks, card_key(card_secrets[i], meeting, rid), form, dict(line)))
    return work


@contextmanager
def data_root(data_dir: Path | None) -> Iterator[Path]:
    if data_dir is not None:
        data_dir.mkdir(parents=True, exist_ok=True)
        yield data_dir
        return
    with tempfile.TemporaryDirectory(prefix="kiosk-sim-") as tmp:
        yield Path(tmp)


def parse_offers(offers: Sequence[str]) -> list[PairingOffer]:
    if not offers:
        raise SimulationError("no pairing offers")
    parsed = []
    for n, text in enumerate(offers, start=1):
        try:
            parsed.append(PairingOffer.parse(text))
        except KeysError as exc:
            raise SimulationError(f"offer line {n} is not a pairing offer") from exc
    return parsed


@dataclass
class Fleet:
    """The paired simulated kiosks, each with its sender thread running, and one tracker."""

    kiosks: list[SimKiosk]
    tracker: Tracker


@contextmanager
def fleet(offers: Sequence[PairingOffer], meeting: str, data_dir: Path | None) -> Iterator[Fleet]:
    """Pair one kiosk per offer (as `kiosk pair` does, identity in memory), start their senders;
    on exit stop them and close the outboxes."""
    tracker = Tracker()
    kiosks: list[SimKiosk] = []
    stop = threading.Event()
    with data_root(data_dir) as root:
        try:
            for i, offer in enumerate(offers):
                identity = Identity.generate()
                paired = register(offer, identity, f"sim-{i}", TallyClient(offer.url, session=new_session(2, offer.tls)))
                p = paired.pairing
                if p.meeting != meeting:
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
                    outbox, TallyClient(p.tally_url, session=new_session(2, p.tls_fingerprint)), p.tally_public_key, p.meeting,
                    on_sent=functools.partial(tracker.on_sent, i),
                    on_rejected=functools.partial(tracker.on_rejected, i),
                )
                kiosks.append(SimKiosk(i, KioskSigner(p.kiosk_id, identity, p.meeting), outbox, sender))
            for k in kiosks:
                k.thread = threading.Thread(target=k.sender.run, args=(stop, 0.05), daemon=True,
                                            name=f"sim-sender-{k.index}")
                k.thread.start()
            yield Fleet(kiosks, tracker)
        finally:
            stop.set()
            for k in kiosks:
                k.sender.wake.set()
            for k in kiosks:
                if k.thread is not None:
                    k.thread.join(15)
                k.outbox.close()


def cast_one(f: Fleet, k_index: int, card: Identity, rform: RoundForm, line: dict[str, Any]) -> tuple[int, int] | None:
    """Seal and store one line at one kiosk and wake its sender; the tracker key, or None (counted)."""
    kiosk = f.kiosks[k_index]
    t0 = time.monotonic()
    try:
        done = cast(kiosk.outbox, kiosk.signer, {rform.id: card}, [(rform, line)])
    except Exception as exc:  # noqa: BLE001 (counted by kind and reported in the summary, never dropped)
        with f.tracker.cond:
            f.tracker.cast_errors[type(exc).__name__] += 1
        return None
    key = (k_index, done.outbox_ids[0])
    with f.tracker.cond:
        f.tracker.started[key] = t0
    kiosk.sender.wake.set()
    return key


def ack_summary(tracker: Tracker, keys: Sequence[tuple[int, int]]) -> dict[str, Any]:
    """Accepted, refused by code, unacknowledged and ack latency over these envelopes."""
    with tracker.cond:
        latencies = sorted((tracker.acked[k] - tracker.started[k]) * 1000 for k in keys if k in tracker.acked)
        refused = Counter(tracker.refused[k] for k in keys if k in tracker.refused)
    p50, p99 = percentile(latencies, 50), percentile(latencies, 99)
    return {
        "cast": len(keys),
        "accepted": len(latencies),
        "rejected": dict(sorted(refused.items())),
        "unacknowledged": len(keys) - len(latencies) - sum(refused.values()),
        "ack_ms": {"p50": None if p50 is None else round(p50, 2), "p99": None if p99 is None else round(p99, 2)},
    }


def cast_ballots(f: Fleet, work: Sequence[tuple[int, Identity, RoundForm, dict[str, Any]]],
                 *, concurrency: int | None, timeout: float) -> dict[str, Any]:
    """Cast prepared ballot lines on `concurrency` threads and wait for every answer."""
    jobs: queue.SimpleQueue[tuple[int, Identity, RoundForm, dict[str, Any]] | None] = queue.SimpleQueue()
    for job in work:
        jobs.put(job)
    workers = max(1, concurrency or len(f.kiosks))
    for _ in range(workers):
        jobs.put(None)
    keys: list[tuple[int, int]] = []
    errors_before = Counter(f.tracker.cast_errors)
    began = time.monotonic()

    def caster() -> None:
        while (job := jobs.get()) is not None:
            key = cast_one(f, *job)
            if key is not None:
                with f.tracker.cond:
                    keys.append(key)

    threads = [threading.Thread(target=caster, daemon=True, name=f"sim-caster-{n}") for n in range(workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    f.tracker.wait_resolved(keys, time.monotonic() + timeout)
    elapsed = time.monotonic() - began
    out = ack_summary(f.tracker, keys)
    out["cast_errors"] = dict(sorted((f.tracker.cast_errors - errors_before).items()))
    out["seconds"] = round(elapsed, 3)
    out["accepted_per_second"] = round(out["accepted"] / elapsed, 1) if elapsed > 0 else None
    return out


def read_form(offer: PairingOffer) -> BallotForm:
    try:
        return parse_form(TallyClient(offer.url, pin=offer.tls).ballot())
    except (TallyUnreachable, TallyError, FormError) as exc:
        raise SimulationError(f"cannot read the open rounds from the tally: {exc}") from exc


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
    Judges' score lines are played by `kiosk.simulate_judges.simulate_judges`.

    Summary: `{"kiosks", "ballots", "cast", "accepted", "rejected": {code: n}, "cast_errors":
    {...}, "unacknowledged", "ack_ms": {"p50", "p99"}, "seconds", "accepted_per_second"}`.
    """
    parsed = parse_offers(offers)
    # Everything that can be checked is checked before an offer's one-time code is spent.
    form = read_form(parsed[0])
    work = plan_ballots(ballots, cards, {r.id: r for r in form.rounds}, form.meeting_id, len(parsed))
    with fleet(parsed, form.meeting_id, data_dir) as f:
        out = cast_ballots(f, work, concurrency=concurrency, timeout=timeout)
        kiosks = len(f.kiosks)
    return {"kiosks": kiosks, "ballots": len(ballots), **out}
