"""The security headers of every answer of the tally: a strict Content-Security-Policy and the rest.

Pages run only the scripts and styles served from `static/` (no inline script, no inline event
handler, no inline style attribute, no `eval`), load images from here or `data:` (QR codes),
connect only back to the tally (the JSON API and the Socket.IO feed), and may not be framed.
Nothing is cached: pages and answers carry role tokens, card codes and results. Static files
may be cached (they hold no data).

The live feed's endpoint (`/socket.io/`) answers before Flask does, so `wrap_wsgi` puts the same
headers on its answers too: without them its polling answers (plain text, some echoing the
request) were a same-origin script that `script-src 'self'` would have let a page run.
"""
from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Final

from flask import Flask, Response, request

CSP: Final = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
              "connect-src 'self'; font-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'")
HEADERS: Final = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
}


def secure_headers(resp: Response) -> Response:
    for name, value in HEADERS.items():
        resp.headers.setdefault(name, value)
    if request.endpoint != "static":
        resp.headers["Cache-Control"] = "no-store"
    return resp


def init_app(app: Flask) -> None:
    app.after_request(secure_headers)


class _EveryAnswer:
    """WSGI middleware: the security headers (and `no-store`) on every answer that lacks them."""

    def __init__(self, app: Any) -> None:
        self.app = app

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        def start(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            have = {name.lower() for name, _ in headers}
            extra = {**HEADERS, "Cache-Control": "no-store"}
            headers = [*headers, *((k, v) for k, v in extra.items() if k.lower() not in have)]
            return start_response(status, headers, exc_info) if exc_info else start_response(status, headers)

        return self.app(environ, start)


def wrap_wsgi(app: Flask) -> None:
    """After the live feed is set up (its middleware answers `/socket.io/` before Flask)."""
    app.wsgi_app = _EveryAnswer(app.wsgi_app)  # type: ignore[method-assign]
