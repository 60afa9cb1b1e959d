"""The model server's default limits, in one place (``create_app``, ``serve`` and ``ember serve`` read them).

Importing this module imports nothing else, so the ``ember`` command can show the defaults in its help
without loading the server.
"""

SERVE_DEFAULTS = {
    "max_batch_size": 32,  # examples merged into one model call
    "batch_timeout_ms": 2.0,  # how long a request waits for others to join its batch
    "max_body_bytes": 16 * 1024 * 1024,  # request body, 413 above
    "max_instances": 8192,  # examples per request, 413 above
    "max_concurrent": 32,  # prediction requests in flight, 503 above
    "body_timeout_s": 30.0,  # request body arrival, 408 after
    "header_timeout_s": 10.0,  # request line and headers arrival, connection closed after
    "keep_alive_timeout_s": 5.0,  # idle keep-alive connection, closed after
    "max_header_bytes": 16 * 1024,  # request line and headers (h11's own default), 400 above
}
