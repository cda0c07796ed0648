"""The judge simulator (模拟评委): a panel scoring contestants from simulated kiosks against a real tally.

For tests and benchmarks of live scoring (亮分). Score lines are CONTRACT.md's
`{"round", "judge", "contestant", "score"}`; judge cards are `tally judges cards ROUND` output
(`J07<TAB>SCR1.…`, as a mapping label → card text). The tally takes a contestant's scores only
while the chair has that contestant open, so lines are played contestant by contestant, in the
order each (round, contestant) first appears: for each one the simulator calls `open_next`
(if given) or waits for a chair to open that contestant (`GET /api/v1/judging` shows it
`current` with phase `scoring`), then releases every seat's line at once, one thread per seat,
and waits for every receipt before moving on.

Each seat sits at one simulated kiosk (seat i → kiosk i mod N, seats in seat order), paired
over HTTP like `kiosk pair`. A line is sealed to the round's key, signed by the kiosk and by
the judge card's key, committed to that kiosk's durable outbox and sent by its own sender:
`kiosk.casting.cast` and `kiosk.sender.Sender`, the same path as a kiosk's judge pad. Scores
are sent as written (no pad validation), so a test can see the tally refuse an off-step score.
Judge card secrets stay in memory; the outboxes hold only public keys and sealed envelopes.

Ack latency runs from just before sealing to the verified receipt; `panel_ms` from the moment
the seats are released to the last receipt of that contestant.
"""
from __future__ import annotations

import re
import threading
import time
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from keys.cards import card_key, parse_card
from keys.errors import KeysError
from keys.identity import Identity
from kiosk.client import TallyClient, TallyError, TallyUnreachable, new_session
from kiosk.forms import FormError
from kiosk.scores import JudgingState, ScoreRound, parse_judging
from kiosk.simulate import (
    Fleet,
    SimulationError,
    ack_summary,
    cast_ballots,
    cast_one,
    fleet,
    parse_offers,
    plan_ballots,
    read_form,
)

_LABEL = re.compile(r"J[0-9]{1,3}")


def read_judge_cards(path: Path) -> dict[str, str]:
    """`tally judges cards` output (`J07<TAB>SCR1.…` per line) as label → card text."""
    cards: dict[str, str] = {}
    for n, text in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), start=1):
        if not text.strip():
            continue
        parts = text.split()
        if len(parts) != 2 or not _LABEL.fullmatch(parts[0]):
            raise SimulationError(f"{path}:{n}: a judge card line is a seat label, a tab and the card code")
        if parts[0] in cards:
            raise SimulationError(f"{path}:{n}: seat {parts[0]} is listed twice")
        cards[parts[0]] = parts[1]
    return cards


def is_score_line(line: Mapping[str, Any]) -> bool:
    return "judge" in line


@dataclass(frozen=True)
class Turn:
    """One contestant of one round: every seat's line, played together."""

    round: ScoreRound
    contestant: str
    lines: tuple[tuple[str, dict[str, Any]], ...]  # (seat label, score line)


def _seat_number(label: str) -> int:
    return int(label[1:])


def plan_turns(
    lines: Sequence[Mapping[str, Any]], judging: JudgingState, judge_cards: Mapping[str, str],
) -> tuple[list[Turn], dict[str, Identity]]:
    """The turns in play order and each seat's card key; every line checked before anything is cast."""
    turns: dict[tuple[str, str], list[tuple[str, dict[str, Any]]]] = {}
    seen: set[tuple[str, str, str]] = set()
    keys: dict[str, Identity] = {}
    for j, line in enumerate(lines, start=1):
        rid, label, contestant, score = (line.get(k) for k in ("round", "judge", "contestant", "score"))
        if not isinstance(rid, str) or judging.round(rid) is None:
            raise SimulationError(f"score line {j}: round {rid} is not an open score round on the tally")
        if not isinstance(label, str) or not _LABEL.fullmatch(label):
            raise SimulationError(f"score line {j}: the judge must be a seat label like J07")
        if not isinstance(contestant, str) or not contestant:
            raise SimulationError(f"score line {j}: the contestant must be a name")
        if not isinstance(score, str):
            raise SimulationError(f"score line {j}: the score must be a decimal string")
        if (rid, label, contestant) in seen:
            raise SimulationError(f"score line {j}: a second score from {label} for {contestant}")
        seen.add((rid, label, contestant))
        if label not in keys:
            text = judge_cards.get(label)
            if text is None:
                raise SimulationError(f"score line {j}: no judge card for seat {label}")
            try:
                card_meeting, secret = parse_card(text)
            except KeysError as exc:
                raise SimulationError(f"the judge card of seat {label} is not a card") from exc
            if card_meeting != judging.meeting_id:
                raise SimulationError(f"the judge card of seat {label} belongs to another meeting")
            # A judge card belongs to one score round: the seat's key is its key for that round
            # (a line of another round is refused by the tally, as that card is no seat there).
            keys[label] = card_key(secret, card_meeting, rid)
        turns.setdefault((rid, contestant), []).append((label, dict(line)))
    ordered = [Turn(judging.round(rid), name, tuple(ls))  # type: ignore[arg-type]
               for (rid, name), ls in turns.items()]
    return ordered, keys


