"""Shared fixtures for the rules engine, the meeting file and `tally count` tests."""
from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner

DATA = Path(__file__).parent / "data"


@pytest.fixture
def contract_meeting() -> Path:
    """The meeting file of CONTRACT.md."""
    return DATA / "contract.yaml"


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


@pytest.fixture
def write_meeting(tmp_path: Path) -> Callable[[Any, str], Path]:
    """Write a meeting mapping (or YAML text) to a file and return its path."""
    def write(content: Any, name: str = "meeting.yaml") -> Path:
        path = tmp_path / name
        if isinstance(content, str):
            path.write_text(content, encoding="utf-8")
        elif name.endswith(".json"):
            path.write_text(json.dumps(content, ensure_ascii=False), encoding="utf-8")
        else:
            path.write_text(yaml.safe_dump(content, allow_unicode=True, sort_keys=False), encoding="utf-8")
        return path
    return write


@pytest.fixture
def write_ballots(tmp_path: Path) -> Callable[[Iterable[Any], str], Path]:
    """Write ballots (dicts become JSON lines, strings are written as they are) to a file."""
    def write(ballots: Iterable[Any], name: str = "ballots.jsonl") -> Path:
        path = tmp_path / name
        with path.open("w", encoding="utf-8") as f:
            for b in ballots:
                f.write(b if isinstance(b, str) else json.dumps(b, ensure_ascii=False) + "\n")
        return path
    return write


@pytest.fixture(scope="session")
def contract_plan():
    """The plan of CONTRACT.md's meeting file."""
    from tally.plan import load_plan

    return load_plan(DATA / "contract.yaml")
