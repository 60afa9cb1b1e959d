"""Custom objects: register your classes and functions so saved models can name them.

A saved config names each object by class name (``"Dense"``) or, for your own
classes, by a registered name ``"package>Name"``. Loading looks names up in
``custom_objects=`` first, then in the objects of an active
``custom_object_scope``, then in this registry, then in Ember's own modules.
"""

from __future__ import annotations

import threading

# registered name ("package>name") -> object
_GLOBAL_CUSTOM_OBJECTS: dict = {}
# object -> registered name
_GLOBAL_CUSTOM_NAMES: dict = {}
_SCOPE = threading.local()


def register_keras_serializable(package="Custom", name=None):
    """Decorator that registers a class or function under ``"package>name"``.

    Args:
        package: a namespace for the name (default ``"Custom"``).
        name: the name to use (default the object's ``__name__``).

    Returns:
        the decorator; it returns the object unchanged.

    Example::

        @ember.saving.register_keras_serializable(package="my_pkg")
        class Scale(ember.layers.Layer): ...
    """

    def decorator(obj):
        registered = f"{package}>{name or obj.__name__}"
        if isinstance(obj, type) and not hasattr(obj, "get_config"):
            raise ValueError(
                f"register_keras_serializable: class {obj.__name__} must define get_config() to be serializable"
            )
        _GLOBAL_CUSTOM_OBJECTS[registered] = obj
        _GLOBAL_CUSTOM_NAMES[obj] = registered
        return obj

    return decorator


def get_custom_objects() -> dict:
    """The global registry (a live dict: ``get_custom_objects()["MyLayer"] = MyLayer`` registers)."""
    return _GLOBAL_CUSTOM_OBJECTS


def get_registered_name(obj) -> str:
    """The name ``obj`` is registered under, or its ``__name__`` when it is not registered."""
    return _GLOBAL_CUSTOM_NAMES.get(obj, getattr(obj, "__name__", type(obj).__name__))


def get_registered_object(name, custom_objects=None, module_objects=None):
    """The object named ``name``: from ``custom_objects``, the active scopes, the registry, ``module_objects``."""
    for source in (custom_objects or {}, *reversed(_scopes()), _GLOBAL_CUSTOM_OBJECTS, module_objects or {}):
        if name in source:
            return source[name]
    return None


class CustomObjectScope:
    """``with CustomObjectScope({"MyLayer": MyLayer}):`` makes names resolvable while loading.

    Args:
        custom_objects: one or more dicts of name -> class or function.
    """

    def __init__(self, *custom_objects):
        self.custom_objects = {}
        for objects in custom_objects:
            self.custom_objects.update(objects or {})

    def __enter__(self):
        _scopes().append(self.custom_objects)
        return self

    def __exit__(self, *exc):
        _scopes().pop()


custom_object_scope = CustomObjectScope


def _scopes() -> list:
    if not hasattr(_SCOPE, "stack"):
        _SCOPE.stack = []
    return _SCOPE.stack
