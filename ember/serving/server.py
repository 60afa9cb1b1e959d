"""``serve``: run the model server with uvicorn (what ``ember serve`` calls).

On top of the app's own limits (:func:`ember.serving.create_app`), uvicorn's
connection limits are set here: a request's head (request line and headers)
must arrive within ``header_timeout_s`` and fit in ``max_header_bytes``; an idle
keep-alive connection is closed after ``keep_alive_timeout_s``.
"""

from __future__ import annotations

import logging

from .app import (
    DEFAULT_BODY_TIMEOUT_S,
    DEFAULT_MAX_BODY_BYTES,
    DEFAULT_MAX_CONCURRENT,
    DEFAULT_MAX_INSTANCES,
    create_app,
)
from .limits import SERVE_DEFAULTS

DEFAULT_HEADER_TIMEOUT_S = SERVE_DEFAULTS["header_timeout_s"]
DEFAULT_KEEP_ALIVE_TIMEOUT_S = SERVE_DEFAULTS["keep_alive_timeout_s"]
DEFAULT_MAX_HEADER_BYTES = SERVE_DEFAULTS["max_header_bytes"]

logger = logging.getLogger("ember.serving")


def header_timeout_protocol(timeout_s: float):
    """uvicorn's h11 protocol class with a deadline on each request's head.

    uvicorn times out idle keep-alive connections but not a client that sends
    its request line and headers a byte at a time (or nothing after
    connecting): this class closes such a connection ``timeout_s`` after it
    opened or after the first byte of a new request head, whichever is later.
    Pass it as ``uvicorn.Config(..., http=header_timeout_protocol(10.0))``.
    """
    import h11
    from uvicorn.protocols.http.h11_impl import H11Protocol

    class HeaderTimeoutH11Protocol(H11Protocol):
        _head_timer = None

        def connection_made(self, transport):
            super().connection_made(transport)
            self._arm()

        def data_received(self, data):
            super().data_received(data)
            if self.conn.their_state is h11.IDLE:  # still waiting for (the rest of) a request head
                if self._head_timer is None and data:
                    self._arm()
            else:  # the head is in: the app's body timeout takes over
                self._disarm()

        def connection_lost(self, exc):
            self._disarm()
            super().connection_lost(exc)

        def _arm(self):
            self._disarm()
            self._head_timer = self.loop.call_later(timeout_s, self._head_timeout)

        def _disarm(self):
            if self._head_timer is not None:
                self._head_timer.cancel()
                self._head_timer = None

        def _head_timeout(self):
            self._head_timer = None
            if self.transport.is_closing() or self.conn.their_state is not h11.IDLE:
                return
            if self.cycle is not None and not self.cycle.response_complete:
                return  # a response is still being written; its own cycle ends the connection
            logger.info("closing connection from %s: no complete request head within %g s", _peer(self), timeout_s)
            try:
                self.conn.send(h11.ConnectionClosed())
            except h11.LocalProtocolError:
                pass
            self.transport.close()

    return HeaderTimeoutH11Protocol


def _peer(protocol) -> str:
    client = getattr(protocol, "client", None)
    return f"{client[0]}:{client[1]}" if client else "a client"


def serve(
    model_path,
    host="127.0.0.1",
    port=8000,
    max_batch_size=32,
    batch_timeout_ms=2.0,
    max_body_bytes=DEFAULT_MAX_BODY_BYTES,
    allow_nonfinite=False,
    log_level="info",
    max_instances=DEFAULT_MAX_INSTANCES,
    max_concurrent=DEFAULT_MAX_CONCURRENT,
    body_timeout_s=DEFAULT_BODY_TIMEOUT_S,
    header_timeout_s=DEFAULT_HEADER_TIMEOUT_S,
    keep_alive_timeout_s=DEFAULT_KEEP_ALIVE_TIMEOUT_S,
    max_header_bytes=DEFAULT_MAX_HEADER_BYTES,
):
    """Serve a saved model over HTTP until interrupted (Ctrl-C).

    Args:
        model_path: a ``.keras`` (or ``.h5``) file, or a built Ember model.
        host: the address to listen on; the default answers this machine only.
            Use ``"0.0.0.0"`` only behind a network you trust: there is no
            authentication.
        port: the TCP port.
        max_batch_size, batch_timeout_ms, max_body_bytes, allow_nonfinite,
        max_instances, max_concurrent, body_timeout_s: as in
            :func:`ember.serving.create_app`.
        log_level: uvicorn's log level (``"info"``, ``"warning"``, ...).
        header_timeout_s: the longest a request line and headers may take to arrive.
        keep_alive_timeout_s: how long an idle keep-alive connection stays open.
        max_header_bytes: the largest request head (request line and headers)
            accepted; a larger one is answered 400 and the connection closed.
    """
    try:
        import uvicorn
    except ImportError as exc:  # pragma: no cover - exercised only without the extra
        raise ImportError(
            "ember.serving.serve needs uvicorn: `pip install uvicorn` (or `pip install ember[serve]`)"
        ) from exc
    app = create_app(
        model_path,
        max_batch_size=max_batch_size,
        batch_timeout_ms=batch_timeout_ms,
        max_body_bytes=max_body_bytes,
        allow_nonfinite=allow_nonfinite,
        max_instances=max_instances,
        max_concurrent=max_concurrent,
        body_timeout_s=body_timeout_s,
    )
    uvicorn.run(app, **uvicorn_options(host, port, log_level, header_timeout_s, keep_alive_timeout_s, max_header_bytes))


def uvicorn_options(
    host="127.0.0.1",
    port=8000,
    log_level="info",
    header_timeout_s=DEFAULT_HEADER_TIMEOUT_S,
    keep_alive_timeout_s=DEFAULT_KEEP_ALIVE_TIMEOUT_S,
    max_header_bytes=DEFAULT_MAX_HEADER_BYTES,
) -> dict:
    """The keyword arguments ``serve`` gives ``uvicorn.run``/``uvicorn.Config`` (checked)."""
    for name, value in (("header_timeout_s", header_timeout_s), ("keep_alive_timeout_s", keep_alive_timeout_s)):
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value < float("inf"):
            raise ValueError(f"serve: {name} must be a positive number of seconds, got {value!r}")
    if isinstance(max_header_bytes, bool) or not isinstance(max_header_bytes, int) or max_header_bytes < 1024:
        raise ValueError(f"serve: max_header_bytes must be an int of at least 1024, got {max_header_bytes!r}")
    return {
        "host": host,
        "port": port,
        "log_level": log_level,
        "http": header_timeout_protocol(float(header_timeout_s)),
        "timeout_keep_alive": keep_alive_timeout_s,
        "h11_max_incomplete_event_size": max_header_bytes,
    }
