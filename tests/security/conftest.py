"""What the security suite shares: live processes per module, Debian's Chromium, database dumps, and
a watch on every page for a payload that ran (a dialog, a request to another origin, a
Content-Security-Policy violation, a script error).

Each test here is a finding of the hostile review (issue 8) written as an attack; each failed
against the code before the fix (see docs/security.md, "What an attacker can and cannot do").
"""
from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from tests.e2e.conftest import Fleet
from tests.tally.conftest import admin_headers, app, client, meeting_dir

# The tally's in-process fixtures (a real data directory and SQLite, Flask's test client), here too.
__all__ = ["admin_headers", "app", "client", "meeting_dir"]

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "security"


@pytest.fixture(scope="module")
def module_fleet(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Fleet]:
    f = Fleet(tmp_path_factory.mktemp("security"))
    try:
        yield f
    finally:
        f.stop_all()



def sql_dump(path: Path) -> list[str]:
    """Every row of a SQLite database as SQL (read-only: the server may be running)."""
    con = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=10)
    try:
        return list(con.iterdump())
    finally:
        con.close()


class Watch:
    """Pages of one browser, each watched for a payload that ran: a dialog that is not one of the
    page's own confirmations, a request to any origin but the hall's, a CSP violation, a script
    error. `origins` are the tally's and the kiosk's (scheme://host:port)."""

    def __init__(self, browser: Any, origins: list[str]) -> None:
        self.browser = browser
        self.origins = {o.rstrip("/") for o in origins}
        self.contexts: list[Any] = []
        self.dialogs: list[str] = []
        self.offsite: list[str] = []
        self.violations: list[str] = []
        self.script_errors: list[str] = []

    def context(self) -> Any:
        ctx = self.browser.new_context(viewport={"width": 1366, "height": 900}, locale="zh-CN")
        self.contexts.append(ctx)
        return ctx

    def page(self, ctx: Any, *, confirm: bool = False) -> Any:
        pg = ctx.new_page()
        pg.set_default_timeout(15000)

        def dialog(d: Any) -> None:
            if not (confirm and d.type == "confirm"):
                self.dialogs.append(f"{d.type}: {d.message}")
            d.accept()

        def request(r: Any) -> None:
            u = urlsplit(r.url)
            if u.scheme in ("data", "blob"):
                return
            if f"{u.scheme}://{u.netloc}" not in self.origins:
                self.offsite.append(r.url)

        def console(m: Any) -> None:
            if "Content Security Policy" in m.text or "Content-Security-Policy" in m.text:
                self.violations.append(m.text)

        pg.on("dialog", dialog)
        pg.on("request", request)
        pg.on("console", console)
        pg.on("pageerror", lambda e: self.script_errors.append(f"{pg.url}: {e}"))
        return pg

    def shot(self, page: Any, name: str) -> None:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)

    def nothing_ran(self) -> None:
        assert self.dialogs == [], "a payload opened a dialog"
        assert self.offsite == [], "a payload made a request to another origin"
        assert self.violations == [], "something tried to run or load against the Content-Security-Policy"
        assert self.script_errors == [], "a page's own script failed"

    def close(self) -> None:
        for ctx in self.contexts:
            ctx.close()
