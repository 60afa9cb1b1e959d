"""``ember.legacy`` (Keras's ``keras.legacy``): ``legacy.saving``'s object (de)serialization.

Keras keeps its Keras 2 ``serialize_keras_object``/``deserialize_keras_object``
here for old configs; Ember's ``ember.saving`` versions read and write both the
Keras 3 form and the Keras 2 ``{"class_name", "config"}`` form.
"""

from __future__ import annotations

import types

from .saving import deserialize_keras_object, serialize_keras_object

saving = types.SimpleNamespace(
    serialize_keras_object=serialize_keras_object,
    deserialize_keras_object=deserialize_keras_object,
)

__all__ = ["saving"]
