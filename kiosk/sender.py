"""The sender (发送): drains the outbox to the tally, oldest first, until each envelope has an answer.

An envelope leaves `pending` only two ways: a receipt that verifies under the tally key from
pairing and names this envelope (`sent`), or a 4xx carrying an intake error code (`rejected`).
Everything else (connection refused, timeout, 5xx, a 4xx without a code, 408/425/429, a receipt
that does not verify, `kiosk_pending`) is retried with exponential backoff and jitter, capped near 10 s, for as long as
it takes, across restarts of either side: the tally answers a resent envelope with the same
receipt, so resending is always safe.

Logs carry counts and codes only: no envelope hash, card or ballot, so the log cannot link a
moment to a ballot. Never reads a ballot (it could not: envelopes are sealed).
"""
from __future__ import annotations

import logging
import random
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from keys.envelope import verify_receipt
from keys.errors import BadReceipt
from kiosk.client import TallyClient, TallyError, TallyUnreachable
from kiosk.outbox import Item, Outbox

log = logging.getLogger("kiosk.sender")

# A 4xx that carries an error code is intake's final word on that envelope (card_used,
# round_not_open, ...), except these, which change when the chair or the load does. Treating
# unknown codes as final keeps one odd envelope from blocking the queue; it is kept, not lost.
TRANSIENT_CODES = frozenset({"kiosk_pending"})
TRANSIENT_STATUSES = frozenset({408, 425, 429})

Outcome = Literal["sent", "rejected", "retry"]


@dataclass(frozen=True)
class Backoff:
    """Exponential backoff with equal jitter: after n failures wait in [d/2, d], d = min(cap, base·2ⁿ)."""

    base: float = 0.25
    cap: float = 10.0

    def ceiling(self, failures: int) -> float:
        return min(self.cap, self.base * float(2 ** min(failures, 32)))

    def delay(self, failures: int, rng: random.Random) -> float:
        top = self.ceiling(failures)
        return top / 2 + rng.uniform(0, top / 2)


class Sender:
    """Sends one outbox's pending envelopes to one tally."""

    def __init__(
        self,
        outbox: Outbox,
        client: TallyClient,
        tally_public: bytes,
        meeting: str,
        *,
        backoff: Backoff = Backoff(),
        rng: random.Random | None = None,
        batch: int = 64,
        on_sent: Callable[[Item, dict[str, Any]], None] | None = None,
        on_rejected: Callable[[Item, str], None] | None = None,
    ) -> None:
        self.outbox = outbox
        self.client = client
        self.tally_public = tally_public
        self.meeting = meeting
        self.backoff = backoff
        self.rng = rng or random.Random()
        self.batch = batch
        self.on_sent = on_sent
        self.on_rejected = on_rejected
        self.failures = 0
        self.wake = threading.Event()

    def send(self, item: Item) -> Outcome:
        """One attempt for one envelope; records the outcome in the outbox."""
        try:
            answer = self.client.post_envelope(item.body)
        except TallyUnreachable as exc:
            log.info("tally unreachable (%s); will resend", exc)
            self.outbox.note_attempt(item.id)
            return "retry"
        except TallyError as exc:
            if exc.code and exc.status not in TRANSIENT_STATUSES and exc.code not in TRANSIENT_CODES:
                self.outbox.mark_rejected(item.id, exc.code)
                log.warning("tally rejected an envelope: %s", exc.code)
                if self.on_rejected:
                    self.on_rejected(item, exc.code)
                return "rejected"
            log.info("tally answered %s %s; will resend", exc.status, exc.code or "-")
            self.outbox.note_attempt(item.id)
            return "retry"
        try:
            fields = verify_receipt(answer.body, self.tally_public, item.envelope_hash,
                                    meeting=self.meeting, round_id=item.round_id)
        except BadReceipt:
            # Not an acknowledgement: whoever answered did not prove the tally stored it.
            log.error("a receipt did not verify under the paired tally key; will resend")
            self.outbox.note_attempt(item.id)
            return "retry"
        self.outbox.mark_sent(item.id, answer.body)
        if self.on_sent:
            self.on_sent(item, fields)
        return "sent"

    def step(self) -> float | None:
        """Send pending envelopes oldest first until none is left (None) or one must wait
        (the delay before trying again, in seconds)."""
        while True:
            items = self.outbox.pending(self.batch)
            if not items:
                return None
            for item in items:
                if self.send(item) == "retry":
                    delay = self.backoff.delay(self.failures, self.rng)
                    self.failures += 1
                    return delay
                self.failures = 0

    def run(self, stop: threading.Event, idle: float = 1.0) -> None:
        """Loop until `stop` is set; `wake` (set after a cast) cuts an idle wait short."""
        while not stop.is_set():
            try:
                delay = self.step()
            except Exception:  # the sender must outlive any one bad moment (disk full, ...)
                log.exception("sender step failed; will try again")
                delay = self.backoff.cap
            if delay is None:
                self.wake.wait(idle)
                self.wake.clear()
            else:
                stop.wait(delay)
