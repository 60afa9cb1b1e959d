"""Serving: an HTTP JSON service for an Ember model with TensorFlow Serving's request format.

Needs the ``serve`` extra (``starlette`` and ``uvicorn``); ``import ember``
does not import this package. The names below load on first use, so
``ember.serving.limits`` (the default limits) can be read without the server.
"""

import importlib

_WHERE = {
    "Batcher": ".batcher",
    "ModelSignature": ".signature",
    "RequestError": ".errors",
    "TensorSpec": ".signature",
    "create_app": ".app",
    "serve": ".server",
}

__all__ = sorted(_WHERE)


def __getattr__(name):
    if name in _WHERE:
        return getattr(importlib.import_module(_WHERE[name], __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
