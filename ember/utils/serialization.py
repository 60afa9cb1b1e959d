"""``serialize_keras_object`` / ``deserialize_keras_object``: objects to JSON-ready dicts and back, Keras 3's format.

An object with ``get_config`` becomes ``{"module", "class_name", "config",
"registered_name"}``; a function ``{"module", "class_name": "function",
"config": name, "registered_name"}``; NumPy arrays get Keras's ``"__numpy__"``
wrapper; plain values, lists, tuples and dicts pass through, their contents
serialized (``"__tuple__"`` wrappers are read back as tuples). Reading looks the class up in the custom
objects (scope, registry, ``custom_objects``), then in its module, where a
Keras module path (``keras.layers``, ``keras.src.layers...``) means Ember's.
"""

from __future__ import annotations

import importlib
import inspect
import types

import numpy as np

from .object_registration import GLOBAL_CUSTOM_NAMES, get_registered_name, get_registered_object

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


def _ember_module(module: str) -> str:
    if module == "keras" or module.startswith("keras."):
        rest = module.split(".")[1:]
        if rest[:1] == ["src"]:
            rest = rest[1:]
        return ".".join(["ember", *rest])
    return module


def _find(module, class_name, registered_name, custom_objects):
    for name in (registered_name, class_name):
        if name:
            found = get_registered_object(name, custom_objects)
            if found is not None:
                return found
    if module:
        try:
            found = getattr(importlib.import_module(_ember_module(module)), class_name, None)
        except ImportError:
            found = None
        if found is not None:
            return found
    where = f" in module {module!r}" if module else ""
    raise TypeError(
        f"deserialize_keras_object: could not locate {class_name!r}{where}; register it with "
        f"@ember.utils.register_keras_serializable() or pass it in custom_objects"
    )


def deserialize_keras_object(config, custom_objects=None, safe_mode=True, **kwargs):
    """Rebuild the object :func:`serialize_keras_object` described (a class through its ``from_config``).

    Args:
        config: what ``serialize_keras_object`` returned (or Keras 3 wrote).
        custom_objects: name -> class/function, for objects that are not registered.
        safe_mode: accepted for Keras compatibility (Ember never deserializes lambdas' bytecode).
    """
    if isinstance(config, _PLAIN):
        return config
    if isinstance(config, (list, tuple)):
        return type(config)(deserialize_keras_object(x, custom_objects) for x in config)
    if not isinstance(config, dict):
        raise TypeError(
            f"deserialize_keras_object: expected a dict, list, tuple or plain value, got {type(config).__name__}"
        )
    if "class_name" not in config or "config" not in config:
        return {k: deserialize_keras_object(v, custom_objects) for k, v in config.items()}
    class_name, inner = config["class_name"], config["config"]
    if class_name == "__tuple__":
        return tuple(deserialize_keras_object(x, custom_objects) for x in inner["value"])
    if class_name == "__numpy__":
        return np.asarray(inner["value"], dtype=inner["dtype"])
    module, registered = config.get("module"), config.get("registered_name")
    if class_name in _DTYPE_POLICIES:  # Keras's dtype policy objects: Ember layers take the dtype name
        return inner["name"]
    if class_name == "function":
        try:
            return _find(module, inner, registered, custom_objects)
        except TypeError:
            from .. import activations  # Keras writes its own functions as {"module": "builtins", "config": "relu"}

            try:
                return activations.get(inner)
            except (ValueError, TypeError):
                raise TypeError(
                    f"deserialize_keras_object: could not locate function {inner!r}; register it with "
                    f"@ember.utils.register_keras_serializable() or pass it in custom_objects"
                ) from None
    cls = _find(module, class_name, registered, custom_objects)
    inner = deserialize_keras_object(inner, custom_objects) if isinstance(inner, dict) else inner
    if not hasattr(cls, "from_config"):
        raise TypeError(f"deserialize_keras_object: {class_name} ({cls!r}) has no from_config()")
    return cls.from_config(inner)
