"""Shared checks on the shape of one ballot line (a JSON object), before any rule applies.

Only input errors live here: unknown fields, wrong types. Pure.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from tally.rules.errors import BallotInputError


def check_fields(obj: Mapping[str, Any], allowed: frozenset[str]) -> None:
    for key in obj:
        if key not in allowed:
            raise BallotInputError(f"unknown field {key!r} in a ballot of this kind "
                                   f"(allowed: {', '.join(sorted(allowed))})")


def marked_invalid(obj: Mapping[str, Any]) -> bool:
    """`{"round": ..., "invalid": true}`: a returned ballot nobody can read (paper)."""
    flag = obj.get("invalid", False)
    if type(flag) is not bool:
        raise BallotInputError('"invalid" must be true or false')
    if flag and len(obj) != 2:
        extra = sorted(k for k in obj if k not in ("round", "invalid"))
        raise BallotInputError(f"a ballot marked invalid carries no choices (found {', '.join(extra)})")
    return flag


def mapping_of(obj: Mapping[str, Any], field: str) -> Mapping[str, Any] | None:
    value = obj.get(field)
    if value is None:
        return None
    if type(value) is not dict:
        raise BallotInputError(f'"{field}" must be an object')
    return value


def unknown_key(given: Iterable[str], known: frozenset[str], what: str) -> None:
    for key in given:
        if key not in known:
            raise BallotInputError(f"{what} {key!r} is not in the meeting file")


def name_error(value: object, where: str, why: str = "must be a non-empty string") -> BallotInputError:
    shown = ascii(value) if isinstance(value, str) else repr(value)
    return BallotInputError(f"{where}: {shown[:80]} is not a name ({why})")
