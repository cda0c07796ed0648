"""What every browser test shares: Debian's Chromium with the flags this machine needs, and a
wait that works under the pages' Content-Security-Policy.

Playwright's `wait_for_function` evaluates its predicate with eval() inside the page, which the
pages' CSP forbids (as it should): `wait_js` polls `page.evaluate` instead.
"""
from __future__ import annotations

import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.support import wait_for

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]


def require_chromium() -> None:
    """Skip the test, saying why, on a machine without Debian's Chromium (`make test` installs it)."""
    if not Path(CHROMIUM).exists() or shutil.which("chromium") is None:
        pytest.skip("Debian's chromium is not installed")


@contextmanager
def launched(*extra_args: str) -> Iterator[Any]:
    """Debian's Chromium through Playwright (no `playwright install`), headless; skips the test
    where it is not installed. `extra_args` add flags (a fake camera, say)."""
    require_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=[*CHROMIUM_ARGS, *extra_args])
        try:
            yield b
        finally:
            b.close()


def wait_js(page: Any, expression: str, timeout: float = 15.0) -> Any:
    """Poll `expression` in the page until it is truthy; its value."""
    return wait_for(lambda: page.evaluate(expression) or None, expression, timeout, every=0.05)
