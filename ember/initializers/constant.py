"""Initializers that need no randomness: ``Zeros``, ``Ones``, ``Constant``, ``Identity``."""

from __future__ import annotations

import numbers

from ..backend.config import floatx
from ..engine.creation import eye, full, ones, zeros
from ..engine.tensor import Tensor, tensor
from .base import Initializer, register


def _shape(shape) -> tuple:
    return (int(shape),) if isinstance(shape, numbers.Integral) else tuple(int(d) for d in shape)


@register("zero")
class Zeros(Initializer):
    """All zeros.

    Example:
        >>> ember.initializers.Zeros()((2, 3))   # a (2, 3) float32 tensor of 0
    """

    def __call__(self, shape, dtype=None) -> Tensor:
        """A tensor of ``shape`` (dtype ``floatx()`` unless given) filled with 0."""
        return zeros(_shape(shape), dtype=dtype or floatx())


@register("one")
class Ones(Initializer):
    """All ones."""

    def __call__(self, shape, dtype=None) -> Tensor:
        """A tensor of ``shape`` (dtype ``floatx()`` unless given) filled with 1."""
        return ones(_shape(shape), dtype=dtype or floatx())


@register()
class Constant(Initializer):
    """Every entry equal to ``value``.

    Args:
        value: a Python scalar (an array broadcastable to the requested shape also works).
    """

    def __init__(self, value=0.0):
        self.value = value

    def __call__(self, shape, dtype=None) -> Tensor:
        """A tensor of ``shape`` filled with ``value`` cast to ``dtype`` (``floatx()`` unless given)."""
        dtype = dtype or floatx()
        shape = _shape(shape)
        if isinstance(self.value, (numbers.Number, bool)):
            return full(shape, self.value, dtype=dtype)
        return ones(shape, dtype=dtype) * tensor(self.value, dtype=dtype)

    def get_config(self) -> dict:
        value = self.value
        if isinstance(value, Tensor):
            value = value.tolist()
        elif hasattr(value, "tolist"):  # NumPy scalars and arrays become plain Python values
            value = value.tolist()
        return {"value": value}


@register("IdentityInitializer")
class Identity(Initializer):
    """``gain`` times the identity matrix; only for 2-D shapes (non-square ones get ``eye(rows, cols)``).

    Args:
        gain: the factor applied to the identity matrix.
    """

    def __init__(self, gain=1.0):
        self.gain = gain

    def __call__(self, shape, dtype=None) -> Tensor:
        """A ``(rows, cols)`` tensor with ``gain`` on the main diagonal and 0 elsewhere."""
        shape = _shape(shape)
        if len(shape) != 2:
            raise ValueError(f"Identity initializer: expected a 2-D shape, got shape={shape} of rank {len(shape)}")
        dtype = dtype or floatx()
        if self.gain == 1:
            return eye(shape[0], shape[1], dtype=dtype)
        return eye(shape[0], shape[1], dtype=dtype) * self.gain

    def get_config(self) -> dict:
        return {"gain": self.gain}
