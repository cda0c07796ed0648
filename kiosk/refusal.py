"""`Refusal`: a request from the kiosk's page that the kiosk will not carry out.

One error type for the voter's and the judge's screens alike: a stable code, an HTTP status and
an English msgid with its parameters, translated by the app when it answers. No I/O.
"""
from __future__ import annotations


class Refusal(Exception):
    """A request the kiosk will not carry out; `message` is an English msgid with `params`."""

    def __init__(self, code: str, message: str, status: int = 400, **params: str | int) -> None:
        super().__init__(code)
        self.code = code
        self.message = message
        self.status = status
        self.params = params
