"""The running kiosk (终端): its form, its standing with the tally, the desk's unlock and who is at the screen.

One `Agent` per kiosk process. It owns the outbox and the sender, a heartbeat loop that also
refreshes the ballot form (cached on disk for short tally outages; only a form signed by the
tally key pinned at pairing is ever shown or sealed to, else the last good form stays and the
status page says so), the judging state, the watch over the published boxes (`kiosk.watch`:
is every receipt this kiosk holds in the box of its closed round?), the desk's pending unlock
grant, and at most one person at the screen: a voter session (the card's
round keys, held in memory from the scan to the cast and then dropped) or a judge bound to a seat
(`kiosk.judge`, held in memory until the judge leaves judge mode). A card signs with another key
in every round: after a scan the kiosk derives the card's key for each open round, then drops
the secret. For a desk unlock the kiosk makes the card itself and sends the tally only its
public keys, one per open ballot round. A card secret is never written anywhere, never logged,
never sent to the page or to the tally.

Views call `open_session` (which answers a `VoterSession` or, for a judge card, a
`JudgeSession`), `cast`, and the judge desk `judges`; every refusal is a `Refusal` with a code,
an HTTP status and an English msgid for the page.
"""
from __future__ import annotations

import json
import logging
import re
import secrets
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from keys.canonical import b64e
from keys.cards import Card, new_card, parse_card
from keys.errors import KeysError, Malformed
from keys.identity import Identity
from kiosk.ballots import N_, SelectionError, ballot_line
from kiosk.casting import Cast, KioskSigner, cast
from kiosk.client import TallyClient, TallyError, TallyUnreachable
from kiosk.config import Pairing, Paths, write_json_atomic
from kiosk.forms import BallotForm, FormError, RoundForm, UnsignedForm, parse_form
from kiosk.judge import JudgeDesk, JudgeSession
from kiosk.outbox import CardAlreadyUsed, Outbox
from kiosk.refusal import Refusal
from kiosk.sender import Sender
from kiosk.watch import BoxWatch

log = logging.getLogger("kiosk.agent")

SESSION_SECONDS = 15 * 60
# The card face's check code (ABCD-EFGH; typed without its dash, it still shows a digit 2-7 mostly).
CHECK_CODE = re.compile(r"[A-Z2-7]{4}-[A-Z2-7]{4}|(?=[A-Z]*[2-7])[A-Z2-7]{8}")


@dataclass(frozen=True)
class VoterSession:
    """One voter at the screen. `cards` (the card's key for each of its rounds, by round id) is
    the only place the card's keys live."""

    token: str
    cards: Mapping[str, Identity]
    check_code: str
    rounds: tuple[RoundForm, ...]
    started: float

    def expired(self, now: float) -> bool:
        return now - self.started > SESSION_SECONDS


