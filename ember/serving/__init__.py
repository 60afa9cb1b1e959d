"""Serving: an HTTP JSON service for an Ember model with TensorFlow Serving's request format.

Needs the ``serve`` extra (``starlette`` and ``uvicorn``); ``import ember``
does not import this package.
"""

from .app import create_app
from .batcher import Batcher
from .errors import RequestError
from .server import serve
from .signature import ModelSignature, TensorSpec

__all__ = ["Batcher", "ModelSignature", "RequestError", "TensorSpec", "create_app", "serve"]
