"""The ``Constraint`` base class and the name registry behind ``get``/``serialize``/``deserialize``.

A constraint maps a weight to its projection onto an allowed set (non-negative
values, bounded norms); the optimizer applies it after each update:
``variable.assign(constraint(variable))``.
"""

from __future__ import annotations

import inspect

from .._object_config import deserialize_object, serialize_object
from ..engine.tensor import Tensor, tensor
from ..initializers.base import _snake_case

_MODULE = "keras.constraints"
_REGISTRY: dict[str, type] = {}


def register(*aliases: str):
    """Class decorator: make ``cls`` resolvable by its name, its snake_case name and ``aliases``."""

    def add(cls):
        for key in (cls.__name__, _snake_case(cls.__name__), *aliases):
            _REGISTRY[key] = cls
        return cls

    return add


def as_tensor(w) -> Tensor:
    """``w`` itself when it is a tensor, else a new tensor of its values."""
    return w if isinstance(w, Tensor) else tensor(w)


@register()
class Constraint:
    """Base class of weight constraints: ``constraint(w)`` returns the constrained weight (here ``w`` itself).

    Subclasses implement ``__call__(w)`` with Ember ops and ``get_config()``
    returning their constructor arguments; ``from_config`` passes that dict
    back to the constructor.
    """

    def __call__(self, w) -> Tensor:
        """The constrained weight, of ``w``'s shape and dtype."""
        return w

    def get_config(self) -> dict:
        """The constructor arguments as a JSON-serialisable dict."""
        return {}

    @classmethod
    def from_config(cls, config: dict):
        """A constraint built from the output of :meth:`get_config`."""
        return cls(**config)

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({args})"


def serialize(constraint) -> dict | None:
    """The Keras 3 config dict of a constraint: ``{"module", "class_name", "config", "registered_name"}``."""
    return serialize_object(constraint, "constraints", "a Constraint", _REGISTRY, _MODULE)


def deserialize(config, custom_objects=None):
    """A constraint from a config dict (``{"class_name": ..., "config": {...}}``) or a name such as ``"non_neg"``.

    Args:
        config: the output of :func:`serialize`, or a registered name.
        custom_objects: optional ``{name: class}`` for constraints defined outside Ember.

    Returns:
        A new constraint instance.
    """
    return deserialize_object(config, custom_objects, "constraints", "constraint", _REGISTRY)


def get(identifier):
    """Resolve a layer argument such as ``kernel_constraint=`` into a constraint.

    Args:
        identifier: ``None`` (returned as is), a name (``"max_norm"``, ``"MaxNorm"``,
            ``"min_max_norm"``, ``"non_neg"``, ``"unit_norm"``), a config dict, a class
            (instantiated with its defaults) or any callable ``(weight) -> weight``.

    Returns:
        A callable constraint, or ``None``.
    """
    if identifier is None:
        return None
    if isinstance(identifier, dict):
        obj = deserialize(identifier)
    elif isinstance(identifier, str):
        obj = _REGISTRY.get(identifier)
        if obj is None:
            raise ValueError(f"constraints.get: unknown constraint {identifier!r}; known names: {sorted(_REGISTRY)}")
    else:
        obj = identifier
    if inspect.isclass(obj):
        obj = obj()
    if not callable(obj):
        raise ValueError(
            f"constraints.get: expected None, a name, a config dict, a class or a callable, got {identifier!r}"
        )
    return obj
