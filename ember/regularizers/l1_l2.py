"""Norm penalties: ``L1`` (sum of absolute values), ``L2`` (sum of squares) and ``L1L2`` (both)."""

from __future__ import annotations

from ..engine.creation import zeros
from ..engine.tensor import Tensor
from ..ops.elementwise import abs as _abs
from ..ops.elementwise import square
from ..ops.reduction import sum as _sum
from .base import Regularizer, as_tensor, register, validate_float_arg


@register("l1_l2")  # l1_l2: the name of the Python alias, which Keras 2 also accepted as a string
class L1L2(Regularizer):
    """``l1 * sum(|x|) + l2 * sum(x**2)``.

    Both factors default to 0 (so ``L1L2(l2=0.1)`` is a pure L2 penalty).

    Args:
        l1: the L1 factor (a float >= 0; None means 0).
        l2: the L2 factor (a float >= 0; None means 0).
    """

    def __init__(self, l1=0.0, l2=0.0):
        self.l1 = validate_float_arg(0.0 if l1 is None else l1, "l1", "L1L2")
        self.l2 = validate_float_arg(0.0 if l2 is None else l2, "l2", "L1L2")

    def __call__(self, x) -> Tensor:
        """The penalty of weight ``x`` (any shape): a 0-d tensor of ``x``'s dtype."""
        x = as_tensor(x)
        penalty = None
        if self.l1 != 0.0:
            penalty = self.l1 * _sum(_abs(x))
        if self.l2 != 0.0:
            term = self.l2 * _sum(square(x))
            penalty = term if penalty is None else penalty + term
        return zeros((), dtype=x.dtype) if penalty is None else penalty

    def get_config(self) -> dict:
        return {"l1": self.l1, "l2": self.l2}


@register()
class L1(Regularizer):
    """``l1 * sum(|x|)``.

    Args:
        l1: the factor (a float >= 0; None means the default 0.01).
    """

    def __init__(self, l1=0.01):
        self.l1 = validate_float_arg(0.01 if l1 is None else l1, "l1", "L1")

    def __call__(self, x) -> Tensor:
        """The penalty of weight ``x`` (any shape): a 0-d tensor of ``x``'s dtype."""
        return self.l1 * _sum(_abs(as_tensor(x)))

    def get_config(self) -> dict:
        return {"l1": self.l1}


@register()
class L2(Regularizer):
    """``l2 * sum(x**2)`` (no factor 1/2).

    Args:
        l2: the factor (a float >= 0; None means the default 0.01).
    """

    def __init__(self, l2=0.01):
        self.l2 = validate_float_arg(0.01 if l2 is None else l2, "l2", "L2")

    def __call__(self, x) -> Tensor:
        """The penalty of weight ``x`` (any shape): a 0-d tensor of ``x``'s dtype."""
        return self.l2 * _sum(square(as_tensor(x)))

    def get_config(self) -> dict:
        return {"l2": self.l2}
