"""Reductions over any axes, with ``keepdims``: sum, mean, ... (more to come)."""

from __future__ import annotations

from ..engine.function import Function
from ._checks import normalize_axes

__all__ = ["sum", "mean"]


class Sum(Function):
    """y = x summed over ``axis`` (all axes when None). Shapes: x (...) -> y (reduced)."""

    def forward(self, x, axis=None, keepdims=False):
        self.axes = normalize_axes("sum", axis, x.ndim)
        self.shape = x.shape
        self.keepdims = keepdims
        return x.sum(axis=self.axes, keepdims=keepdims)

    def backward(self, g):
        if not self.keepdims:
            g = g.reshape(_kept_shape(self.shape, self.axes))
        return self.xp.broadcast_to(g, self.shape)


class Mean(Function):
    """y = x averaged over ``axis`` (all axes when None)."""

    def forward(self, x, axis=None, keepdims=False):
        self.axes = normalize_axes("mean", axis, x.ndim)
        self.shape = x.shape
        self.keepdims = keepdims
        self.count = 1
        for a in self.axes:
            self.count *= x.shape[a]
        return x.mean(axis=self.axes, keepdims=keepdims)

    def backward(self, g):
        if not self.keepdims:
            g = g.reshape(_kept_shape(self.shape, self.axes))
        return self.xp.broadcast_to(g / max(self.count, 1), self.shape)


def _kept_shape(shape, axes):
    """``shape`` with the reduced ``axes`` set to 1 (the keepdims shape)."""
    return tuple(1 if i in axes else n for i, n in enumerate(shape))


def sum(x, axis=None, keepdims=False):  # noqa: A001 - NumPy's name
    """Sum of ``x`` over ``axis`` (an int, a tuple, or None for all)."""
    return Sum.apply(x, axis=axis, keepdims=keepdims)


def mean(x, axis=None, keepdims=False):
    """Arithmetic mean of ``x`` over ``axis`` (an int, a tuple, or None for all)."""
    return Mean.apply(x, axis=axis, keepdims=keepdims)
