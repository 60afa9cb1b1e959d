"""``ember.layers.serialize`` / ``deserialize``: a layer as Keras 3's config dict and back."""

from __future__ import annotations


def serialize(layer) -> dict:
    """``{"module", "class_name", "config", "registered_name"}`` of ``layer`` (``keras.layers.serialize``)."""
    from ..saving.serialization import serialize_keras_object

    return serialize_keras_object(layer)


def deserialize(config, custom_objects=None):
    """The layer ``serialize`` (or Keras) described; ``custom_objects`` maps names to your own classes."""
    from ..saving.serialization import deserialize_keras_object

    return deserialize_keras_object(config, custom_objects=custom_objects, family="layers")
