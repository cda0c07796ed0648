"""The published schema and the commented examples (one per seed document) agree with the loader."""
from __future__ import annotations

import json
import re
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import yaml

from tally.plan import dump_plan, load_plan, read_mapping
from tally.plan.parse import (
    COMPONENT_KEYS,
    CONDITION_KEYS,
    KINDS,
    ORDER_KEYS,
    PANEL_KEYS,
    POST_KEYS,
    PUBLICITY_KEYS,
    ROUND_KEYS,
    TOP_KEYS,
    TYPED_KEY_KEYS,
)
from tally.rules import count_meeting

ROOT = Path(__file__).resolve().parents[2]
DATA = Path(__file__).parent / "data"

SCHEMA = json.loads((ROOT / "docs" / "meeting.schema.json").read_text(encoding="utf-8"))
EXAMPLES = sorted((ROOT / "docs" / "examples").glob("*.yaml"))
SEEDS = ROOT.parent / "shared" / "seeds"  # beside the repository, where it is checked out


def validate(value: Any, schema: dict[str, Any], where: str = "$") -> None:
    """The subset of JSON Schema 2020-12 that meeting.schema.json uses; AssertionError on a mismatch."""
    if "$ref" in schema:
        validate(value, SCHEMA["$defs"][schema["$ref"].rsplit("/", 1)[1]], where)
    types = {"object": dict, "array": list, "string": str, "boolean": bool}
    kind = schema.get("type")
    if kind == "integer":
        assert isinstance(value, int) and not isinstance(value, bool), f"{where}: not an integer"
    elif kind == "number":
        assert isinstance(value, int | float | Decimal) and not isinstance(value, bool), f"{where}: not a number"
    elif kind:
        assert isinstance(value, types[kind]), f"{where}: not a {kind}"
    if "const" in schema:
        assert value == schema["const"], f"{where}: not {schema['const']}"
    if "enum" in schema:
        assert value in schema["enum"], f"{where}: {value!r} not in {schema['enum']}"
    if isinstance(value, str):
        assert len(value) >= schema.get("minLength", 0), where
        assert len(value) <= schema.get("maxLength", 10**9), where
        if "pattern" in schema:
            assert re.search(schema["pattern"], value), f"{where}: {value!r} !~ {schema['pattern']}"
    if isinstance(value, int) and "minimum" in schema:
        assert value >= schema["minimum"], where
    if isinstance(value, int) and "maximum" in schema:
        assert value <= schema["maximum"], where
    if isinstance(value, list):
        assert len(value) >= schema.get("minItems", 0), f"{where}: too few items"
        if schema.get("uniqueItems"):
            assert len({json.dumps(v, default=str) for v in value}) == len(value), f"{where}: repeated item"
        for i, item in enumerate(value):
            if "items" in schema:
                validate(item, schema["items"], f"{where}[{i}]")
    if isinstance(value, dict):
        for key in schema.get("required", []):
            assert key in value, f"{where}: {key} is required"
        assert len(value) >= schema.get("minProperties", 0), where
        properties = schema.get("properties", {})
        for key, item in value.items():
            if key in properties:
                validate(item, properties[key], f"{where}.{key}")
            elif schema.get("additionalProperties") is False:
                raise AssertionError(f"{where}: unknown key {key}")
            elif isinstance(schema.get("additionalProperties"), dict):
                validate(item, schema["additionalProperties"], f"{where}.{key}")
    if "anyOf" in schema:
        assert sum(_ok(value, s) for s in schema["anyOf"]) >= 1, f"{where}: matches none of anyOf"
    if "oneOf" in schema:
        assert sum(_ok(value, s) for s in schema["oneOf"]) == 1, f"{where}: must match exactly one of oneOf"


def _ok(value: Any, schema: dict[str, Any]) -> bool:
    try:
        validate(value, schema)
    except AssertionError:
        return False
    return True


def _defs_keys(name: str) -> tuple[str, ...]:
    return tuple(SCHEMA["$defs"][name]["properties"])


def test_schema_names_exactly_the_keys_the_loader_accepts():
    assert set(SCHEMA["properties"]) == set(TOP_KEYS)
    assert SCHEMA["$defs"]["round"]["properties"]["kind"]["enum"] == list(KINDS)
    for kind in KINDS:
        assert set(_defs_keys(kind)) == set(ROUND_KEYS[kind]), kind
    assert set(_defs_keys("post")) == set(POST_KEYS)
    assert set(_defs_keys("component")) == set(COMPONENT_KEYS)
    for name, keys in (("publicity", PUBLICITY_KEYS), ("panel", PANEL_KEYS), ("condition", CONDITION_KEYS),
                       ("order", ORDER_KEYS), ("typed_key", TYPED_KEY_KEYS)):
        assert set(_defs_keys(name)) == set(keys), name


def test_one_commented_example_per_seed_document():
    seeds = sorted(p.name[:3] for p in SEEDS.glob("*.txt")) if SEEDS.exists() else ["000", "001", "002", "003", "004"]
    assert [p.name[:3] for p in EXAMPLES] == seeds
    for path in EXAMPLES:
        text = path.read_text(encoding="utf-8")
        assert text.startswith(f"# Seed {path.name[:3]}: ")
        assert sum(1 for line in text.splitlines() if "#" in line) >= 8, path.name  # commented throughout


@pytest.mark.parametrize("path", [*EXAMPLES, DATA / "contract.yaml"], ids=lambda p: p.name)
def test_examples_load_validate_and_count(path):
    plan = load_plan(path)
    validate(read_mapping(path), SCHEMA)
    validate(json.loads(json.dumps(dump_plan(plan))), SCHEMA)
    doc = count_meeting(plan, [])
    assert [r["id"] for r in doc["rounds"]] == [r.id for r in plan.rounds]
    assert load_plan(path) == plan


def test_the_validator_refuses_what_the_schema_forbids():
    good = yaml.safe_load((DATA / "contract.yaml").read_text(encoding="utf-8"))
    validate(good, SCHEMA)
    for change in (lambda d: d["rounds"][0].update(kind="vote"), lambda d: d["rounds"][0].update(typo=1),
                   lambda d: d["rounds"][0]["posts"][0].update(seats=0),
                   lambda d: d["rounds"][4]["components"][0].update(round="s1"),
                   lambda d: d["rounds"][3].update(step="0,1")):
        bad = json.loads(json.dumps(good))
        change(bad)
        with pytest.raises(AssertionError):
            validate(bad, SCHEMA)
