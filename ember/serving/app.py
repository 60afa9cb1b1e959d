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
or method, 413 for a body over ``max_body_bytes``.
"""

from __future__ import annotations

import contextlib
import os

from .batcher import Batcher
from .errors import RequestError
from .payload import parse_body, read_request, write_response
from .signature import ModelSignature

DEFAULT_MAX_BODY_BYTES = 16 * 1024 * 1024


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


def create_app(
    model_or_path,
    max_batch_size=32,
    batch_timeout_ms=2.0,
    max_body_bytes=DEFAULT_MAX_BODY_BYTES,
    allow_nonfinite=False,
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

    Returns:
        A ``starlette.applications.Starlette`` app; run it with
        ``uvicorn.run(app, host="127.0.0.1", port=8000)``. ``app.state`` holds
        ``model``, ``signature`` (:class:`ModelSignature`) and ``batcher``.

    Example:
        >>> app = create_app("mnist.keras", max_batch_size=64)
        >>> import uvicorn; uvicorn.run(app, host="127.0.0.1", port=8000)
    """
    _require_starlette()
    from starlette.applications import Starlette
    from starlette.exceptions import HTTPException
    from starlette.responses import JSONResponse, Response
    from starlette.routing import Route

    model = _load(model_or_path)
    signature = ModelSignature.from_model(model)
    if not isinstance(max_body_bytes, int) or max_body_bytes < 1:
        raise ValueError(f"create_app: max_body_bytes must be a positive int, got {max_body_bytes!r}")

    def run_model(arrays: list) -> list:
        x = arrays[0] if len(arrays) == 1 else list(arrays)
        return _flat_outputs(model.predict(x, batch_size=max_batch_size, verbose=0))

    batcher = Batcher(run_model, max_batch_size=max_batch_size, batch_timeout_s=batch_timeout_ms / 1000.0)
    limits = {
        "max_batch_size": max_batch_size,
        "batch_timeout_ms": batch_timeout_ms,
        "max_body_bytes": max_body_bytes,
        "allow_nonfinite": allow_nonfinite,
    }

    def error(status: int, message: str):
        return JSONResponse({"error": message}, status_code=status)

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
                    413, f"request body of {declared} bytes is over this server's limit of {max_body_bytes}"
                )
        body = bytearray()
        async for chunk in request.stream():
            body += chunk
            if len(body) > max_body_bytes:
                raise RequestError(413, f"request body is over this server's limit of {max_body_bytes} bytes")
        return bytes(body)

    async def predict(request):
        check_name(request)
        body = await read_body(request)
        payload = parse_body(body)
        has_booleans = b"true" in body or b"false" in body
        arrays, form = read_request(payload, signature, allow_nonfinite=allow_nonfinite, has_booleans=has_booleans)
        try:
            outputs = await batcher.predict(arrays)
        except (ValueError, TypeError) as exc:  # the model refused inputs that passed the checks above
            raise RequestError(400, f"model '{signature.name}' could not run on this input: {exc}") from None
        return Response(write_response(outputs, signature, form), media_type="application/json")

    async def health(request):
        return JSONResponse(
            {"status": "ok", "model": signature.name, "requests": batcher.requests, "predict_calls": batcher.calls}
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
        return error(exc.status, exc.message)

    async def on_http_error(request, exc):
        return error(exc.status_code, f"{exc.detail}: {request.method} {request.url.path}")

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
        exception_handlers={RequestError: on_request_error, HTTPException: on_http_error, Exception: on_internal_error},
        lifespan=lifespan,
    )
    app.state.model = model
    app.state.signature = signature
    app.state.batcher = batcher
    return app
