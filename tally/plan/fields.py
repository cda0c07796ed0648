"""Reading one field of a meeting file, with an error that names its place when it is wrong.

A `Node` wraps one mapping of the file with its path (`rounds[0].posts[1]`) so that every
problem comes out as `file:line: rounds[0].posts[1].seats: must be at least 1`. No I/O.
"""
from __future__ import annotations

import difflib
import re
from collections.abc import Mapping, Sequence
from decimal import Decimal, InvalidOperation
from typing import Any, Final, NoReturn

from tally.plan.errors import PlanError
from tally.plan.nodes import line_of
from tally.rules.errors import ThresholdError
from tally.rules.names import NAME_MAX, TITLE_MAX, name_problem
from tally.rules.presets import resolve
from tally.rules.threshold import Threshold

ID: Final = re.compile(r"[A-Za-z0-9_-]+")
_MISSING: Final = object()


def _number(value: object) -> Decimal:
    """A number of the plan as an exact Decimal. A float (from a mapping some other reader made)
    is taken by its shortest repr, which is the literal that was written."""
    if isinstance(value, bool):
        raise ValueError("a number is expected, not true/false")
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, float):
        value = repr(value)
    if isinstance(value, Decimal):
        result = value
    elif isinstance(value, str) and re.fullmatch(r"\s*-?\d+(\.\d+)?\s*", value):
        try:
            result = Decimal(value.strip())
        except InvalidOperation as exc:
            raise ValueError(f"{value!r} is not a decimal number") from exc
    else:
        raise ValueError(f"{value!r} is not a decimal number")
    if not result.is_finite():
        raise ValueError("the number must be finite")
    return result


