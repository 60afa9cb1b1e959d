"""The ``Initializer`` base class and the name registry behind ``get``/``serialize``/``deserialize``.

An initializer is a callable ``initializer(shape, dtype=None) -> Tensor`` that
makes a variable's first value. The concrete families live beside this file
(``constant``, ``random``, ``variance_scaling``, ``orthogonal``) and put their
classes in the registry with :func:`register`, under the class name, its
snake_case form and any aliases Keras accepts (``"uniform"``, ``"zero"``...).
"""

from __future__ import annotations

import inspect
import re

from .._object_config import deserialize_object, serialize_object
from ..engine.tensor import Tensor

_MODULE = "keras.initializers"  # what serialize() writes, so configs load in Keras as well
_REGISTRY: dict[str, type] = {}


def _snake_case(name: str) -> str:
    """``GlorotUniform`` -> ``glorot_uniform`` (as Keras derives its lower-case names)."""
    name = re.sub(r"\W+", "", name)
    name = re.sub(r"(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub(r"([a-z])([A-Z])", r"\1_\2", name).lower()


def register(*aliases: str):
    """Class decorator: make ``cls`` resolvable by its name, its snake_case name and ``aliases``."""

    def add(cls):
        for key in (cls.__name__, _snake_case(cls.__name__), *aliases):
            _REGISTRY[key] = cls
        return cls

    return add


class Initializer:
    """Base class of every initializer.

    Subclasses implement ``__call__(shape, dtype=None)`` returning a tensor of
    ``shape`` (``dtype`` defaults to ``ember.backend.floatx()``) and, when their
    constructor takes arguments, ``get_config()`` returning them as a dict; the
    default ``from_config`` passes that dict back to the constructor.
    """

    def __call__(self, shape, dtype=None) -> Tensor:
        """A tensor of ``shape`` and ``dtype`` holding the initial values."""
        raise NotImplementedError(f"{type(self).__name__} must implement __call__(shape, dtype=None)")

    def get_config(self) -> dict:
        """The constructor arguments as a JSON-serialisable dict."""
        return {}

    @classmethod
    def from_config(cls, config: dict):
        """An initializer built from the output of :meth:`get_config`."""
        return cls(**config)

    def clone(self):
        """A new initializer with the same configuration."""
        return self.__class__.from_config(self.get_config())

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({args})"


register()(Initializer)


def serialize(initializer) -> dict:
    """The Keras 3 config dict of an initializer: ``{"module", "class_name", "config", "registered_name"}``.

    Args:
        initializer: an :class:`Initializer` (anything with ``get_config``).

    Returns:
        A dict that :func:`deserialize` (and ``keras.initializers.deserialize``) turns back into it.
    """
    return serialize_object(initializer, "initializers", "an Initializer", _REGISTRY, _MODULE)


def deserialize(config, custom_objects=None):
    """An initializer from a config dict (``{"class_name": ..., "config": {...}}``) or a name.

    Args:
        config: the output of :func:`serialize`, or a registered name such as ``"he_normal"``.
        custom_objects: optional ``{name: class}`` for initializers defined outside Ember.

    Returns:
        A new initializer instance.
    """
    return deserialize_object(config, custom_objects, "initializers", "initializer", _REGISTRY)


def get(identifier):
    """Resolve what a layer argument such as ``kernel_initializer=`` may hold into an initializer.

    Args:
        identifier: ``None`` (returned as is), a registered name (``"glorot_uniform"``,
            ``"zeros"``, ``"uniform"``...), a config dict, an initializer class (instantiated
            with its defaults), any callable ``(shape, dtype=None)``, or a tensor/array used as
            the value itself (its shape must equal the requested one).

    Returns:
        A callable ``(shape, dtype=None) -> Tensor``, or ``None``.
    """
    if identifier is None:
        return None
    if isinstance(identifier, (str, dict)):
        obj = deserialize(identifier)
    elif isinstance(identifier, Tensor) or hasattr(identifier, "__array__"):
        obj = _from_value(identifier)
    else:
        obj = identifier
    if inspect.isclass(obj):
        obj = obj()
    if not callable(obj):
        raise ValueError(
            f"initializers.get: expected None, a name, a config dict, a class, a callable or an array, "
            f"got {identifier!r}"
        )
    return obj


def _from_value(value):
    """An initializer that returns ``value`` (cast to the requested dtype) for its own shape only."""
    from ..backend.config import floatx
    from ..engine.tensor import tensor

    source = value if isinstance(value, Tensor) else tensor(value)

    def initialize_fn(shape, dtype=None):
        if tuple(shape) != tuple(source.shape):
            raise ValueError(
                f"initializer from a tensor: expected shape={tuple(source.shape)} (the tensor's shape), "
                f"got shape={tuple(shape)}"
            )
        return tensor(source, dtype=dtype or floatx())

    return initialize_fn
