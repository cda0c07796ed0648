"""The services one running tally holds: typed, in one place, instead of loose keys of `app.extensions`.

`create_app` builds a `Services` once and keeps it on the app; views, the live feed and the
command-line helpers reach it with `services()` (inside an app context) or `services(app)`.
The key passphrase never sits here: only `ScoreKeys`, which unlocks score rounds' keys with it.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from flask import current_app

if TYPE_CHECKING:  # types only: every room may import this module without an import cycle
    from flask import Flask

    from keys.identity import Identity
    from tally.hall.kiosks import KioskKeys
    from tally.setup.custody import ScoreKeys
    from tally.setup.meeting import MeetingInfo
    from tally.store.db import Store

EXTENSION = "tally"


def utc_now() -> datetime:
    """The time as the database keeps it: UTC, without a zone."""
    return datetime.now(UTC).replace(tzinfo=None)


@dataclass
class Services:
    """Everything a request or the live feed needs besides the request itself."""

    meeting: MeetingInfo
    store: Store
    identity: Identity
    score_keys: ScoreKeys
    kiosk_keys: KioskKeys
    start_live: Callable[[], None] = field(default=lambda: None)
    # The clock of expiries (pairing offers, sign-in sessions): a parameter, so tests can move it.
    now: Callable[[], datetime] = field(default=utc_now)


def services(app: Flask | None = None) -> Services:
    """The services of `app`, or of the app handling this request."""
    if app is None:

        app = current_app
    found: Services = app.extensions[EXTENSION]
    return found
