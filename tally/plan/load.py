"""Reading a meeting file (YAML, or JSON by its `.json` suffix) into a validated plan.

The only module of `tally.plan`/`tally.rules` that reads a file. Numbers keep their exact
decimal text (YAML `0.1` becomes Decimal("0.1"), never a float), duplicate keys are refused,
and every mapping remembers its lines so that errors name them.
"""
from __future__ import annotations

import json
from decimal import Decimal, InvalidOperation
from os import PathLike
from pathlib import Path
from typing import Any

import yaml

from tally.plan.errors import PlanError
from tally.plan.nodes import LineDict, LineList
from tally.plan.parse import parse_plan
from tally.rules.model import Plan

MAX_BYTES = 16 * 1024 * 1024


class _FileProblem(Exception):
    def __init__(self, problem: str, line: int | None) -> None:
        super().__init__(problem)
        self.problem, self.line = problem, line


class _Loader(yaml.SafeLoader):
    """SafeLoader that records lines, refuses duplicate keys and keeps decimals exact."""


def _mapping(loader: _Loader, node: yaml.MappingNode) -> LineDict:
    loader.flatten_mapping(node)
    out = LineDict()
    out.line = node.start_mark.line + 1
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        line = key_node.start_mark.line + 1
        if not isinstance(key, str | int | bool | Decimal):
            raise _FileProblem("a key must be a plain word or number", line)
        if key in out:
            raise _FileProblem(f"key {key!r} appears twice in one mapping", line)
        out[key] = loader.construct_object(value_node, deep=True)
        out.lines[key] = line
    return out


def _sequence(loader: _Loader, node: yaml.SequenceNode) -> LineList:
    out = LineList()
    out.line = node.start_mark.line + 1
    for item in node.value:
        out.append(loader.construct_object(item, deep=True))
        out.lines.append(item.start_mark.line + 1)
    return out


def _decimal(loader: _Loader, node: yaml.ScalarNode) -> Decimal:
    text = str(loader.construct_scalar(node)).replace("_", "")
    try:
        value = Decimal(text)
    except InvalidOperation:
        value = Decimal("NaN")
    if not value.is_finite():
        raise _FileProblem(f"{text!r} is not a finite number", node.start_mark.line + 1)
    return value


_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping)
_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_SEQUENCE_TAG, _sequence)
_Loader.add_constructor("tag:yaml.org,2002:float", _decimal)


def _pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise _FileProblem(f"key {key!r} appears twice in one object", None)
        out[key] = value
    return out


def _no_constant(name: str) -> Any:
    raise _FileProblem(f"{name} is not a number a meeting file can use", None)


def read_mapping(path: str | PathLike[str]) -> Any:
    """The file's content as plain data (mappings remember their lines); PlanError if unreadable."""
    source = str(path)
    file = Path(path)
    try:
        size = file.stat().st_size
        if size > MAX_BYTES:
            raise PlanError(source, f"is {size} bytes; a meeting file is at most {MAX_BYTES}")
        text = file.read_bytes().decode("utf-8-sig")
    except OSError as exc:
        raise PlanError(source, f"cannot be read: {exc.strerror or exc}") from None
    except UnicodeDecodeError as exc:
        raise PlanError(source, f"is not UTF-8 text (byte {exc.start})") from None
    try:
        if file.suffix.lower() == ".json":
            return json.loads(text, object_pairs_hook=_pairs, parse_float=Decimal, parse_constant=_no_constant)
        return yaml.load(text, Loader=_Loader)
    except _FileProblem as exc:
        raise PlanError(source, exc.problem, exc.line) from None
    except json.JSONDecodeError as exc:
        raise PlanError(source, f"not valid JSON: {exc.msg} (column {exc.colno})", exc.lineno) from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        problem = " ".join(str(p) for p in (exc.context, exc.problem) if p)
        raise PlanError(source, f"not valid YAML: {problem}", mark.line + 1 if mark else None) from None
    except yaml.YAMLError as exc:
        raise PlanError(source, f"not valid YAML: {exc}") from None
    except RecursionError:
        raise PlanError(source, "is nested too deeply to be a meeting file") from None
    except ValueError as exc:  # e.g. an integer too long to convert
        raise PlanError(source, f"cannot be read: {exc}") from None


def load_plan(path: str | PathLike[str]) -> Plan:
    """The validated plan of a meeting file; PlanError (one line: file, line, problem) otherwise."""
    data = read_mapping(path)
    if data is None:
        raise PlanError(str(path), "is empty")
    return parse_plan(data, str(path))
