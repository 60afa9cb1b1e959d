"""``RequestError``: a request the server refuses, with the HTTP status and a message for the client."""

from __future__ import annotations

from ..errors import PayloadError


class RequestError(PayloadError):
    """A client error: answered as ``{"error": message}`` with ``status`` (a 4xx code, or 503 when busy).

    A :class:`ember.errors.PayloadError` (so a ``ValueError``) for code that reads payloads outside the server.

    Args:
        status: the HTTP status code (400 bad request, 408 too slow, 413 too large, 503 busy, ...).
        message: what was expected, what came, and where.
        headers: extra response headers (``Retry-After``, ``Connection: close``).
    """

    def __init__(self, status: int, message: str, headers=None):
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = dict(headers or {})

    def __reduce__(self):
        return (type(self), (self.status, self.message, self.headers))
