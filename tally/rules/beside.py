"""个别谈话推荐 beside 会议推荐: one table of both, never summed (issue 12).

`side_by_side(meeting_post, talk_post)` gives rows in the meeting round's order (votes, then list
order, as its result has them), then the names only the talk records gave, by their talk votes.
Each side keeps its own votes and rate over its own denominator (实到 of the meeting; the
number talked to). Pure.
"""
from __future__ import annotations

from typing import Any, NamedTuple


class Side(NamedTuple):
    votes: int
    rate: str | None


class Row(NamedTuple):
    name: str
    meeting: Side | None
    talk: Side | None


def side_by_side(meeting_post: dict[str, Any], talk_post: dict[str, Any]) -> list[Row]:
    """Rows of one post present in both results (each a post of a recommend result document)."""
    meeting = {c["name"]: Side(c["votes"], c["rate"]) for c in meeting_post["candidates"]}
    talk = {c["name"]: Side(c["votes"], c["rate"]) for c in talk_post["candidates"]}
    rows = [Row(name, side, talk.get(name)) for name, side in meeting.items()]
    rows += [Row(name, None, side) for name, side in talk.items() if name not in meeting]
    return rows


def pairs(results: list[dict[str, Any]]) -> dict[str, tuple[dict[str, Any], dict[str, Any]]]:
    """For each counted talk round shown beside a counted round: talk id → (meeting result, talk result)."""
    by_id = {r["id"]: r for r in results}
    out = {}
    for r in results:
        other = by_id.get(r.get("beside", ""))
        if other is not None and "posts" in r and "posts" in other:
            out[r["id"]] = (other, r)
    return out
