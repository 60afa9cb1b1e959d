"""``serialize_keras_object`` / ``deserialize_keras_object``: objects to JSON-ready dicts and back, Keras 3's format.

An object with ``get_config`` becomes ``{"module", "class_name", "config",
"registered_name"}``; a function ``{"module", "class_name": "function",
"config": name, "registered_name"}``; NumPy arrays get Keras's ``"__numpy__"``
wrapper; plain values, lists, tuples and dicts pass through, their contents
serialized (``"__tuple__"`` wrappers are read back as tuples). Reading is
``ember.saving.deserialize_keras_object``: the custom objects (scope,
registry, ``custom_objects``), then Ember's own classes, where a Keras module
path (``keras.layers``, ``keras.src.layers...``) means Ember's; any other
module is refused without being imported unless ``safe_mode=False``.
"""

from __future__ import annotations

import importlib
import inspect
import types

import numpy as np

from .object_registration import GLOBAL_CUSTOM_NAMES, get_registered_name

__all__ = ["serialize_keras_object", "deserialize_keras_object"]

_PLAIN = (type(None), bool, int, float, str)
_DTYPE_POLICIES = ("DTypePolicy", "FloatDTypePolicy")


def _public_module(obj) -> str:
    """The shortest ``ember.<package>`` path that exports ``obj`` (its own module if none does)."""
    module = getattr(obj, "__module__", "") or ""
    parts = module.split(".")
    for i in range(1, len(parts)):
        candidate = ".".join(parts[: i + 1])
        try:
            if getattr(importlib.import_module(candidate), obj.__name__, None) is obj:
                return candidate
        except ImportError:
            continue
    return module


def _is_registered(obj) -> bool:
    try:
        return obj in GLOBAL_CUSTOM_NAMES
    except TypeError:
        return False


def serialize_keras_object(obj):
    """A JSON-ready description of ``obj`` that :func:`deserialize_keras_object` turns back into an equal object.

    Raises:
        TypeError: ``obj`` is neither a plain value, a container, an array, a function nor an object with
            ``get_config``.
    """
    if isinstance(obj, _PLAIN):
        return obj
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, np.ndarray):
        return {"class_name": "__numpy__", "config": {"value": obj.tolist(), "dtype": str(obj.dtype)}}
    if isinstance(obj, (list, tuple)):  # tuples stay tuples, as in Keras 3 (JSON writes them as lists)
        return type(obj)(serialize_keras_object(x) for x in obj)
    if isinstance(obj, dict):
        return {k: serialize_keras_object(v) for k, v in obj.items()}
    if isinstance(obj, (types.FunctionType, types.BuiltinFunctionType)):
        name = get_registered_name(obj)
        return {"module": _public_module(obj), "class_name": "function", "config": name, "registered_name": name}
    if hasattr(obj, "get_config") and not inspect.isclass(obj):
        cls = type(obj)
        return {
            "module": _public_module(cls),
            "class_name": cls.__name__,
            "config": serialize_keras_object(obj.get_config()),
            "registered_name": get_registered_name(cls) if _is_registered(cls) else None,
        }
    raise TypeError(
        f"serialize_keras_object: cannot serialize {obj!r} of type {type(obj).__name__}: expected a plain value, "
        f"list/tuple/dict, NumPy array, function, or an object with get_config()"
    )


def deserialize_keras_object(config, custom_objects=None, safe_mode=True, **kwargs):
    """Rebuild the object :func:`serialize_keras_object` described (a class through its ``from_config``).

    The same routine as ``load_model`` uses (``ember.saving.deserialize_keras_object``), safe by default:
    a module the config names is never imported unless ``safe_mode=False``, and Python code and file
    paths in the config are refused.

    Args:
        config: what ``serialize_keras_object`` returned (or Keras 3 wrote).
        custom_objects: name -> class/function, for objects that are not registered.
        safe_mode: refuse bytecode, modules outside Ember/Keras and file paths (default True).

    Raises:
        ember.saving.UnsafeDeserializationError: refused by safe_mode.
        TypeError: an unknown class or function (``UnknownObjectError``, also an ember.errors.FileFormatError).
    """
    from ..saving.serialization import deserialize_keras_object as _deserialize

    return _deserialize(config, custom_objects=custom_objects, safe_mode=safe_mode, **kwargs)
