"""``RequestError``: a request the server refuses, with the HTTP status and a message for the client."""

from __future__ import annotations


class RequestError(Exception):
    """A client error: answered as ``{"error": message}`` with ``status`` (a 4xx code).

    Args:
        status: the HTTP status code (400 bad request, 413 too large, ...).
        message: what was expected, what came, and where.
    """

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status
        self.message = message
