"""A red team of issue 8's hostile-input work: each test is an attack that got through it.

In-process where the thing attacked is the tally's app (Flask's and Flask-SocketIO's test
clients over a real data directory and SQLite), real commands where it is a terminal (`tally
count`, `keys verify-box`, `kiosk pair`), a real tally where it is an answer on the wire.
"""
from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.tally.conftest import MEETING

from .test_sessions import Tally, make_tally


@pytest.fixture
def tally(tmp_path: Path) -> Iterator[Tally]:
    yield from make_tally(tmp_path, MEETING)


def _states(sock: Any) -> list[Any]:
    return [m["args"][0] for m in sock.get_received("/live") if m["name"] == "state"]


def _next_state(sock: Any, timeout: float = 5.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        got = _states(sock)
        if got:
            return got[-1]
        time.sleep(0.02)
    raise AssertionError("no state pushed")


def test_a_console_socket_hears_nothing_once_its_session_is_signed_out_or_expired(tally: Tally) -> None:
    """Before: a Socket.IO connection opened with the chair's cookie (or a copy of it) stayed in
    the console's audience for good, and kept receiving the console's state (kiosks, cards,
    counted results before they are shown) after sign-out and after the session expired."""
    from tally.show.feed import socketio

    def printed(n: int) -> None:  # a change the console hears about
        assert tally.client().post("/api/v1/admin/cards", json={"count": n}, headers=tally.admin).status_code == 201

    cli = socketio.test_client(tally.app, namespace="/live", headers=tally.admin)  # the command line's feed
    browser, csrf = tally.chair()
    thief = tally.client()
    thief.set_cookie("scrutineer_session", browser.get_cookie("scrutineer_session").value)
    stolen = socketio.test_client(tally.app, namespace="/live", flask_test_client=thief)
    assert cli.is_connected("/live") and stolen.is_connected("/live")
    printed(1)
    assert _next_state(stolen)["cards"]["printed"] == 1  # heard while the session lives
    _next_state(cli)

    assert browser.post("/console/logout", data={"csrf": csrf}).status_code == 302
    printed(2)
    assert _next_state(cli)["cards"]["printed"] == 3  # the tick went out ...
    assert _states(stolen) == []  # ... and not to the signed-out session's socket

    # An hour idle ends a session, and its socket's hearing with it.
    browser, _ = tally.chair()
    idle = socketio.test_client(tally.app, namespace="/live", flask_test_client=browser)
    printed(1)
    assert _next_state(idle)["cards"]["printed"] == 4
    _next_state(cli)
    tally.clock.advance(minutes=61)
    printed(1)
    assert _next_state(cli)["cards"]["printed"] == 5
    assert _states(idle) == []
    for sock in (cli, stolen, idle):
        sock.disconnect(namespace="/live")
