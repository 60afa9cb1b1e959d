"""``model.to_json()`` and ``model_from_json``: a model's architecture as Keras 3's JSON (no weights)."""

from __future__ import annotations

import json

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


def model_from_json(json_string, custom_objects=None):
    """Build a model (fresh weights) from the JSON of ``to_json`` or of Keras's ``model.to_json()``.

    Args:
        json_string: the JSON text.
        custom_objects: dict of name -> your classes/functions.

    Returns:
        the model. Lambda layers are refused (the JSON is untrusted input); rebuild those in code.
    """
    try:
        config = json.loads(json_string)
    except (TypeError, ValueError) as err:
        raise ValueError(f"model_from_json: the text is not valid JSON ({err})") from None
    return model_from_config(config, custom_objects=custom_objects, safe_mode=True)