class Node:
    """One mapping of the meeting file and where it is."""

    def __init__(self, data: object, path: str, source: str, parent: object = None, key: object = None) -> None:
        self.source = source
        self.path = path
        if not isinstance(data, Mapping):
            raise PlanError(source, f"must be a mapping (key: value), not {_kind(data)}",
                            line_of(parent, key) if parent is not None else line_of(data), path or "file")
        self.data: Mapping[str, Any] = data

    def fail(self, key: str | None, problem: str, index: int | None = None) -> NoReturn:
        where = self.path if key is None else (f"{self.path}.{key}" if self.path else key)
        line = line_of(self.data, key) if key is not None else line_of(self.data)
        if index is not None:
            where = f"{where}[{index}]"
            item = self.data.get(key) if key is not None else None
            line = line_of(item, index) or line
        raise PlanError(self.source, problem, line, where)

    def child(self, key: str, value: object, index: int | None = None) -> Node:
        path = f"{self.path}.{key}" if self.path else key
        if index is None:
            return Node(value, path, self.source, self.data, key)
        return Node(value, f"{path}[{index}]", self.source, self.data.get(key), index)

    def only(self, allowed: Sequence[str], open_keys: bool = False) -> None:
        """Refuse keys the format does not know (a typo must not be silently ignored)."""
        if open_keys:
            return
        for key in self.data:
            if key not in allowed:
                hint = difflib.get_close_matches(str(key), allowed, n=1)
                tip = f" (did you mean {hint[0]!r}?)" if hint else f" (known: {', '.join(allowed)})"
                self.fail(str(key), f"unknown key {key!r}{tip}")

    def has(self, key: str) -> bool:
        return self.data.get(key) is not None

    def raw(self, key: str, default: object = _MISSING) -> Any:
        value = self.data.get(key)
        if value is None:
            if default is _MISSING:
                self.fail(None, f"{key!r} is required")
            return default
        return value

    def string(self, key: str, default: object = _MISSING, pattern: re.Pattern[str] | None = None) -> Any:
        value = self.raw(key, default)
        if value is default and default is not _MISSING:
            return value
        if not isinstance(value, str) or not value.strip():
            self.fail(key, f"must be a non-empty string, not {_kind(value)}")
        if pattern is not None and not pattern.fullmatch(value):
            self.fail(key, f"{_shown(value)} may use only letters, digits, - and _")
        if pattern is None:
            self.check_text(key, value, TITLE_MAX)
        return value

    def check_text(self, key: str, value: str, limit: int, index: int | None = None) -> None:
        """A title or a name: the one rule of `tally.rules.names` (printable, trimmed, at most `limit`)."""
        problem = name_problem(value, limit)
        if problem is None and value != value.strip():
            problem = "has white space at its start or end"
        if problem is not None:
            self.fail(key, f"{_shown(value)} {problem}", index)

    def integer(self, key: str, default: object = _MISSING, minimum: int | None = None) -> Any:
        value = self.raw(key, default)
        if value is default and default is not _MISSING:
            return value
        if isinstance(value, bool) or not isinstance(value, int):
            self.fail(key, f"must be a whole number, not {_kind(value)}")
        if minimum is not None and value < minimum:
            self.fail(key, f"must be at least {minimum}, not {value}")
        return value

    def boolean(self, key: str, default: bool) -> bool:
        value = self.raw(key, default)
        if not isinstance(value, bool):
            self.fail(key, f"must be true or false, not {_kind(value)}")
        return value

    def choice(self, key: str, choices: Sequence[str], default: str) -> Any:
        value = self.raw(key, default)
        if value not in choices:
            self.fail(key, f"must be one of {', '.join(choices)}, not {value!r}")
        return value

    def decimal(self, key: str, default: object = _MISSING) -> Any:
        value = self.raw(key, default)
        if value is default and default is not _MISSING:
            return value
        try:
            return _number(value)
        except ValueError as exc:
            self.fail(key, str(exc))

    def numbers(self, key: str, length: int) -> tuple[Decimal, ...]:
        """A list of exactly `length` numbers (one per grade, say)."""
        value = self.raw(key)
        if not isinstance(value, list) or len(value) != length:
            self.fail(key, f"must be a list of {length} numbers")
        out = []
        for i, item in enumerate(value):
            try:
                out.append(_number(item))
            except ValueError as exc:
                self.fail(key, str(exc), i)
        return tuple(out)

    def names(self, key: str, default: object = _MISSING, allow_empty: bool = False) -> Any:
        """A list of distinct names (candidates, subjects, grades...)."""
        value = self.raw(key, default)
        if value is default and default is not _MISSING:
            return value
        if not isinstance(value, list):
            self.fail(key, f"must be a list of names, not {_kind(value)}")
        if not value and not allow_empty:
            self.fail(key, "must name at least one")
        seen: set[str] = set()
        for i, name in enumerate(value):
            if not isinstance(name, str) or not name.strip():
                self.fail(key, f"{_shown(name)} is not a name (a non-empty string)", i)
            self.check_text(key, name, NAME_MAX, i)
            if name in seen:
                self.fail(key, f"{name!r} is listed twice", i)
            seen.add(name)
        return tuple(value)

    def threshold(self, key: str, presets: Mapping[str, str], default: str | None = None,
                  preset_key: str | None = None) -> Threshold | None:
        """A threshold string, or a preset name (under `key` or under `preset_key`)."""
        given = self.data.get(key)
        named = self.data.get(preset_key) if preset_key else None
        if given is not None and named is not None:
            self.fail(preset_key, f"give either {key!r} or {preset_key!r}, not both")
        if named is not None:
            if not isinstance(named, str):
                self.fail(preset_key, f"must be a preset name, not {_kind(named)}")
            return self._resolve(preset_key or key, named, presets)
        if given is None:
            return None if default is None else Threshold.parse(default)
        if not isinstance(given, str):
            self.fail(key, f'must be a string such as ">=1/3" or ">=80%", not {_kind(given)}')
        if given.strip() in presets:
            return self._resolve(key, given.strip(), presets)
        try:
            return Threshold.parse(given)
        except ThresholdError as exc:
            self.fail(key, str(exc))

    def _resolve(self, key: str, name: str, presets: Mapping[str, str]) -> Threshold:
        try:
            return resolve(name, presets)
        except ThresholdError as exc:
            self.fail(key, str(exc))


def _shown(value: object) -> str:
    """A value as an error message shows it: quoted, control and format characters escaped, cut short."""
    text = repr(value) if not isinstance(value, str) or value.isprintable() else ascii(value)
    return text if len(text) <= 80 else text[:77] + "..."


def _kind(value: object) -> str:
    """How a wrong value is named in an error: its kind for containers, else itself."""
    if value is None:
        return "nothing"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, Mapping):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    return repr(value)
