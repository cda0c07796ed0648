"""Fixtures for the end-to-end tests: real `tally` and `kiosk` processes over loopback.

A `Fleet` starts processes (each in its own process group, on a free 127.0.0.1 port) and
stops every one of them in the fixture's finalizer, even when the test failed half-way or
left a server suspended.
"""
from __future__ import annotations

import contextlib
import os
import signal
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.harness import KioskProcess, TallyProcess

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "e2e"


class Fleet:
    """The processes one test (or one module) started."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.members: list[TallyProcess | KioskProcess] = []

    def tally(self, meeting_yaml: str, name: str = "tally", **kw: Any) -> TallyProcess:
        t = TallyProcess(self.root / name, meeting_yaml, **kw)
        self.members.append(t)
        return t.start()

    def kiosk(self, name: str, **kw: Any) -> KioskProcess:
        k = KioskProcess(self.root / name, **kw)
        self.members.append(k)
        return k

    def stop_all(self) -> None:
        for p in reversed(self.members):
            if p.proc is not None and p.proc.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(p.proc.pid, signal.SIGCONT)  # a suspended server cannot act on SIGTERM
            try:
                p.stop()
            except Exception:  # keep stopping the others; the test's own failure is what matters
                if p.proc is not None and p.proc.poll() is None:
                    os.killpg(p.proc.pid, signal.SIGKILL)


@pytest.fixture
def fleet(tmp_path: Path) -> Iterator[Fleet]:
    f = Fleet(tmp_path)
    try:
        yield f
    finally:
        f.stop_all()


@pytest.fixture(scope="module")
def module_fleet(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Fleet]:
    f = Fleet(tmp_path_factory.mktemp("e2e"))
    try:
        yield f
    finally:
        f.stop_all()
