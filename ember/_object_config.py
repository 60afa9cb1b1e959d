"""Keras 3 config dicts for the small by-name objects: initializers, regularizers, constraints.

Each family keeps its own registry (name -> class) and Keras module name;
these two functions turn an object into ``{"module", "class_name", "config",
"registered_name"}`` and back, with errors that name the family.
"""

from __future__ import annotations


def serialize_object(obj, family: str, what: str, registry: dict, module: str) -> dict | None:
    """``obj``'s config dict; classes in ``registry`` are written under Keras's ``module`` so Keras loads them.

    Args:
        family: the family's module name for errors (``"initializers"``).
        what: the expected kind with its article (``"an Initializer"``).
    """
    if obj is None:
        return None
    if not hasattr(obj, "get_config"):
        raise ValueError(f"{family}.serialize: expected {what} (an object with get_config), got {obj!r}")
    cls = type(obj)
    known = registry.get(cls.__name__) is cls
    return {
        "module": module if known else cls.__module__,
        "class_name": cls.__name__,
        "config": obj.get_config(),
        "registered_name": None if known else cls.__name__,
    }


def deserialize_object(config, custom_objects, family: str, kind: str, registry: dict):
    """A new object from a config dict or a registered name; ``custom_objects`` adds classes by name."""
    lookup = {**registry, **(custom_objects or {})}
    if isinstance(config, str):
        name, kwargs = config, {}
    elif isinstance(config, dict) and "class_name" in config:
        name = config.get("registered_name") or config["class_name"]
        if name not in lookup:
            name = config["class_name"]
        kwargs = config.get("config") or {}
    else:
        raise ValueError(
            f"{family}.deserialize: expected a name or a dict with 'class_name' and 'config', got {config!r}"
        )
    cls = lookup.get(name)
    if cls is None:
        raise ValueError(f"{family}.deserialize: unknown {kind} {name!r}; known names: {sorted(registry)}")
    return cls.from_config(kwargs) if hasattr(cls, "from_config") else cls(**kwargs)
