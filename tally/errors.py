"""A refusal with a stable machine code: what every service of the tally raises when it says no.

Services raise `ApiError(status, code, message)`; the web layer (`tally.web.errors`) turns it
into `{"error": {"code", "message"}}` with its 4xx status, or a page. Messages are English
msgids of the translation layer, translated when they are answered. No Flask here.
"""
from __future__ import annotations


class ApiError(Exception):
    """A refusal with a stable machine code and a message a chair understands.

    `details` (a subclass's) are further msgids with their parameters, each one thing found wrong
    (`tally.box.checking.BoxTampered`): the web layer adds the first to the message and answers
    them all as `details`."""

    details: tuple[tuple[str, dict[str, object]], ...] = ()

    def __init__(self, status: int, code: str, message: str, **params: object) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.params = params
