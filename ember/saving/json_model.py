"""``model.to_json()`` and ``model_from_json``: a model's architecture as Keras 3's JSON (no weights)."""

from __future__ import annotations

import json

from ..errors import FileFormatError
from .limits import LoadLimits, allocation_budget, load_json
from .model_config import model_from_config, serialize_model


def to_json(model, **kwargs) -> str:
    """The model's config as a JSON string in Keras 3's schema.

    Args:
        model: a Sequential or functional model.
        **kwargs: passed to ``json.dumps`` (e.g. ``indent=2``).

    Returns:
        str: the JSON text; ``model_from_json`` (Ember's or Keras's) rebuilds the architecture from it.
    """
    from .keras_zip import _json_default

    return json.dumps(serialize_model(model), default=_json_default, **kwargs)


def model_from_json(json_string, custom_objects=None, *, max_json_bytes=None, max_json_depth=None, max_bytes=None):
    """Build a model (fresh weights) from the JSON of ``to_json`` or of Keras's ``model.to_json()``.

    The text is untrusted input: its size and nesting depth are checked before parsing, the model's
    weights may not exceed ``max_bytes`` (as float32) in all, and Lambda layers, foreign modules and
    file paths are refused (rebuild those in code).

    Args:
        json_string: the JSON text (str or bytes).
        custom_objects: dict of name -> your classes/functions.
        max_json_bytes, max_json_depth, max_bytes: raise the limits of ``LoadLimits``.

    Returns:
        the model.

    Raises:
        ember.errors.FileFormatError (a ValueError) and its subclasses.
    """
    from .boundary import boundary

    limits = LoadLimits.make(None, max_json_bytes=max_json_bytes, max_json_depth=max_json_depth, max_bytes=max_bytes)
    if not isinstance(json_string, (str, bytes, bytearray)):
        raise FileFormatError(f"model_from_json: expected the JSON text (str), got {type(json_string).__name__}")
    with boundary("model_from_json", "model JSON"):
        config = load_json(json_string, "model_from_json", "the text", limits)
        if not isinstance(config, dict):
            raise FileFormatError(f"model_from_json: the JSON holds a {type(config).__name__}, expected an object")
        with allocation_budget("model_from_json", None, limits):
            return model_from_config(config, custom_objects=custom_objects, safe_mode=True)
