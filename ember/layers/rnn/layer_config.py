"""Keras's config dict of a layer held by another (a cell in ``RNN``, the layer in a wrapper), and back.

``serialize_layer`` writes ``{"module", "class_name", "config", "registered_name"}``
as ``keras.saving.serialize_keras_object`` does; ``deserialize_layer`` finds the
class by name among ``ember.layers`` (or in ``custom_objects``) and calls its
``from_config``.
"""

from __future__ import annotations


def serialize_layer(layer) -> dict:
    """The Keras 3 config dict of ``layer``."""
    cls = type(layer)
    builtin = cls.__module__.startswith("ember.")
    return {
        "module": "keras.layers" if builtin else cls.__module__,
        "class_name": cls.__name__,
        "config": layer.get_config(),
        "registered_name": None if builtin else cls.__name__,
    }


def deserialize_layer(config, custom_objects=None):
    """A layer from what :func:`serialize_layer` (or Keras) wrote; a layer instance is returned as is."""
    from ... import layers
    from ..layer import Layer

    if isinstance(config, Layer):
        return config
    if not isinstance(config, dict) or "class_name" not in config:
        raise ValueError(f"Expected a layer config dict with 'class_name' and 'config', got {config!r}")
    name = config["class_name"]
    lookup = dict(custom_objects or {})
    cls = lookup.get(name) or lookup.get(config.get("registered_name")) or getattr(layers, name, None)
    if cls is None:
        raise ValueError(
            f"Unknown layer class {name!r}: it is not one of ember.layers; pass it in custom_objects={{{name!r}: cls}}"
        )
    return cls.from_config(dict(config.get("config", {})))
