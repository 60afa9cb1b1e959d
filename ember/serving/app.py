"""``create_app``: an ASGI application (Starlette) that serves an Ember model over HTTP JSON.

Routes:

- ``POST /predict`` (and TensorFlow Serving's ``POST /v1/models/<name>:predict``):
  TensorFlow Serving's JSON request, ``{"instances": [...]}`` or
  ``{"inputs": ...}``, answered with ``{"predictions": [...]}`` or
  ``{"outputs": ...}`` (see :mod:`ember.serving.payload`).
- ``GET /health``: ``{"status": "ok", "model": name, "requests": n, "predict_calls": m}``.
- ``GET /metadata`` (and ``GET /v1/models/<name>/metadata``): the model's name
  and class, its inputs and outputs (name, shape with ``null`` for any size,
  dtype) and the server's limits.
- ``GET /v1/models/<name>``: TensorFlow Serving's model status.

Every refused request gets a 4xx answer ``{"error": "<what was expected, what
came>"}``: 400 for a malformed or mismatched body, 404/405 for an unknown route
or method, 408 for a body not received within ``body_timeout_s``, 413 for a
body over ``max_body_bytes`` or more than ``max_instances`` examples; a
prediction request beyond ``max_concurrent`` in flight gets 503 with
``Retry-After``. Bodies are parsed and converted off the event loop (a worker
thread, reading large bodies example by example so ``/health`` keeps
answering), at most two at a time. A client that disconnects mid-request is
logged as one line on the ``ember.serving`` logger, without a traceback.
"""

from __future__ import annotations

import contextlib
import logging
import math
import os

from .batcher import Batcher
from .errors import RequestError
from .limits import SERVE_DEFAULTS
from .payload import SMALL_BODY_BYTES, gc_paused, parse_body, read_request, write_response
from .signature import ModelSignature

DEFAULT_MAX_BODY_BYTES = SERVE_DEFAULTS["max_body_bytes"]
DEFAULT_MAX_INSTANCES = SERVE_DEFAULTS["max_instances"]
DEFAULT_MAX_CONCURRENT = SERVE_DEFAULTS["max_concurrent"]
DEFAULT_BODY_TIMEOUT_S = SERVE_DEFAULTS["body_timeout_s"]
PARSE_THREADS = 2  # bodies parsed at once: JSON parsing holds the GIL, more threads only add memory

logger = logging.getLogger("ember.serving")


def _require_starlette():
    try:
        import starlette  # noqa: F401
    except ImportError as exc:  # pragma: no cover - exercised only without the extra
        raise ImportError(
            "ember.serving needs Starlette and uvicorn: `pip install starlette uvicorn` (or `pip install ember[serve]`)"
        ) from exc


def _load(model_or_path):
    if isinstance(model_or_path, (str, os.PathLike)):
        from ..models import load_model

        path = os.fspath(model_or_path)
        if not os.path.exists(path):
            raise FileNotFoundError(f"serving: no model file at {path!r}; expected a .keras (or .h5) file")
        return load_model(path, compile=False)
    if not hasattr(model_or_path, "predict"):
        raise TypeError(
            f"create_app: expected an Ember model or the path of a saved model, got {type(model_or_path).__name__}"
        )
    return model_or_path


def _flat_outputs(result) -> list:
    if isinstance(result, dict):
        return [v for part in result.values() for v in _flat_outputs(part)]
    if isinstance(result, (list, tuple)):
        return [v for part in result for v in _flat_outputs(part)]
    return [result]


def _positive_int(name, value):
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"create_app: {name} must be a positive int, got {value!r}")
    return value


def _positive_seconds(name, value):
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0 or math.isinf(value):
        raise ValueError(f"create_app: {name} must be a positive number of seconds, got {value!r}")
    return float(value)


def _client(request) -> str:
    client = request.client
    return f"{client.host}:{client.port}" if client else "a client"


