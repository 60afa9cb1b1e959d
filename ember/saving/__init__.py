"""Saving and loading: Keras 3 ``.keras`` files, ``.weights.h5``, legacy Keras 2 ``.h5``, JSON, plain tensors."""

from .api import load_model, load_weights, save_model, save_weights
from .atomic import atomic_open, atomic_path
from .json_model import model_from_json, to_json
from .limits import LoadLimits
from .model_config import model_from_config
from .parameters import load_parameters, save_parameters
from .registry import (
    CustomObjectScope,
    custom_object_scope,
    get_custom_objects,
    get_registered_name,
    get_registered_object,
    register_keras_serializable,
)
from .serialization import UnsafeDeserializationError, deserialize_keras_object, serialize_keras_object
from .tensors import load_tensors, save_tensors
from .weights_h5 import WeightsMismatchError

__all__ = [
    "CustomObjectScope",
    "LoadLimits",
    "UnsafeDeserializationError",
    "WeightsMismatchError",
    "atomic_open",
    "atomic_path",
    "custom_object_scope",
    "deserialize_keras_object",
    "get_custom_objects",
    "get_registered_name",
    "get_registered_object",
    "load_model",
    "load_parameters",
    "load_tensors",
    "load_weights",
    "model_from_config",
    "model_from_json",
    "register_keras_serializable",
    "save_model",
    "save_parameters",
    "save_tensors",
    "save_weights",
    "serialize_keras_object",
    "to_json",
]
