"""The ballot forms a kiosk shows: the open rounds, in the meeting file's own words, with keys.

Only what a voter's screen needs: names, seats, grades, the round's public sealing key. No
counts, no attendance.
"""
from __future__ import annotations

from typing import Any, Iterable

from keys.canonical import b64e
from tally.setup.meeting import MeetingInfo
from tally.store.models import Round

DEFAULT_GRADES = ["优秀", "称职", "基本称职", "不称职"]


def round_form(raw: dict[str, Any], rnd: Round) -> dict[str, Any]:
    form: dict[str, Any] = {"id": rnd.id, "kind": rnd.kind, "title": rnd.title, "public_key": b64e(rnd.public_key)}
    if rnd.kind == "recommend":
        form["posts"] = [{"id": p["id"], "title": p.get("title") or p["id"], "seats": int(p.get("seats", 1)),
                          "candidates": list(p.get("candidates", [])), "write_in": bool(p.get("write_in", False))}
                         for p in raw.get("posts", [])]
    elif rnd.kind == "evaluate":
        form["subjects"] = list(raw.get("subjects", []))
        form["grades"] = list(raw.get("grades") or DEFAULT_GRADES)
        form["directions"] = list(raw.get("directions") or [])
        form["quota"] = dict(raw.get("quota") or {})
    elif rnd.kind == "decide":
        form["nominees"] = list(raw.get("nominees", []))
        form["seats"] = raw.get("seats")
    elif rnd.kind == "score":
        form["contestants"] = list(raw.get("contestants", []))
        form["min"] = str(raw.get("min", 0))
        form["max"] = str(raw.get("max", 100))
        form["step"] = str(raw.get("step", "0.1"))
    return form


def ballot_forms(info: MeetingInfo, rounds: Iterable[Round]) -> list[dict[str, Any]]:
    return [round_form(info.round_raw(r.id), r) for r in rounds if r.kind in ("recommend", "evaluate", "decide")]
