"""Check-in (签到): the roster, signing people in, and 实到.

The roster comes from CSV or Excel (columns: number, name, optional group). Every cell is held
to the one rule of what a name is (`tally.rules.names`: printable, trimmed, a length limit),
because names reach the desk's screen and the judges' draw record. Signing in sets a flag and
nothing else: no time is stored, so check-in order cannot be matched with ballots.
"""
from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from typing import Any

from openpyxl import load_workbook
from sqlalchemy import case, func, select, update
from sqlalchemy.orm import Session

from tally.errors import ApiError
from tally.rules.names import NAME_MAX, name_problem
from tally.store import audit
from tally.store.models import Attendee

NUMBER_MAX = 32  # the roster number's column
# What an Excel roster (or judge pool) may hold. Its sheet says how big it is, and a reader that
# believed it would fill a million empty rows of 16384 columns from a file of a few kilobytes.
ROSTER_ROWS_MAX = 100_000
ROSTER_COLUMNS_MAX = 64
HEADERS = {"number": ("number", "编号", "序号", "no"), "name": ("name", "姓名"), "group": ("group", "类别", "分组")}


def _column(headers: list[str], key: str) -> int | None:
    for i, h in enumerate(headers):
        if h.strip().lower() in HEADERS[key]:
            return i
    return None


def parse_roster(rows: Iterable[list[str]]) -> list[tuple[str, str, str]]:
    it = iter(rows)
    try:
        headers = [str(h or "") for h in next(it)]
    except StopIteration:
        raise ApiError(400, "bad_roster", "The roster file is empty.") from None
    number_col, name_col, group_col = (_column(headers, k) for k in ("number", "name", "group"))
    if number_col is None or name_col is None:
        raise ApiError(400, "bad_roster", "The roster needs a number column and a name column (编号, 姓名).")
    out: list[tuple[str, str, str]] = []
    seen: set[str] = set()
    for line, row in enumerate(it, start=2):
        cells = [str(c).strip() if c is not None else "" for c in row]
        if not any(cells):
            continue
        number = cells[number_col] if number_col < len(cells) else ""
        name = cells[name_col] if name_col < len(cells) else ""
        group = cells[group_col] if group_col is not None and group_col < len(cells) else ""
        if not number or not name:
            raise ApiError(400, "bad_roster", "Roster line %(line)s: number and name are both needed.", line=line)
        if name_problem(number, NUMBER_MAX):
            raise ApiError(400, "bad_roster", "Roster line %(line)s: the number must be printable text of at most %(n)s "
                           "characters.", line=line, n=NUMBER_MAX)
        if name_problem(name, NAME_MAX) or (group and name_problem(group, NAME_MAX)):
            raise ApiError(400, "bad_roster", "Roster line %(line)s: a name or group must be printable text of at most "
                           "%(n)s characters.", line=line, n=NAME_MAX)
        if number in seen:
            raise ApiError(400, "bad_roster", "Roster line %(line)s: number %(number)s appears twice.",
                           line=line, number=number)
        seen.add(number)
        out.append((number, name, group))
    return out


def read_roster_file(filename: str, data: bytes) -> list[tuple[str, str, str]]:
    if filename.lower().endswith((".xlsx", ".xlsm")):
        rows: list[list[Any]] = []
        try:
            ws = load_workbook(io.BytesIO(data), read_only=True, data_only=True).active
            # Read as it goes (the sheet is parsed while its rows are read), a bounded width and length.
            for row in ws.iter_rows(values_only=True, max_col=ROSTER_COLUMNS_MAX):
                if len(rows) == ROSTER_ROWS_MAX:
                    raise ApiError(400, "bad_roster", "A roster file holds at most %(n)s lines.", n=ROSTER_ROWS_MAX)
                rows.append(list(row))
        except ApiError:
            raise
        except Exception as exc:  # openpyxl (and the XML parser under it) raise many kinds for a bad file
            raise ApiError(400, "bad_roster", "The Excel file could not be read.") from exc
        return parse_roster(rows)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:
            text = data.decode("gb18030")
        except UnicodeDecodeError as exc:
            raise ApiError(400, "bad_roster", "The CSV file is neither UTF-8 nor GB18030 text.") from exc
    return parse_roster(list(csv.reader(io.StringIO(text))))


def import_roster(s: Session, entries: list[tuple[str, str, str]]) -> int:
    if s.scalar(select(func.count()).select_from(Attendee).where(Attendee.checked_in)):
        raise ApiError(409, "checkin_started", "Check-in has started; the roster can no longer be replaced.")
    s.query(Attendee).delete()
    for number, name, group in entries:
        s.add(Attendee(number=number, name=name, group=group, checked_in=False))
    audit.record(s, "desk", "roster_imported", count=len(entries))
    return len(entries)


def find(s: Session, query: str) -> list[Attendee]:
    q = query.strip()
    if not q:
        return []
    exact = s.get(Attendee, q)
    if exact is not None:
        return [exact]
    return list(s.scalars(select(Attendee).where(Attendee.name.contains(q)).order_by(Attendee.number).limit(20)))


def sign_in(s: Session, number: str, present: bool = True) -> Attendee:
    a = s.get(Attendee, number)
    if a is None:
        raise ApiError(404, "unknown_attendee", "There is no one with this number on the roster.")
    if a.checked_in and present:
        raise ApiError(409, "already_signed_in", "Already signed in.")
    if not a.checked_in and not present:
        raise ApiError(409, "not_signed_in", "Not signed in.")
    a.checked_in = present
    return a


def sign_in_all(s: Session) -> int:
    """Sign in everyone on the roster (a scripted meeting, or a desk that checked a paper list)."""

    n = s.scalar(select(func.count()).select_from(Attendee).where(Attendee.checked_in.is_(False))) or 0
    s.execute(update(Attendee).where(Attendee.checked_in.is_(False)).values(checked_in=True))
    audit.record(s, "desk", "signed_in_all", count=n)
    return n


def totals(s: Session, groups: Sequence[str] = ()) -> dict[str, Any]:
    """应到/实到 on the roster; with `groups` (the rounds' electorates), the same per group, in
    that order, so a meeting of several units sees each unit's 实到."""
    expected = s.scalar(select(func.count()).select_from(Attendee)) or 0
    present = s.scalar(select(func.count()).select_from(Attendee).where(Attendee.checked_in)) or 0
    out: dict[str, Any] = {"expected": expected, "present": present}
    if groups:
        rows = s.execute(select(Attendee.group, func.count(), func.sum(case((Attendee.checked_in, 1), else_=0)))
                         .where(Attendee.group.in_(list(groups))).group_by(Attendee.group)).all()
        found = {g: (int(n), int(p or 0)) for g, n, p in rows}
        out["groups"] = [{"group": g, "expected": found.get(g, (0, 0))[0], "present": found.get(g, (0, 0))[1]}
                         for g in groups]
    return out
