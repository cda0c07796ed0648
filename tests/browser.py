"""What every browser test shares: Debian's Chromium with the flags this machine needs, and a
wait that works under the pages' Content-Security-Policy.

Playwright's `wait_for_function` evaluates its predicate with eval() inside the page, which the
pages' CSP forbids (as it should): `wait_js` polls `page.evaluate` instead.
"""
from __future__ import annotations

from typing import Any

from tests.e2e.support import wait_for

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]


def wait_js(page: Any, expression: str, timeout: float = 15.0) -> Any:
    """Poll `expression` in the page until it is truthy; its value."""
    return wait_for(lambda: page.evaluate(expression) or None, expression, timeout, every=0.05)
