"""The registry of custom objects that configs and saved models refer to by name.

``@register_keras_serializable(package, name)`` files a class or function under
``"package>name"``; ``custom_object_scope({...})`` makes more names visible for a
``with`` block; ``get_registered_object`` looks a name up (scope first, then the
registry, then the dicts the caller passes), and ``get_registered_name`` gives
the name an object is filed under. Names and lookup order are Keras 3's, so a
config written by Keras names the same objects here.
"""

from __future__ import annotations

import inspect
import threading

__all__ = [
    "CustomObjectScope",
    "custom_object_scope",
    "get_custom_objects",
    "get_registered_name",
    "get_registered_object",
    "register_keras_serializable",
]

# "package>name" -> object, and object -> "package>name"
GLOBAL_CUSTOM_OBJECTS: dict = {}
GLOBAL_CUSTOM_NAMES: dict = {}

_scope = threading.local()  # .objects: the innermost custom_object_scope's dict, per thread


def _scope_objects() -> dict:
    return getattr(_scope, "objects", {})


class CustomObjectScope:
    """A ``with`` block in which ``custom_objects`` (name -> class or function) can be found by name.

    Args:
        custom_objects: a dict (None for an empty one). As in Keras 3, an inner scope replaces the
            outer one for its duration; leaving it restores the outer one.

    Example::

        with ember.utils.custom_object_scope({"MyLayer": MyLayer}):
            model = ember.models.model_from_config(config)
    """

    def __init__(self, custom_objects):
        if custom_objects is not None and not isinstance(custom_objects, dict):
            raise TypeError(
                f"custom_object_scope: expected a dict of name -> object, got {type(custom_objects).__name__}"
            )
        self.custom_objects = custom_objects or {}
        self.backup = None

    def __enter__(self):
        self.backup = dict(_scope_objects())
        _scope.objects = dict(self.custom_objects)
        return self

    def __exit__(self, *exc_info):
        _scope.objects = dict(self.backup)


custom_object_scope = CustomObjectScope


def get_custom_objects() -> dict:
    """The global registry itself (a dict you may update: ``get_custom_objects()["MyLayer"] = MyLayer``)."""
    return GLOBAL_CUSTOM_OBJECTS


def register_keras_serializable(package="Custom", name=None):
    """A decorator that files a class or function under ``"package>name"`` (``name`` default: its ``__name__``).

    Args:
        package: the prefix that keeps names from different libraries apart.
        name: the name within the package.

    Raises:
        ValueError: a class without ``get_config`` (it could not be saved and rebuilt).
    """

    def decorator(arg):
        registered_name = f"{package}>{name if name is not None else arg.__name__}"
        if inspect.isclass(arg) and not hasattr(arg, "get_config"):
            raise ValueError(
                f"register_keras_serializable: cannot register class {arg.__name__} as {registered_name!r}: "
                f"it has no get_config() method"
            )
        GLOBAL_CUSTOM_OBJECTS[registered_name] = arg
        GLOBAL_CUSTOM_NAMES[arg] = registered_name
        return arg

    return decorator


def get_registered_name(obj) -> str:
    """The name ``obj`` is registered under, or its ``__name__`` if it is not registered."""
    try:
        return GLOBAL_CUSTOM_NAMES[obj]
    except (KeyError, TypeError):  # TypeError: an unhashable object is never registered
        return obj.__name__


def get_registered_object(name, custom_objects=None, module_objects=None):
    """The object filed under ``name``, or None.

    Looks in the active ``custom_object_scope``, then the global registry, then ``custom_objects``
    (usually the user's), then ``module_objects`` (usually a library's own table).
    """
    scoped = _scope_objects()
    if name in scoped:
        return scoped[name]
    if name in GLOBAL_CUSTOM_OBJECTS:
        return GLOBAL_CUSTOM_OBJECTS[name]
    if custom_objects and name in custom_objects:
        return custom_objects[name]
    if module_objects and name in module_objects:
        return module_objects[name]
    return None
