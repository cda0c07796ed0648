"""Fixtures for every test.

Keys at rest use scrypt at n = 2^17 (128 MiB, a quarter of a second per key here). Tests that
run in this process write many keys, so they use the smallest cost the loader accepts
(`keys.store.MIN_N`); the cost is stored in each key file, so nothing else changes. Processes
the tests start (`tally init`, `kiosk pair`) pay the real cost, and
`tests/keys/test_store.py::test_keys_are_written_at_full_cost` holds the default.
"""
from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.browser import launched


@pytest.fixture(autouse=True, scope="session")
def _cheap_scrypt() -> Iterator[None]:
    import keys.store

    full = keys.store.SCRYPT_N
    keys.store.SCRYPT_N = keys.store.MIN_N
    yield
    keys.store.SCRYPT_N = full


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """One Chromium per test module (tests/browser.py's flags)."""
    with launched() as b:
        yield b