class Agent:
    def __init__(
        self,
        paths: Paths,
        pairing: Pairing,
        identity: Identity,
        *,
        heartbeat_seconds: float = 5.0,
        receipt_seconds: int = 8,
        box_check_seconds: float = 15.0,
    ) -> None:
        self.paths = paths
        self.pairing = pairing
        self.signer = KioskSigner(kiosk_id=pairing.kiosk_id, identity=identity, meeting=pairing.meeting)
        self.outbox = Outbox(paths.outbox)
        # One client (connection pool) per thread that talks to the tally.
        pin = pairing.tls_fingerprint  # an https:// tally: its certificate, pinned at pairing
        self.page_client = TallyClient(pairing.tally_url, pin=pin)
        self.beat_client = TallyClient(pairing.tally_url, pin=pin)
        self.sender = Sender(self.outbox, TallyClient(pairing.tally_url, pin=pin), pairing.tally_public_key,
                             pairing.meeting)
        self.judges = JudgeDesk(self.outbox, self.signer, TallyClient(pairing.tally_url, pin=pin), self.sender.wake,
                                tally_public=pairing.tally_public_key)
        self.sender.on_sent = self.judges.note_acked
        self.watch = BoxWatch(self.outbox, TallyClient(pairing.tally_url, pin=pin), pairing.tally_public_key,
                              pairing.meeting, every=box_check_seconds)
        # Set while the tally's latest form is refused for its signature (someone between?).
        self.form_refused = False
        self.heartbeat_seconds = heartbeat_seconds
        self.receipt_seconds = receipt_seconds
        self.status = "unknown"  # pending | active | revoked, from the last heartbeat
        self.last_contact: float | None = None
        self.form: BallotForm | None = self._load_cached_form()
        self._grant: str | None = None  # the desk's unlock, waiting for a voter
        self._claimed: set[str] = set()
        self._session: VoterSession | None = None
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []

    # -- the ballot form ---------------------------------------------------------------------
    def _load_cached_form(self) -> BallotForm | None:
        try:
            doc = json.loads(self.paths.form_cache.read_text(encoding="utf-8"))
            form = parse_form(doc, self.pairing.tally_public_key)
        except FileNotFoundError:
            return None
        except (ValueError, FormError) as exc:
            log.warning("cached ballot form ignored: %s", exc)
            return None
        return form if form.meeting_id == self.pairing.meeting else None

    def refresh_form(self) -> None:
        """Fetch the open rounds; keep the last good form when the tally is away or odd, and refuse
        (loudly) a form that is not signed by the tally key pinned at pairing."""
        try:
            form = parse_form(self.beat_client.ballot(), self.pairing.tally_public_key)
        except UnsignedForm as exc:
            self.form_refused = True
            log.error("ballot form REFUSED, the last good one stays: %s", exc)
            return
        except (TallyUnreachable, TallyError, FormError) as exc:
            log.info("ballot form not refreshed: %s", exc)
            return
        self.form_refused = False
        if form.meeting_id != self.pairing.meeting:
            log.error("the tally serves another meeting; form ignored")
            return
        if self.form is None or form.version != self.form.version:
            write_json_atomic(self.paths.form_cache, form.doc)
            self.form = form

    # -- heartbeat -------------------------------------------------------------------------
    def heartbeat(self) -> None:
        counts = self.outbox.counts()
        try:
            answer = self.beat_client.heartbeat(self.signer.identity, self.signer.kiosk_id,
                                                outbox=counts["pending"], sent=counts["sent"], box=self.watch.report())
        except (TallyUnreachable, TallyError) as exc:
            log.info("heartbeat failed: %s", exc)
            return
        self.last_contact = time.monotonic()
        status = answer.get("status")
        if status in ("pending", "active", "revoked"):
            self.status = status
        unlock = answer.get("unlock")
        grant = unlock.get("grant") if isinstance(unlock, dict) else None
        with self._lock:
            # A heartbeat that left before a claim may still carry the claimed grant: ignore it.
            self._grant = grant if isinstance(grant, str) and grant not in self._claimed else None

    @property
    def unlocked(self) -> bool:
        return self._grant is not None

    def _claim_unlock(self) -> Card:
        """Make a fresh card here and have the tally register it against the desk's grant: its
        public key in each open ballot round. The card's secret never leaves this process."""
        rounds = [r.id for r in self.voter_rounds()]
        if not rounds:
            raise Refusal("no_open_round", N_("No round is open for voting now."), 409)
        with self._lock:
            grant, self._grant = self._grant, None
            if grant is not None:
                self._claimed.add(grant)
        if grant is None:
            raise Refusal("not_unlocked", N_("This kiosk has not been unlocked by the desk."), 409)
        card = new_card(self.pairing.meeting)
        try:
            self.page_client.claim_unlock(self.signer.identity, self.signer.kiosk_id, grant,
                                          {r: card.public_for(r) for r in rounds})
        except TallyError as exc:
            log.warning("desk unlock refused by the tally: %s", exc.code)
            raise Refusal("not_unlocked", N_("This kiosk has not been unlocked by the desk."), 409) from exc
        except TallyUnreachable as exc:
            with self._lock:  # the grant is still good at the tally: let the voter try again
                self._claimed.discard(grant)
                self._grant = grant
            raise Refusal("tally_unreachable", N_("The desk unlock cannot be confirmed now. Please try again."),
                          503) from exc
        return card

    def _beat_loop(self) -> None:
        while not self._stop.is_set():
            try:
                self.heartbeat()
                self.refresh_form()
                self.judges.refresh()
                self.watch.check(self.open_round_ids())
            except Exception:
                log.exception("heartbeat loop step failed")
            self._stop.wait(self.heartbeat_seconds)

    def start(self) -> None:
        """Start the sender and the heartbeat (call in the process that serves, after any fork)."""
        if self._threads:
            return
        self._threads = [
            threading.Thread(target=self.sender.run, args=(self._stop,), name="kiosk-sender", daemon=True),
            threading.Thread(target=self._beat_loop, name="kiosk-heartbeat", daemon=True),
        ]
        for t in self._threads:
            t.start()

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        self.sender.wake.set()
        for t in self._threads:
            t.join(timeout)
        self._threads = []

    def open_round_ids(self) -> set[str]:
        """The rounds this kiosk knows to be open (their boxes are not published yet)."""
        return {r.id for r in self.voter_rounds()} | {r.id for r in self.judges.open_rounds()}

    # -- the voter -------------------------------------------------------------------------
    def voter_rounds(self) -> tuple[RoundForm, ...]:
        return self.form.voter_rounds() if self.form else ()

    def _refuse_if_out_of_service(self) -> None:
        if self.status == "revoked":
            raise Refusal("kiosk_revoked", N_("This kiosk has been withdrawn from service."), 403)
        if self.status == "pending":
            raise Refusal("kiosk_pending", N_("This kiosk is waiting for the chair to confirm it."), 403)
        if not self.voter_rounds() and not self.judges.open_rounds():
            raise Refusal("no_open_round", N_("No round is open for voting now."), 409)

    def _round_keys(self, card: Card, have: Mapping[str, Identity]) -> dict[str, Identity]:
        """`have` plus the card's key for every other open round this kiosk knows. Score rounds
        too: only the tally can say a card is a judge's, by its key for the judge's own round."""
        ids = [r.id for r in self.voter_rounds()] + [r.id for r in self.judges.open_rounds()]
        return {**have, **{rid: card.identity(rid) for rid in dict.fromkeys(ids) if rid not in have}}

    def _check_card(self, keys: Mapping[str, Identity]) -> dict[str, Any]:
        try:
            return self.page_client.check_card(self.signer.identity, self.signer.kiosk_id,
                                               {rid: key.public_bytes() for rid, key in keys.items()})
        except (TallyUnreachable, TallyError) as exc:
            # Advisory only: intake decides. A voter is not turned away because the tally is slow.
            log.info("card check skipped: %s", exc)
            return {}

    def open_session(self, *, card_text: str | None = None, use_unlock: bool = False,
                     form_version: str | None = None) -> VoterSession | JudgeSession:
        """Take a card (scanned text, or the desk's unlock) and decide which rounds it may vote,
        or, for a judge card, bind this screen to the judge's seat."""
        self._refuse_if_out_of_service()
        if form_version is not None and form_version != (self.form.version if self.form else ""):
            raise Refusal("form_changed", N_("The ballot changed. Please start again."), 409)
        if use_unlock:
            card = self._claim_unlock()
        else:
            try:
                card_meeting, secret = parse_card(card_text or "")
            except Malformed as exc:
                if CHECK_CODE.fullmatch((card_text or "").strip().upper()):
                    # The short code on the card face confirms a scan; it cannot open a ballot.
                    raise Refusal("check_code_typed", N_(
                        "That is the card's check code. Type the card number printed under the QR code: "
                        "it starts with SCR1.")) from exc
                raise Refusal("bad_card", N_("This is not a ballot card. Please scan it again.")) from exc
            if card_meeting != self.pairing.meeting:
                raise Refusal("wrong_meeting", N_("This card belongs to another meeting."), 403)
            card = Card(card_meeting, secret)
            del secret
        keys = self._round_keys(card, {})
        answer = self._check_card(keys)
        if answer.get("card") == "unknown" and not use_unlock:
            # Perhaps a judge card of a score round this kiosk has not heard of yet: look once more.
            self.judges.refresh(self.judges.fresh)
            more = self._round_keys(card, keys)
            if len(more) > len(keys):
                keys, answer = more, self._check_card(more)
        code = card.check_code
        del card
        used = {rid for rid, key in keys.items() if rid in self.outbox.used_rounds(b64e(key.public_bytes()))}
        if answer.get("card") == "judge" and not use_unlock:
            judge = self.judges.bind(keys, answer)
            with self._lock:
                self._session = None  # one screen, one person
            return judge
        if not self.voter_rounds():
            if not answer:  # only the tally can say that a card is a judge's
                raise Refusal("tally_unreachable", N_("The card cannot be checked now. Please try again."), 503)
            raise Refusal("no_open_round", N_("No round is open for voting now."), 409)
        if answer.get("card") == "unknown":
            raise Refusal("unknown_card", N_("This card is not known for this meeting."), 403)
        if answer.get("card") == "void":
            raise Refusal("card_void", N_("This card has been voided."), 403)
        per_round = answer.get("rounds")
        rounds = tuple(r for r in self.voter_rounds() if r.id not in used)
        if isinstance(per_round, dict):
            # The tally lists the open rounds this card holds a credential in: offer only those.
            rounds = tuple(r for r in rounds if per_round.get(r.id) == "ok")
            if not rounds and not used and "used" not in per_round.values():
                raise Refusal("no_open_round", N_("No round is open for voting now."), 409)
        if not rounds:
            raise Refusal("card_used", N_("This card has already been used."), 409)
        session = VoterSession(token=secrets.token_urlsafe(24), cards={r.id: keys[r.id] for r in rounds},
                               check_code=code, rounds=rounds, started=time.monotonic())
        with self._lock:
            self._session = session  # one screen, one voter: a new scan replaces the last
        self.judges.unbind()
        return session

    def end_session(self, token: str | None = None) -> None:
        with self._lock:
            if self._session and (token is None or secrets.compare_digest(self._session.token, token)):
                self._session = None

    def _take_session(self, token: object) -> VoterSession:
        with self._lock:
            s = self._session
            if s is None or not isinstance(token, str) or not secrets.compare_digest(s.token, token):
                raise Refusal("no_session", N_("Please scan your card again."), 409)
            if s.expired(time.monotonic()):
                self._session = None
                raise Refusal("no_session", N_("Please scan your card again."), 409)
            return s

    def cast(self, token: object, selections: object) -> Cast:
        """Validate every round's selection, seal, commit to the outbox; only then return codes."""
        session = self._take_session(token)
        if not isinstance(selections, Mapping) or set(selections) != {r.id for r in session.rounds}:
            raise Refusal("incomplete", N_("The ballot does not match the open rounds. Please start again."))
        try:
            lines = [(form, ballot_line(form, selections[form.id])) for form in session.rounds]
        except SelectionError as exc:
            raise Refusal(exc.code, exc.message, 400, **exc.params) from exc
        with self._lock:
            if self._session is not session:
                raise Refusal("no_session", N_("Please scan your card again."), 409)
            self._session = None  # one cast per session, even if two taps race
        try:
            done = cast(self.outbox, self.signer, session.cards, lines)
        except CardAlreadyUsed as exc:
            raise Refusal("card_used", N_("This card has already been used."), 409) from exc
        except (KeysError, ValueError) as exc:  # a ballot that cannot be sealed in its round's size
            raise Refusal("malformed", N_("This ballot cannot be sealed. Please call the staff."), 400) from exc
        self.sender.wake.set()
        return done

    def state(self) -> dict[str, Any]:
        """What the welcome screen polls: no ballot, no card."""
        return {
            "status": self.status,
            "unlocked": self.unlocked,
            "form": self.form.version if self.form else None,
            "rounds": len(self.voter_rounds()),
            "judging": len(self.judges.open_rounds()),
        }
