"""Counting identical marks together: the hot path of every ballot counter.

A ballot is reduced to hashable marks. `Tally.add` only appends them (a C call); `fold()`
counts the batch with `collections.Counter` and folds each distinct value into the round's
totals once. Callers fold every few thousand ballots, so memory stays bounded. Pure.
"""
from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Hashable
from typing import Any, Final

BATCH: Final = 4096


class Tally:
    """Marks waiting to be counted, and how many ballots were folded so far."""

    __slots__ = ("_absorb", "_pending", "add", "returned")

    def __init__(self, absorb: Callable[[Hashable, int], None]) -> None:
        self._pending: list[Hashable] = []
        self._absorb = absorb
        self.add: Callable[[Hashable], None] = self._pending.append
        self.returned = 0

    def fold(self) -> None:
        """Count the pending marks into the totals (done every batch and before any result)."""
        if not self._pending:
            return
        counts = Counter(self._pending)
        self._pending.clear()
        for marks, n in counts.items():
            self.returned += n
            self._absorb(marks, n)


class MarkCounter:
    """The plumbing the ballot counters share: marks are batched in a `Tally` and folded into the
    counter's totals by its `_absorb`. `add_marks` is the hot path (`tally count` feeds marks);
    `add` takes one parsed ballot and folds at once (the live tally)."""

    _tally: Tally

    def _start(self) -> None:
        self._tally = Tally(self._absorb)
        self.add_marks = self._tally.add

    def add(self, ballot: Any) -> None:
        self._tally.add(ballot.marks)
        self._tally.fold()

    def fold(self) -> None:
        self._tally.fold()

    def _absorb(self, marks: Hashable, n: int) -> None:
        raise NotImplementedError
