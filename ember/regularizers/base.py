"""The ``Regularizer`` base class and the name registry behind ``get``/``serialize``/``deserialize``.

A regularizer maps a weight to a scalar penalty that training adds to the
loss: ``regularizer(weight) -> scalar Tensor``, built from Ember ops so its
gradient flows to the weight.
"""

from __future__ import annotations

import inspect
import math
import numbers

from .._object_config import deserialize_object, serialize_object
from ..engine.creation import zeros
from ..engine.tensor import Tensor, tensor
from ..initializers.base import _snake_case

_MODULE = "keras.regularizers"
_REGISTRY: dict[str, type] = {}


def register(*aliases: str):
    """Class decorator: make ``cls`` resolvable by its name, its snake_case name and ``aliases``."""

    def add(cls):
        for key in (cls.__name__, _snake_case(cls.__name__), *aliases):
            _REGISTRY[key] = cls
        return cls

    return add


def as_tensor(x) -> Tensor:
    """``x`` itself when it is a tensor (so gradients reach it), else a new tensor of its values."""
    return x if isinstance(x, Tensor) else tensor(x)


def validate_float_arg(value, name: str, where: str) -> float:
    """``value`` as a float, after checking it is a finite number >= 0."""
    if (
        isinstance(value, bool)
        or not isinstance(value, numbers.Real)
        or math.isinf(value)
        or math.isnan(value)
        or value < 0
    ):
        raise ValueError(f"{where}: {name} must be a finite float >= 0, got {name}={value!r}")
    return float(value)


@register()
class Regularizer:
    """Base class of weight penalties.

    Subclasses implement ``__call__(x)`` returning a scalar tensor and
    ``get_config()`` returning their constructor arguments; ``from_config``
    passes that dict back to the constructor. The base penalty is 0.
    """

    def __call__(self, x) -> Tensor:
        """The penalty for weight ``x``: a 0-d tensor (0 here)."""
        return zeros((), dtype=as_tensor(x).dtype)

    @classmethod
    def from_config(cls, config: dict):
        """A regularizer built from the output of :meth:`get_config`."""
        return cls(**config)

    def get_config(self) -> dict:
        """The constructor arguments as a JSON-serialisable dict."""
        raise NotImplementedError(f"{type(self).__name__} does not implement get_config()")

    def __repr__(self) -> str:
        try:
            args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        except NotImplementedError:
            args = ""
        return f"{type(self).__name__}({args})"


def serialize(regularizer) -> dict | None:
    """The Keras 3 config dict of a regularizer: ``{"module", "class_name", "config", "registered_name"}``."""
    return serialize_object(regularizer, "regularizers", "a Regularizer", _REGISTRY, _MODULE)


def deserialize(config, custom_objects=None):
    """A regularizer from a config dict (``{"class_name": ..., "config": {...}}``) or a name such as ``"l2"``.

    Args:
        config: the output of :func:`serialize`, or a registered name.
        custom_objects: optional ``{name: class}`` for regularizers defined outside Ember.

    Returns:
        A new regularizer instance.
    """
    return deserialize_object(config, custom_objects, "regularizers", "regularizer", _REGISTRY)


def get(identifier):
    """Resolve a layer argument such as ``kernel_regularizer=`` into a regularizer.

    Args:
        identifier: ``None`` (returned as is), a name (``"l1"``, ``"l2"``, ``"l1l2"``,
            ``"L1L2"``, ``"orthogonal_regularizer"``), a config dict, a class (instantiated
            with its defaults) or any callable ``(weight) -> scalar``.

    Returns:
        A callable regularizer, or ``None``.
    """
    if identifier is None:
        return None
    if isinstance(identifier, dict):
        obj = deserialize(identifier)
    elif isinstance(identifier, str):
        obj = _REGISTRY.get(identifier)
        if obj is None:
            raise ValueError(f"regularizers.get: unknown regularizer {identifier!r}; known names: {sorted(_REGISTRY)}")
    else:
        obj = identifier
    if inspect.isclass(obj):
        obj = obj()
    if not callable(obj):
        raise ValueError(
            f"regularizers.get: expected None, a name, a config dict, a class or a callable, got {identifier!r}"
        )
    return obj
