"""The kiosk's watch over the published box (票箱核对): is every receipt this kiosk holds in the box?

Once a round closes the tally publishes its box (`GET /api/v1/box/<round>`): the receipt code of
every envelope it accepted, signed by the tally. Every kiosk fetches the box of each closed round
it sent envelopes for, verifies the tally's signature under the key pinned at pairing, and checks
that each receipt in its outbox (`sent`, with the tally's signed receipt) is listed. It keeps
checking (every `every` seconds) so a row deleted from the tally's database later is noticed
too. The result shows on the kiosk's status page and goes to the console with each heartbeat,
where a missing receipt is a red alarm naming it. The same check offline is `keys
check-receipts KIOSK_DATA_DIR EXPORT_DIR`.

Logs name rounds and counts, never a receipt code (a code read off a voter's screen must not be
matched to a moment in a log).
"""
from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from keys import labels
from keys.document import verify_document
from keys.envelope import receipt_code
from keys.errors import BadSignature, Malformed
from keys.published import PublishedBox, missing, parse_box
from kiosk.client import TallyClient, TallyError, TallyUnreachable
from kiosk.outbox import Outbox

log = logging.getLogger("kiosk.watch")

REPORTED_CODES = 50  # the heartbeat names at most this many missing codes per round (and counts all)


@dataclass(frozen=True)
class RoundWatch:
    """One closed round as this kiosk last checked it."""

    round_id: str
    held: int  # receipts this kiosk holds for the round
    missing: tuple[str, ...]  # of those, the codes the published box does not list
    verified: bool  # the box carried the tally's signature (if not, nothing else is known)
    count: int  # envelopes the box says the round accepted

    @property
    def alarm(self) -> bool:
        return bool(self.missing) or not self.verified


class BoxWatch:
    """Checks this kiosk's receipts against the published boxes; thread-safe."""

    def __init__(self, outbox: Outbox, client: TallyClient, tally_public: bytes, meeting: str, *,
                 every: float = 15.0, clock: Callable[[], float] = time.monotonic) -> None:
        self.outbox = outbox
        self.client = client
        self.tally_public = tally_public
        self.meeting = meeting
        self.every = every
        self.clock = clock
        self._rounds: dict[str, RoundWatch] = {}
        self._checked: dict[str, float] = {}
        self._lock = threading.Lock()

    def _fetch(self, round_id: str) -> dict[str, Any] | None:
        try:
            return self.client.box(round_id)
        except TallyError as exc:
            if exc.code not in ("round_not_closed", "unknown_round"):
                log.info("published box of round %s not fetched: %s", round_id, exc.code)
            return None
        except TallyUnreachable as exc:
            log.info("published box not fetched: %s", exc)
            return None

    def _verify(self, round_id: str, doc: dict[str, Any]) -> PublishedBox | None:
        """The box as the tally signed it (never the plain copy beside it), or None if it does not verify."""
        try:
            box = parse_box(verify_document(doc.get("signed"), self.tally_public, labels.BOX))
        except (BadSignature, Malformed):
            return None
        if box.meeting != self.meeting or box.round_id != round_id:
            return None
        return box

    def check(self, open_rounds: Iterable[str] = ()) -> None:
        """Check every round this kiosk holds receipts for and that is not open (at most every
        `every` seconds per round)."""
        skip = set(open_rounds)
        now = self.clock()
        for round_id, hashes in sorted(self.outbox.sent_by_round().items()):
            if round_id in skip or now - self._checked.get(round_id, -math.inf) < self.every:
                continue
            doc = self._fetch(round_id)
            if doc is None:
                continue
            self._checked[round_id] = now
            codes = [receipt_code(h) for h in hashes]
            box = self._verify(round_id, doc)
            if box is None:
                log.error("the published box of round %s does not carry the tally's signature", round_id)
                result = RoundWatch(round_id, len(codes), (), False, 0)
            else:
                gone = tuple(missing(codes, box))
                result = RoundWatch(round_id, len(codes), gone, True, box.count)
                if gone:
                    log.error("ALARM: %d receipt(s) of round %s are missing from the published box", len(gone), round_id)
            with self._lock:
                self._rounds[round_id] = result

    def rounds(self) -> list[RoundWatch]:
        with self._lock:
            return [self._rounds[r] for r in sorted(self._rounds)]

    def report(self) -> dict[str, Any] | None:
        """What the heartbeat carries to the console (None before any closed round was checked)."""
        rounds = self.rounds()
        if not rounds:
            return None
        return {"rounds": {r.round_id: {"held": r.held, "missing": list(r.missing[:REPORTED_CODES]),
                                         "missing_total": len(r.missing), "verified": r.verified}
                           for r in rounds}}