def create_app(
    model_or_path,
    max_batch_size=32,
    batch_timeout_ms=2.0,
    max_body_bytes=DEFAULT_MAX_BODY_BYTES,
    allow_nonfinite=False,
    max_instances=DEFAULT_MAX_INSTANCES,
    max_concurrent=DEFAULT_MAX_CONCURRENT,
    body_timeout_s=DEFAULT_BODY_TIMEOUT_S,
):
    """An ASGI app serving ``model_or_path`` with TensorFlow Serving's JSON API.

    Args:
        model_or_path: a built Ember model, or the path of a saved model
            (loaded with ``ember.models.load_model(path, compile=False)``).
        max_batch_size: the most examples merged into one ``predict`` call
            (concurrent requests are merged up to it); also ``predict``'s
            ``batch_size`` for larger single requests.
        batch_timeout_ms: how long a request waits for others to join its batch.
        max_body_bytes: the largest request body accepted (413 above it).
        allow_nonfinite: accept ``NaN``/``Infinity`` in the inputs (refused with
            a 400 by default). Non-finite outputs are always written as
            ``NaN``/``Infinity``/``-Infinity``, as TensorFlow Serving does.
        max_instances: the most examples one request may hold (413 above it;
            a large body is refused as soon as its reader passes the limit).
        max_concurrent: the most prediction requests in flight at once
            (reading, parsing, waiting for or running the model); one more is
            answered 503 with ``Retry-After: 1`` before its body is read.
        body_timeout_s: the longest a request body may take to arrive (408
            and the connection closed after it).

    Returns:
        A ``starlette.applications.Starlette`` app; run it with
        ``uvicorn.run(app, host="127.0.0.1", port=8000)`` (or
        :func:`ember.serving.serve`, which also sets header and keep-alive
        timeouts). ``app.state`` holds ``model``, ``signature``
        (:class:`ModelSignature`), ``batcher`` and ``limits``.

    Example:
        >>> app = create_app("mnist.keras", max_batch_size=64)
        >>> import uvicorn; uvicorn.run(app, host="127.0.0.1", port=8000)
    """
    _require_starlette()
    import anyio
    import anyio.to_thread
    from starlette.applications import Starlette
    from starlette.exceptions import HTTPException
    from starlette.requests import ClientDisconnect
    from starlette.responses import JSONResponse, Response
    from starlette.routing import Route

    _positive_int("max_body_bytes", max_body_bytes)
    _positive_int("max_instances", max_instances)
    _positive_int("max_concurrent", max_concurrent)
    body_timeout_s = _positive_seconds("body_timeout_s", body_timeout_s)
    model = _load(model_or_path)
    signature = ModelSignature.from_model(model)

    def run_model(arrays: list) -> list:
        x = arrays[0] if len(arrays) == 1 else list(arrays)
        return _flat_outputs(model.predict(x, batch_size=max_batch_size, verbose=0))

    batcher = Batcher(run_model, max_batch_size=max_batch_size, batch_timeout_s=batch_timeout_ms / 1000.0)
    limits = {
        "max_batch_size": max_batch_size,
        "batch_timeout_ms": batch_timeout_ms,
        "max_body_bytes": max_body_bytes,
        "allow_nonfinite": allow_nonfinite,
        "max_instances": max_instances,
        "max_concurrent": max_concurrent,
        "body_timeout_s": body_timeout_s,
    }
    in_flight = [0]  # prediction requests being served now (touched on the event loop only)
    parse_slots = []  # the CapacityLimiter, made inside the running loop

    def error(status: int, message: str, headers=None):
        return JSONResponse({"error": message}, status_code=status, headers=headers)

    def check_name(request):
        name = request.path_params.get("model_name")
        if name is not None and name != signature.name:
            raise RequestError(404, f"no model named {name!r}; this server serves {signature.name!r}")

    async def read_body(request) -> bytes:
        length = request.headers.get("content-length")
        if length is not None:
            try:
                declared = int(length)
            except ValueError:
                raise RequestError(400, f"Content-Length header is not an integer: {length!r}") from None
            if declared > max_body_bytes:
                raise RequestError(
                    413,
                    f"request body of {declared} bytes is over this server's limit of {max_body_bytes} "
                    "(max_body_bytes, `ember serve --max-request-bytes`)",
                    {"Connection": "close"},
                )
        body = bytearray()
        try:
            with anyio.fail_after(body_timeout_s):
                async for chunk in request.stream():
                    body += chunk
                    if len(body) > max_body_bytes:
                        raise RequestError(
                            413,
                            f"request body is over this server's limit of {max_body_bytes} bytes "
                            "(max_body_bytes, `ember serve --max-request-bytes`)",
                            {"Connection": "close"},
                        )
        except TimeoutError:
            raise RequestError(
                408,
                f"request body not received within {body_timeout_s:g} s ({len(body)} bytes came); "
                "`ember serve --body-timeout` sets the limit",
                {"Connection": "close"},
            ) from None
        return bytes(body)

    def decode(body: bytes):
        """Body -> model inputs, in a worker thread: JSON parsing, checks and conversion to arrays."""
        with gc_paused() if len(body) > SMALL_BODY_BYTES else contextlib.nullcontext():
            payload = parse_body(body, max_instances=max_instances)
            has_booleans = b"true" in body or b"false" in body
            try:
                return read_request(
                    payload,
                    signature,
                    allow_nonfinite=allow_nonfinite,
                    has_booleans=has_booleans,
                    max_instances=max_instances,
                )
            except RecursionError:  # the checks walk nested lists; JSON's own limit is close to Python's
                raise RequestError(400, "request body is JSON nested too deeply to check") from None

    async def in_thread(fn, *args):
        if not parse_slots:
            parse_slots.append(anyio.CapacityLimiter(PARSE_THREADS))
        return await anyio.to_thread.run_sync(fn, *args, limiter=parse_slots[0])

    async def predict(request):
        check_name(request)
        if in_flight[0] >= max_concurrent:
            raise RequestError(
                503,
                f"server busy: {in_flight[0]} prediction requests in flight, the limit is {max_concurrent} "
                "(max_concurrent, `ember serve --max-concurrent`); retry shortly",
                {"Retry-After": "1"},
            )
        in_flight[0] += 1
        try:
            body = await read_body(request)
            arrays, form = await in_thread(decode, body)
            del body
            try:
                outputs = await batcher.predict(arrays)
            except (ValueError, TypeError) as exc:  # the model refused inputs that passed the checks above
                raise RequestError(400, f"model '{signature.name}' could not run on this input: {exc}") from None
            answer = await in_thread(write_response, outputs, signature, form)
            return Response(answer, media_type="application/json")
        finally:
            in_flight[0] -= 1

    async def health(request):
        return JSONResponse(
            {
                "status": "ok",
                "model": signature.name,
                "requests": batcher.requests,
                "predict_calls": batcher.calls,
                "in_flight": in_flight[0],
            }
        )

    async def metadata(request):
        check_name(request)
        return JSONResponse({**signature.to_json(), "server": limits})

    async def model_status(request):
        check_name(request)
        return JSONResponse(
            {
                "model_version_status": [
                    {"version": "1", "state": "AVAILABLE", "status": {"error_code": "OK", "error_message": ""}}
                ]
            }
        )

    async def on_request_error(request, exc):
        return error(exc.status, exc.message, exc.headers or None)

    async def on_http_error(request, exc):
        return error(exc.status_code, f"{exc.detail}: {request.method} {request.url.path}")

    async def on_disconnect(request, exc):
        # nobody is left to answer: one quiet line instead of uvicorn's traceback
        logger.info("client %s disconnected during %s %s; request dropped", _client(request), request.method,
                    request.url.path)  # fmt: skip
        return Response(status_code=400)

    async def on_internal_error(request, exc):
        return error(500, f"internal error while serving model '{signature.name}': {type(exc).__name__}: {exc}")

    @contextlib.asynccontextmanager
    async def lifespan(app):
        yield
        batcher.close()

    routes = [
        Route("/predict", predict, methods=["POST"]),
        Route("/v1/models/{model_name}:predict", predict, methods=["POST"]),
        Route("/health", health, methods=["GET"]),
        Route("/metadata", metadata, methods=["GET"]),
        Route("/v1/models/{model_name}/metadata", metadata, methods=["GET"]),
        Route("/v1/models/{model_name}", model_status, methods=["GET"]),
    ]
    app = Starlette(
        routes=routes,
        exception_handlers={
            RequestError: on_request_error,
            HTTPException: on_http_error,
            ClientDisconnect: on_disconnect,
            Exception: on_internal_error,
        },
        lifespan=lifespan,
    )
    app.state.model = model
    app.state.signature = signature
    app.state.batcher = batcher
    app.state.limits = limits
    return app
