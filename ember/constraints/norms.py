"""Norm constraints: ``MaxNorm``, ``MinMaxNorm`` and ``UnitNorm``.

Each computes the L2 norm of ``w`` over ``axis`` (with ``keepdims``) and
rescales ``w`` towards the desired norm: ``w * desired / (epsilon + norm)``,
with ``epsilon = ember.backend.epsilon()``. For a Dense kernel ``(in, out)``
the default ``axis=0`` constrains each unit's incoming weight vector; for a
Conv2D kernel ``(rows, cols, in, out)`` use ``axis=[0, 1, 2]``.
"""

from __future__ import annotations

from ..backend.config import epsilon
from ..engine.tensor import Tensor
from ..ops.arithmetic import clip
from ..ops.elementwise import sqrt, square
from ..ops.reduction import sum as _sum
from .base import Constraint, as_tensor, register


def _axis(axis):
    return tuple(axis) if isinstance(axis, (list, tuple)) else axis


def _norms(w: Tensor, axis) -> Tensor:
    return sqrt(_sum(square(w), axis=_axis(axis), keepdims=True))


@register()
class MaxNorm(Constraint):
    """Scales down the vectors whose L2 norm over ``axis`` exceeds ``max_value``; others stay (almost) as they are.

    Args:
        max_value: the largest norm allowed.
        axis: the axis or axes the norm runs over.
    """

    def __init__(self, max_value=2, axis=0):
        self.max_value = max_value
        self.axis = axis

    def __call__(self, w) -> Tensor:
        """``w * clip(norm, 0, max_value) / (epsilon + norm)``, of ``w``'s shape."""
        w = as_tensor(w)
        norms = _norms(w, self.axis)
        desired = clip(norms, 0, self.max_value)
        return w * (desired / (epsilon() + norms))

    def get_config(self) -> dict:
        return {"max_value": self.max_value, "axis": self.axis}


@register()
class MinMaxNorm(Constraint):
    """Moves the L2 norm over ``axis`` into ``[min_value, max_value]``, by the fraction ``rate``.

    The desired norm is ``rate * clip(norm, min_value, max_value) + (1 - rate) * norm``.

    Args:
        min_value: the smallest norm allowed.
        max_value: the largest norm allowed.
        rate: 1 enforces the bounds at once; smaller values move part of the way each step.
        axis: the axis or axes the norm runs over.
    """

    def __init__(self, min_value=0.0, max_value=1.0, rate=1.0, axis=0):
        self.min_value = min_value
        self.max_value = max_value
        self.rate = rate
        self.axis = axis

    def __call__(self, w) -> Tensor:
        """``w * desired / (epsilon + norm)``, of ``w``'s shape."""
        w = as_tensor(w)
        norms = _norms(w, self.axis)
        desired = self.rate * clip(norms, self.min_value, self.max_value) + (1 - self.rate) * norms
        return w * (desired / (epsilon() + norms))

    def get_config(self) -> dict:
        return {"min_value": self.min_value, "max_value": self.max_value, "rate": self.rate, "axis": self.axis}


@register()
class UnitNorm(Constraint):
    """Scales every vector over ``axis`` to (about) unit L2 norm: ``w / (epsilon + norm)``.

    Args:
        axis: the axis or axes the norm runs over.
    """

    def __init__(self, axis=0):
        self.axis = axis

    def __call__(self, w) -> Tensor:
        """``w / (epsilon + norm)``, of ``w``'s shape."""
        w = as_tensor(w)
        return w / (epsilon() + _norms(w, self.axis))

    def get_config(self) -> dict:
        return {"axis": self.axis}
