"""The judge's seat on a kiosk (评委席): a judge card bound to the screen, the contest followed live, scores cast.

When a scanned card is a judge card (the tally's card check names its round and seat), the kiosk
binds to that seat until the judge leaves judge mode: the card's key for that score round (a
card signs with another key in every round) is held in memory only, never written, logged or
sent (only its public key and its signatures travel). A restarted kiosk has forgotten the seat;
the judge scans again.

`JudgeDesk` follows the contest through `GET /api/v1/judging` (at most every `fresh` seconds,
when the judge's page asks, and with every heartbeat) and tells the page which screen to show:

- `waiting`  no contestant is being scored (idle, or the last one revealed);
- `pad`      a contestant is open and this seat has no score for them: the number pad, with a
             notice when the tally refused this seat's last score (its error code) or when the
             chair returned it (the seat left `scored_seats` after its score was acknowledged);
- `locked`   this seat's score is waiting in the outbox or the tally has it (已提交，等待亮分);
- `closed`   the seat's round is no longer open.

A score is checked (`kiosk.scores`), sealed and committed to the durable outbox by
`kiosk.casting.cast` exactly like a ballot, and only then does the page hear "submitted"; the
sender sends it. The screen state never carries a score value.
"""
from __future__ import annotations

import logging
import math
import secrets
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from keys.canonical import b64e
from keys.errors import KeysError
from keys.identity import Identity
from kiosk.ballots import N_, SelectionError
from kiosk.casting import KioskSigner, cast
from kiosk.client import TallyClient, TallyError, TallyUnreachable
from kiosk.forms import FormError, UnsignedForm
from kiosk.outbox import CardAlreadyUsed, Item, Outbox
from kiosk.refusal import Refusal
from kiosk.scores import JudgingState, ScoreRound, parse_judging, score_line

log = logging.getLogger("kiosk.judge")


# The tally's refusals of a score, as the judge reads them on the pad. Range and step come
# from the kiosk's own copy of the plan (the outbox keeps only the error code).
REJECTION_MESSAGES: dict[str, str] = {
    "contestant_not_open": N_("Scoring for this contestant is not open; your score was not taken."),
    "score_out_of_range": N_("The score must be between %(min)s and %(max)s."),
    "score_off_step": N_("The score must be a multiple of %(step)s."),
    "bad_score": N_("The score must be a number."),
    "seat_already_scored": N_("This seat has already scored this contestant."),
    "wrong_seat": N_("This judge card belongs to another seat. Please call the staff."),
    "unknown_judge_card": N_("This judge card is not valid for this round. Please call the staff."),
    "round_not_open": N_("This round is not open for scoring."),
}
OTHER_REJECTION = N_("The tally did not take your score (%(code)s). Please call the staff.")
RETURNED = N_("The chair has returned your score. Please score again.")


@dataclass(frozen=True)
class JudgeSession:
    """The judge at this screen. `card` (the judge card's key for `round_id`) is the only place
    the judge card's key lives."""

    token: str
    card: Identity
    card_public: str  # b64, as the outbox keys score envelopes
    round_id: str
    seat: int
    label: str


@dataclass(frozen=True)
class Notice:
    kind: str  # "rejected" | "returned"
    code: str
    message: str
    params: dict[str, str | int]