def read_judging(client: TallyClient) -> JudgingState:
    try:
        return parse_judging(client.judging())
    except (TallyUnreachable, TallyError, FormError) as exc:
        raise SimulationError(f"cannot read the judging state from the tally: {exc}") from exc


def _standing(client: TallyClient, round_id: str) -> ScoreRound | None:
    try:
        return parse_judging(client.judging()).round(round_id)
    except (TallyUnreachable, TallyError, FormError):
        return None


def wait_open(client: TallyClient, round_id: str, contestant: str, deadline: float, poll: float) -> bool:
    """Until the tally shows this contestant open for scoring, or the deadline passes."""
    while True:
        rnd = _standing(client, round_id)
        if rnd is not None and rnd.current == contestant and rnd.phase == "scoring":
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(poll)


def play_turn(f: Fleet, turn: Turn, seats: Mapping[str, Identity], kiosk_of: Mapping[str, int],
              timeout: float) -> tuple[dict[str, Any], list[tuple[int, int]]]:
    """Release every seat's line at once (one thread per seat), then wait for every answer."""
    form = turn.round.form()
    go = threading.Event()
    keys: list[tuple[int, int]] = []
    errors_before = Counter(f.tracker.cast_errors)

    def seat(label: str, line: dict[str, Any]) -> None:
        go.wait()
        key = cast_one(f, kiosk_of[label], seats[label], form, line)
        if key is not None:
            with f.tracker.cond:
                keys.append(key)

    threads = [threading.Thread(target=seat, args=(label, line), daemon=True, name=f"sim-judge-{label}")
               for label, line in turn.lines]
    for t in threads:
        t.start()
    began = time.monotonic()
    go.set()
    for t in threads:
        t.join()
    f.tracker.wait_resolved(keys, began + timeout)
    out = ack_summary(f.tracker, keys)
    with f.tracker.cond:
        acks = [f.tracker.acked[k] for k in keys if k in f.tracker.acked]
    last = max(acks) if acks else None
    out.update(
        cast_errors=dict(sorted((f.tracker.cast_errors - errors_before).items())),
        panel_ms=None if last is None else round((last - began) * 1000, 2),
        began=began, last_ack=last,
    )
    return out, keys


def play_judges(
    f: Fleet, client: TallyClient, turns: Sequence[Turn], seats: Mapping[str, Identity], *,
    open_next: Callable[[str], None] | None, open_timeout: float, timeout: float, poll_interval: float,
) -> dict[str, Any]:
    labels = sorted(seats, key=_seat_number)
    kiosk_of = {label: i % len(f.kiosks) for i, label in enumerate(labels)}
    began = time.monotonic()
    played: list[dict[str, Any]] = []
    not_opened: list[str] = []
    all_keys: list[tuple[int, int]] = []
    for turn in turns:
        if not_opened:
            not_opened.append(turn.contestant)
            continue
        if open_next is not None:
            open_next(turn.contestant)
        if not wait_open(client, turn.round.id, turn.contestant, time.monotonic() + open_timeout, poll_interval):
            not_opened.append(turn.contestant)
            continue
        result, keys = play_turn(f, turn, seats, kiosk_of, timeout)
        all_keys.extend(keys)
        after = _standing(client, turn.round.id)
        phase = after.phase if after is not None and after.current == turn.contestant else None
        played.append({"round": turn.round.id, "contestant": turn.contestant, "scores": len(turn.lines),
                       "phase": phase, **result})
    elapsed = time.monotonic() - began
    totals = ack_summary(f.tracker, all_keys)
    cast_errors: Counter[str] = Counter()
    for p in played:
        cast_errors.update(p["cast_errors"])
    return {"judges": len(seats), "scores": sum(len(t.lines) for t in turns), **totals,
            "cast_errors": dict(sorted(cast_errors.items())), "seconds": round(elapsed, 3),
            "contestants": played, "not_opened": not_opened}


