"""Mappings and lists that remember the lines they came from, so errors can name a line.

The YAML loader builds these; a plain dict (JSON, or a mapping from the database) simply has
no lines, and errors then name the path only. No I/O.
"""
from __future__ import annotations

from typing import Any


class LineDict(dict[Any, Any]):
    """A mapping with `line` (its first line) and `lines` (key → the line of that key)."""

    line: int | None = None

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.lines: dict[Any, int] = {}


class LineList(list[Any]):
    """A list with `line` (its first line) and `lines` (index → the line of that item)."""

    line: int | None = None

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.lines: list[int] = []


def line_of(node: object, key: object = None) -> int | None:
    """The line of `node[key]` if known, else the line of `node`, else None."""
    lines = getattr(node, "lines", None)
    if key is not None and lines is not None:
        if isinstance(lines, dict) and key in lines:
            return lines[key]
        if isinstance(lines, list) and isinstance(key, int) and 0 <= key < len(lines):
            return lines[key]
    return getattr(node, "line", None)
