"""Activation names: ``get`` (string/None/callable -> function), ``serialize`` and ``deserialize``.

The names are Keras 3's (``keras.activations``), plus its aliases ``swish``
(= ``silu``) and ``hard_swish`` (= ``hard_silu``). The functions are Ember's
ops (``ember.relu`` is ``ember.activations.relu``), so a model built with
``activation=ember.relu`` serialises as ``"relu"``.
"""

from __future__ import annotations

import types

from .. import ops as _ops  # the ember.ops functions themselves (symbolic-aware wrappers included)

_composite = _ops

_FUNCTIONS = (
    _ops.relu,
    _ops.leaky_relu,
    _ops.relu6,
    _ops.softmax,
    _composite.celu,
    _ops.elu,
    _ops.selu,
    _ops.softplus,
    _ops.softsign,
    _composite.squareplus,
    _composite.soft_shrink,
    _composite.sparse_plus,
    _ops.silu,
    _ops.gelu,
    _composite.glu,
    _ops.tanh,
    _composite.tanh_shrink,
    _composite.threshold,
    _ops.sigmoid,
    _composite.sparse_sigmoid,
    _ops.exponential,
    _ops.hard_sigmoid,
    _ops.hard_silu,
    _composite.hard_tanh,
    _composite.hard_shrink,
    _ops.linear,
    _ops.mish,
    _ops.log_softmax,
    _ops.log_sigmoid,
    _composite.sparsemax,
)

ALL_ACTIVATIONS: dict = {fn.__name__: fn for fn in _FUNCTIONS}
ALL_ACTIVATIONS["swish"] = _ops.silu
ALL_ACTIVATIONS["hard_swish"] = _ops.hard_silu

_NAME_OF = {id(fn): fn.__name__ for fn in _FUNCTIONS}


def _unknown(where: str, name) -> ValueError:
    return ValueError(f"{where}: unknown activation {name!r}; expected one of {sorted(ALL_ACTIVATIONS)}")


def serialize(activation):
    """The name of a built-in activation (``"relu"``), or the Keras config dict of an activation object.

    Args:
        activation: a function from ``ember.activations`` (or the same op from ``ember``), or an
            object with ``get_config`` (an activation layer, say).

    Returns:
        A string for built-in functions; ``{"module", "class_name", "config", "registered_name"}``
        for objects.
    """
    # ember.ops exports the ops wrapped for symbolic tensors (ember.ops.keras_symbolic): look through that
    name = _NAME_OF.get(id(activation)) or _NAME_OF.get(id(getattr(activation, "__wrapped__", None)))
    if name is not None:
        return name
    if not isinstance(activation, types.FunctionType) and hasattr(activation, "get_config"):
        cls = type(activation)
        return {
            "module": cls.__module__,
            "class_name": cls.__name__,
            "config": activation.get_config(),
            "registered_name": cls.__name__,
        }
    raise ValueError(
        f"activations.serialize: {activation!r} is not one of Ember's activations {sorted(ALL_ACTIVATIONS)} "
        "and has no get_config(); pass a built-in activation or an object with get_config"
    )


def deserialize(config, custom_objects=None):
    """The activation named by ``config``: a name, or a Keras config dict (``{"class_name": "function",
    "config": "relu", ...}`` for functions, ``{"class_name": ..., "config": {...}}`` for objects).

    Args:
        config: what :func:`serialize` (or ``keras.activations.serialize``) returned.
        custom_objects: optional ``{name: function or class}`` for activations defined outside Ember.

    Returns:
        The activation callable.
    """
    lookup = {**ALL_ACTIVATIONS, **(custom_objects or {})}
    if isinstance(config, str):
        if config not in lookup:
            raise _unknown("activations.deserialize", config)
        return lookup[config]
    if isinstance(config, dict) and "config" in config:
        inner = config["config"]
        if isinstance(inner, str):  # a function, stored by name
            return deserialize(inner, custom_objects)
        name = config.get("registered_name") or config.get("class_name")
        cls = lookup.get(name) or lookup.get(config.get("class_name"))
        if cls is None:
            raise _unknown("activations.deserialize", config.get("class_name"))
        return cls.from_config(inner) if hasattr(cls, "from_config") else cls(**inner)
    raise ValueError(f"activations.deserialize: expected a name or a Keras config dict, got {config!r}")


def get(identifier):
    """Resolve what ``activation=`` may hold into a function.

    Args:
        identifier: ``None`` (the identity, ``linear``), a name (``"relu"``, ``"softmax"``,
            ``"swish"``...), a Keras config dict, or any callable (returned as is).

    Returns:
        A callable ``(x) -> Tensor``.
    """
    if identifier is None:
        return _ops.linear
    if isinstance(identifier, str):
        fn = ALL_ACTIVATIONS.get(identifier)
        if fn is None:  # the user's own, by name: registered or in an open custom_object_scope, as Keras
            from ..utils.object_registration import get_registered_object

            fn = get_registered_object(identifier)
        if fn is None:
            raise _unknown("activations.get", identifier)
        return fn
    if isinstance(identifier, dict):
        return deserialize(identifier)
    if callable(identifier):
        return identifier
    raise ValueError(
        f"activations.get: expected None, an activation name, a config dict or a callable, got {identifier!r}"
    )
