"""``Variable``: a named, updatable leaf tensor (a layer's weight, an optimizer's slot).

A Variable is a :class:`Tensor` whose ``requires_grad`` follows ``trainable``;
``assign`` and friends write its data in place, so every reference (the layer,
the optimizer, a compiled plan) sees the new value. Named as Keras 3 names it
(``keras.Variable``).
"""

from __future__ import annotations

from . import function as _function
from .dtypes import is_floating
from .tensor import Tensor, _to_array


class Variable(Tensor):
    """A leaf tensor with a name that layers and optimizers update in place.

    Args:
        initializer: an array, a tensor, a number, or a callable ``(shape, dtype) -> array``.
        shape: required when ``initializer`` is a callable.
        dtype: defaults to the initial value's (float64 becomes float32).
        trainable: whether gradients are computed for it and optimizers update it.
        name: a short name such as ``"kernel"``; ``path`` adds the owner (``"dense/kernel"``).
    """

    # autocast: read in a mixed-precision layer's compute dtype during its call (engine/autocast.py)
    __slots__ = ("trainable", "path", "regularizer", "constraint", "autocast")

    def __init__(self, initializer, shape=None, dtype=None, trainable: bool = True, name: str | None = None):
        if callable(initializer) and not isinstance(initializer, Tensor):
            if shape is None:
                raise ValueError(f"Variable {name!r}: a callable initializer needs shape=")
            value = initializer(tuple(shape), dtype)
        else:
            value = initializer
        array = _to_array(value, dtype)
        if shape is not None and tuple(array.shape) != tuple(shape):
            raise ValueError(f"Variable {name!r}: initial value has shape {array.shape}, expected {tuple(shape)}")
        self._init(array, requires_grad=bool(trainable) and is_floating(array.dtype))
        self.trainable = bool(trainable)
        self.name = name or "variable"
        self.path = self.name
        self.regularizer = None
        self.constraint = None
        self.autocast = True

    def assign(self, value) -> Variable:
        """Write ``value`` (same shape) into the variable in place."""
        if _function._tracing:
            _note_write(self, "assign")
        src = value.data if isinstance(value, Tensor) else value
        xp = self.device.xp
        src = xp.asarray(src, dtype=self.dtype)
        if src.shape != self.shape:
            raise ValueError(f"assign to {self.path}: value has shape {src.shape}, the variable has shape {self.shape}")
        self.data[...] = src
        return self

    def assign_add(self, value) -> Variable:
        if _function._tracing:
            _note_write(self, "assign_add")
        self.data += value.data if isinstance(value, Tensor) else value
        return self

    def assign_sub(self, value) -> Variable:
        if _function._tracing:
            _note_write(self, "assign_sub")
        self.data -= value.data if isinstance(value, Tensor) else value
        return self

    @property
    def value(self) -> Tensor:
        """The current value as a plain tensor (shares the data)."""
        return self

    def __repr__(self) -> str:
        return f"<Variable path={self.path}, shape={self.shape}, dtype={self.dtype}, trainable={self.trainable}>"


def _note_write(variable, how) -> None:
    recorder = _function.current_recorder()
    if recorder is not None:
        recorder.on_write(variable, how)


def state_update(update, *tensors):
    """Run ``update(*tensors)``: a write of state (Variables) from values the step computed.

    BatchNormalization's moving statistics go through here. Outside a trace it
    is just the call. A tracing recorder (ember.compile) records it, so a
    replayed step repeats ``update`` with that step's values of ``tensors``;
    a write to a Variable outside such an update makes a step untraceable.
    """
    recorder = _function.current_recorder()
    if recorder is None:
        return update(*tensors)
    return recorder.on_state_update(update, tensors)
