"""``serve``: run the model server with uvicorn (what ``ember serve`` calls)."""

from __future__ import annotations

from .app import DEFAULT_MAX_BODY_BYTES, create_app


def serve(
    model_path,
    host="127.0.0.1",
    port=8000,
    max_batch_size=32,
    batch_timeout_ms=2.0,
    max_body_bytes=DEFAULT_MAX_BODY_BYTES,
    allow_nonfinite=False,
    log_level="info",
):
    """Serve a saved model over HTTP until interrupted (Ctrl-C).

    Args:
        model_path: a ``.keras`` (or ``.h5``) file, or a built Ember model.
        host: the address to listen on; the default answers this machine only.
            Use ``"0.0.0.0"`` only behind a network you trust: there is no
            authentication.
        port: the TCP port.
        max_batch_size, batch_timeout_ms, max_body_bytes, allow_nonfinite: as
            in :func:`ember.serving.create_app`.
        log_level: uvicorn's log level (``"info"``, ``"warning"``, ...).
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
    )
    uvicorn.run(app, host=host, port=port, log_level=log_level)