def simulate_judges(
    offers: Sequence[str],
    judge_cards: Mapping[str, str],
    score_lines: Sequence[Mapping[str, Any]],
    *,
    open_next: Callable[[str], None] | None = None,
    open_timeout: float = 600.0,
    timeout: float = 300.0,
    data_dir: Path | None = None,
    poll_interval: float = 0.05,
) -> dict[str, Any]:
    """Pair one kiosk per offer and play the score lines contestant by contestant; return a summary.

    `judge_cards` maps a seat label (`J07`) to its card text (`SCR1.…`). For each contestant
    (in order of first appearance in `score_lines`), `open_next(contestant)` is called if given
    (e.g. a function that POSTs the chair's `/api/v1/admin/rounds/<id>/next`); then the
    simulator waits up to `open_timeout` seconds for the tally to show that contestant open,
    casts every seat's line at once and waits up to `timeout` seconds for the receipts. A
    contestant never opened stops the play; it and those after it are listed in `not_opened`.

    Summary: `{"kiosks", "judges", "scores", "cast", "accepted", "rejected": {code: n},
    "cast_errors", "unacknowledged", "ack_ms": {"p50", "p99"}, "seconds", "not_opened": [...],
    "contestants": [{"round", "contestant", "scores", "phase" (after the receipts: "revealed"
    once a full panel scored), "cast", "accepted", "rejected", "cast_errors", "unacknowledged",
    "ack_ms": {"p50", "p99"}, "panel_ms", "began", "last_ack"}]}` where `began`/`last_ack`
    are this process's `time.monotonic()` when the seats were released / the last receipt verified.
    """
    parsed = parse_offers(offers)
    client = TallyClient(parsed[0].url, session=new_session(1, parsed[0].tls))
    judging = read_judging(client)
    turns, seats = plan_turns(score_lines, judging, judge_cards)
    with fleet(parsed, judging.meeting_id, data_dir) as f:
        out = play_judges(f, client, turns, seats, open_next=open_next, open_timeout=open_timeout,
                          timeout=timeout, poll_interval=poll_interval)
        kiosks = len(f.kiosks)
    return {"kiosks": kiosks, **out}


def simulate_file(
    offers: Sequence[str], cards: Sequence[str], judge_cards: Mapping[str, str],
    lines: Sequence[Mapping[str, Any]], *, concurrency: int | None = None, data_dir: Path | None = None,
    timeout: float = 300.0, open_timeout: float = 600.0, poll_interval: float = 0.25,
) -> dict[str, Any]:
    """`kiosk simulate`: a ballot file that may hold ballots and judges' score lines, through one
    fleet of kiosks: ballots first, then the score lines as a chair opens each contestant."""
    ballots = [ln for ln in lines if not is_score_line(ln)]
    scores = [ln for ln in lines if is_score_line(ln)]
    if scores and not judge_cards:
        raise SimulationError("the ballot file has judges' score lines: give --judge-cards")
    parsed = parse_offers(offers)
    client = TallyClient(parsed[0].url, session=new_session(1, parsed[0].tls))
    judging = read_judging(client) if scores else None
    form = read_form(parsed[0]) if ballots or judging is None else None
    work = plan_ballots(ballots, cards, {r.id: r for r in form.rounds}, form.meeting_id, len(parsed)) if form else []
    turns, seats = plan_turns(scores, judging, judge_cards) if judging else ([], {})
    if form is not None and judging is not None and form.meeting_id != judging.meeting_id:
        raise SimulationError("the tally's ballot and judging documents name different meetings")
    meeting = form.meeting_id if form is not None else judging.meeting_id if judging is not None else ""
    with fleet(parsed, meeting, data_dir) as f:
        ballot_summary = cast_ballots(f, work, concurrency=concurrency, timeout=timeout) if work or not turns else None
        judge_summary = play_judges(f, client, turns, seats, open_next=None, open_timeout=open_timeout,
                                    timeout=timeout, poll_interval=poll_interval) if turns else None
        kiosks = len(f.kiosks)
    if judge_summary is None:
        return {"kiosks": kiosks, "ballots": len(ballots), **(ballot_summary or {})}
    for p in judge_summary["contestants"]:  # process-local clock readings mean nothing outside
        del p["began"], p["last_ack"]
    if ballot_summary is None:
        return {"kiosks": kiosks, **judge_summary}
    return {"kiosks": kiosks, "voting": {"ballots": len(ballots), **ballot_summary}, "judging": judge_summary}
