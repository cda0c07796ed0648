"""The security headers of every answer of the tally: a strict Content-Security-Policy and the rest.

Pages run only the scripts and styles served from `static/` (no inline script, no inline event
handler, no inline style attribute, no `eval`), load images from here or `data:` (QR codes),
connect only back to the tally (the JSON API and the Socket.IO feed), and may not be framed.
Nothing is cached: pages and answers carry role tokens, card codes and results. Static files
may be cached (they hold no data).
"""
from __future__ import annotations

from typing import Final

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
