"""Competition ranks (1, 1, 3): equal keys share a place, the next place skips.

Higher keys rank first. Keys are tuples compared left to right, so tie-break keys simply follow
the main key. Never orders by name or id: ties stay ties. Pure.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

K = TypeVar("K")


def rank(keys: Mapping[K, tuple[Any, ...]]) -> dict[K, int]:
    """Rank each item by its key, highest first; items with equal keys share the same place."""
    ordered = sorted(keys.items(), key=lambda item: item[1], reverse=True)
    places: dict[K, int] = {}
    previous: tuple[Any, ...] | None = None
    place = 0
    for position, (item, key) in enumerate(ordered, start=1):
        if key != previous:
            place, previous = position, key
        places[item] = place
    return places