class JudgeDesk:
    """Judge mode of one kiosk: at most one bound seat, the contest's state, and score casting."""

    def __init__(self, outbox: Outbox, signer: KioskSigner, client: TallyClient, wake: threading.Event,
                 *, tally_public: bytes, fresh: float = 0.5, clock: Callable[[], float] = time.monotonic) -> None:
        self.outbox = outbox
        self.tally_public = tally_public  # pinned at pairing: a score round's form must carry its signature
        self.signer = signer
        self.client = client
        self.wake = wake  # the sender's: a cast sends at once
        self.fresh = fresh
        self.clock = clock
        self.online = False
        self.form_refused = False  # the tally's latest judging form did not carry its signature
        self._state: JudgingState | None = None
        self._fetched = -math.inf  # when the request behind `_state` left (clock)
        self._acked: dict[int, float] = {}  # outbox id of a score cast here -> when its receipt verified
        self._session: JudgeSession | None = None
        self._lock = threading.Lock()
        self._fetching = threading.Lock()

    # -- following the contest ---------------------------------------------------------------
    def refresh(self, max_age: float = 0.0, *, wait: bool = True) -> None:
        """Fetch the judging state unless the one held is younger than `max_age` seconds.
        With `wait=False` a fetch already under way is not waited for (the page's poll)."""
        if self.clock() - self._fetched < max_age:
            return
        if not self._fetching.acquire(blocking=wait):
            return
        try:
            started = self.clock()
            if started - self._fetched < max_age:
                return
            try:
                state = parse_judging(self.client.judging(timeout=2.0), self.tally_public)
            except UnsignedForm as exc:
                log.error("judging state REFUSED, the last good one stays: %s", exc)
                self.form_refused = True
                self.online = False
                return
            except (TallyUnreachable, TallyError, FormError) as exc:
                log.info("judging state not refreshed: %s", exc)
                self.online = False
                return
            if state.meeting_id != self.signer.meeting:
                log.error("the tally serves another meeting; judging state ignored")
                self.online = False
                return
            with self._lock:
                self._state, self._fetched = state, started
            self.online = True
            self.form_refused = False
        finally:
            self._fetching.release()

    def open_rounds(self) -> tuple[ScoreRound, ...]:
        state = self._state
        return state.rounds if state else ()

    def note_acked(self, item: Item, _receipt: dict[str, Any]) -> None:
        """The sender's hook: remember when a score cast here was acknowledged."""
        with self._lock:
            if item.id in self._acked:
                self._acked[item.id] = self.clock()

    # -- the seat ----------------------------------------------------------------------------
    def bind(self, cards: Mapping[str, Identity], answer: dict[str, Any]) -> JudgeSession:
        """Bind this screen to the seat the tally's card check named; `cards` holds the scanned
        card's key for each round the kiosk asked about, and the seat's round picks one."""
        round_id, seat, label = answer.get("round"), answer.get("seat"), answer.get("label")
        if not isinstance(round_id, str) or isinstance(seat, bool) or not isinstance(seat, int) \
                or not isinstance(label, str) or round_id not in cards:
            raise Refusal("tally_unreachable", N_("The card cannot be checked now. Please try again."), 503)
        card = cards[round_id]
        self.refresh()
        if self._state is None or self._state.round(round_id) is None:
            raise Refusal("round_not_open", N_("This judge card's round is not open for scoring."), 409)
        session = JudgeSession(token=secrets.token_urlsafe(24), card=card, card_public=b64e(card.public_bytes()),
                               round_id=round_id, seat=seat, label=label)
        with self._lock:
            self._session = session
        return session

    def unbind(self, token: str | None = None) -> None:
        with self._lock:
            if self._session and (token is None or secrets.compare_digest(self._session.token, token)):
                self._session = None

    @property
    def bound(self) -> bool:
        return self._session is not None

    def _take(self, token: object) -> JudgeSession:
        s = self._session
        if s is None or not isinstance(token, str) or not secrets.compare_digest(s.token, token):
            raise Refusal("no_session", N_("Please scan your card again."), 409)
        return s

    # -- what the screen shows ---------------------------------------------------------------
    def _standing(self, s: JudgeSession, rnd: ScoreRound) -> tuple[str, str | None, Notice | None]:
        """(screen, locked detail, notice) for the contestant open now."""
        assert rnd.current is not None
        latest = self.outbox.latest_score(s.card_public, rnd.id, rnd.current)
        notice = self._notice(rnd, latest)
        if not rnd.scoring:
            return "waiting", None, notice if notice and notice.kind == "rejected" else None
        if s.seat in rnd.scored_seats:
            return "locked", "received", None
        if latest is None:
            return "pad", None, None
        if latest.state == "pending":
            return "locked", "sending", None
        if latest.state == "rejected":
            return "pad", None, notice
        # Acknowledged, yet the seat is not among the scored: returned by the chair, but only if
        # that state was fetched after the receipt came (else it simply predates this score).
        acked = self._acked.get(latest.id, -math.inf)
        if self._fetched > acked:
            return "pad", None, notice
        return "locked", "received", None

    def _notice(self, rnd: ScoreRound, latest: Item | None) -> Notice | None:
        if latest is None or latest.state == "pending":
            return None
        if latest.state == "sent":
            return Notice("returned", "returned", RETURNED, {})
        code = latest.error or ""
        params: dict[str, str | int] = {}
        if code == "score_out_of_range":
            params = {"min": str(rnd.min), "max": str(rnd.max)}
        elif code == "score_off_step":
            params = {"step": str(rnd.step)}
        if code in REJECTION_MESSAGES:
            return Notice("rejected", code, REJECTION_MESSAGES[code], params)
        return Notice("rejected", code, OTHER_REJECTION, {"code": code})

    def screen(self, token: object) -> dict[str, Any]:
        """What the judge's page shows now (never a score value)."""
        s = self._take(token)
        out: dict[str, Any] = {"mode": "judge", "label": s.label, "seat": s.seat, "online": self.online,
                               "contestant": None, "notice": None, "locked": None}
        state = self._state
        rnd = state.round(s.round_id) if state else None
        if rnd is None:
            out["screen"] = "closed" if state is not None else "waiting"
            out["round"] = {"id": s.round_id}
            return out
        out["round"] = rnd.plan()
        if rnd.current is None:
            out["screen"] = "waiting"
            return out
        screen, locked, notice = self._standing(s, rnd)
        out.update(screen=screen, locked=locked,
                   contestant=rnd.current if screen != "waiting" else None,
                   notice=None if notice is None else
                   {"kind": notice.kind, "code": notice.code, "message": notice.message, "params": notice.params})
        return out

    def poll(self, token: object) -> dict[str, Any]:
        """The page's poll: a fresh-enough state, then the screen."""
        self._take(token)
        self.refresh(self.fresh, wait=False)
        return self.screen(token)

    # -- casting -----------------------------------------------------------------------------
    def cast(self, token: object, contestant: object, score: object) -> dict[str, Any]:
        """Check the typed score, seal it, commit it to the outbox; then answer the locked screen."""
        s = self._take(token)
        if not isinstance(contestant, str):
            raise Refusal("malformed", N_("The request is not well formed."), 400)
        state = self._state
        rnd = state.round(s.round_id) if state else None
        if rnd is None or rnd.current != contestant or not rnd.scoring:
            self.refresh()  # the chair may have moved on a moment ago: ask before refusing
            state = self._state
            rnd = state.round(s.round_id) if state else None
        if rnd is None:
            raise Refusal("round_not_open", N_("This round is not open for scoring."), 409)
        if not rnd.scoring or rnd.current != contestant:
            raise Refusal("contestant_not_open", N_("Scoring for this contestant is not open."), 409)
        if self._standing(s, rnd)[0] != "pad":
            raise Refusal("seat_already_scored", N_("Your score for this contestant has been submitted."), 409)
        try:
            line = score_line(rnd, s.label, contestant, score)
        except SelectionError as exc:
            raise Refusal(exc.code, exc.message, 400, **exc.params) from exc
        try:
            done = cast(self.outbox, self.signer, {s.round_id: s.card}, [(rnd.form(), line)])
        except CardAlreadyUsed as exc:  # a second tap raced the first: one score waits already
            raise Refusal("seat_already_scored", N_("Your score for this contestant has been submitted."),
                               409) from exc
        except (KeysError, ValueError) as exc:  # a line that does not fit its round's signed size
            raise Refusal("malformed", N_("This ballot cannot be sealed. Please call the staff."), 400) from exc
        with self._lock:
            for oid in done.outbox_ids:
                # Not acknowledged yet: until the sender says so, no state can be newer than it.
                self._acked[oid] = math.inf
        self.wake.set()
        return self.screen(token)
