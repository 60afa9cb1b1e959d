"""The Keras 3 activations (also in ``keras.ops.nn``) Ember has no single Function for, built from other ops.

Each keeps its input's shape and is differentiable through the ops it is made
of: ``celu``, ``glu``, ``hard_shrink``, ``hard_tanh``, ``soft_shrink``,
``sparse_plus``, ``sparse_sigmoid``, ``sparsemax``, ``squareplus``,
``tanh_shrink`` and ``threshold``.
"""

from __future__ import annotations

from ..engine.tensor import Tensor, tensor
from .activation import relu, sigmoid
from .activation import tanh as _tanh
from .arithmetic import clip, maximum, minimum, where
from .elementwise import abs as _abs
from .elementwise import expm1, sqrt, square
from .reduction import sum as _sum
from .shaping import split

__all__ = [
    "celu",
    "glu",
    "hard_shrink",
    "hard_tanh",
    "soft_shrink",
    "sparse_plus",
    "sparse_sigmoid",
    "sparsemax",
    "squareplus",
    "tanh_shrink",
    "threshold",
]


def _tensor(x) -> Tensor:
    return x if isinstance(x, Tensor) else tensor(x)


def celu(x, alpha=1.0):
    """Continuously differentiable ELU: ``x`` for x >= 0, ``alpha * (exp(x / alpha) - 1)`` below.

    Args:
        x: input tensor.
        alpha: the scale of the negative part (> 0).

    Returns:
        A tensor of ``x``'s shape: ``max(x, 0) + alpha * expm1(min(x, 0) / alpha)``.
    """
    x = _tensor(x)
    return maximum(x, 0.0) + alpha * expm1(minimum(x, 0.0) / alpha)


def glu(x, axis=-1):
    """Gated linear unit: ``x`` cut in halves ``a, b`` along ``axis``, then ``a * sigmoid(b)``.

    Args:
        x: input tensor whose size along ``axis`` is even.
        axis: the axis to cut.

    Returns:
        A tensor of ``x``'s shape with ``axis`` halved.
    """
    x = _tensor(x)
    if x.ndim == 0 or x.shape[axis] % 2 != 0:
        raise ValueError(f"glu: the size of axis {axis} must be even, got x.shape={tuple(x.shape)}")
    a, b = split(x, 2, axis=axis)
    return a * sigmoid(b)


def hard_tanh(x):
    """``clip(x, -1, 1)``: -1 below -1, ``x`` on [-1, 1], 1 above."""
    return clip(_tensor(x), -1.0, 1.0)


def hard_shrink(x, threshold=0.5):
    """``x`` where ``|x| > threshold``, else 0.

    Args:
        x: input tensor.
        threshold: the half-width of the band set to 0.
    """
    x = _tensor(x)
    return where(_abs(x) > threshold, x, 0.0)


def soft_shrink(x, threshold=0.5):
    """``x - threshold`` above ``threshold``, ``x + threshold`` below ``-threshold``, 0 between.

    Args:
        x: input tensor.
        threshold: the half-width of the band set to 0.
    """
    x = _tensor(x)
    return where(x > threshold, x - threshold, where(x < -threshold, x + threshold, 0.0))


def sparse_plus(x):
    """0 for x <= -1, ``(x + 1)**2 / 4`` for -1 < x < 1, ``x`` for x >= 1 (a smooth-ish relu)."""
    x = _tensor(x)
    return where(x <= -1.0, 0.0, where(x < 1.0, 0.25 * square(x + 1.0), x))


def sparse_sigmoid(x):
    """0 for x <= -1, ``(x + 1) / 2`` for -1 < x < 1, 1 for x >= 1."""
    x = _tensor(x)
    return where(x <= -1.0, 0.0, where(x >= 1.0, 1.0, 0.5 * (x + 1.0)))


def squareplus(x, b=4):
    """``(x + sqrt(x**2 + b)) / 2``, a smooth relu.

    Args:
        x: input tensor.
        b: the smoothness (>= 0; b = 0 gives relu).
    """
    x = _tensor(x)
    return (x + sqrt(square(x) + b)) / 2


def tanh_shrink(x):
    """``x - tanh(x)``."""
    x = _tensor(x)
    return x - _tanh(x)


def threshold(x, threshold, default_value):
    """``x`` where ``x > threshold``, else ``default_value``.

    Args:
        x: input tensor.
        threshold: values at or below it are replaced.
        default_value: the replacement.
    """
    x = _tensor(x)
    return where(x > threshold, x, default_value)


def sparsemax(x, axis=-1):
    """The Euclidean projection of ``x`` onto the probability simplex along ``axis`` (Martins & Astudillo, 2016).

    ``sparsemax(x) = max(x - tau, 0)``, with ``tau`` chosen so each slice sums to
    1: the support is the k largest entries (k the largest index with
    ``1 + k * x_(k) > x_(1) + ... + x_(k)``, x sorted decreasingly) and
    ``tau = (sum of the support - 1) / k``. Unlike softmax many outputs are exactly 0.

    Args:
        x: input tensor.
        axis: the axis whose slices become distributions.

    Returns:
        A tensor of ``x``'s shape, non-negative, summing to 1 along ``axis``. The
        gradient is sparsemax's Jacobian: ``g - mean of g over the support`` on the
        support, 0 elsewhere.
    """
    x = _tensor(x)
    if x.ndim == 0:
        raise ValueError("sparsemax: expected a tensor of rank >= 1, got a 0-d tensor")
    n = x.shape[axis]
    if n == 0:
        return x
    # Which entries form the support is a discrete choice: found on the raw array (sorting has no op);
    # tau is then rebuilt from Ember ops over that support, so the gradient flows through it.
    xp = x.device.xp
    desc = xp.flip(xp.sort(x.data, axis=axis), axis=axis)
    shape = [1] * x.ndim
    shape[axis] = n
    rank = xp.arange(1, n + 1, dtype=x.dtype).reshape(shape)
    k = (1 + rank * desc > xp.cumsum(desc, axis=axis)).sum(axis=axis, keepdims=True)
    kth_largest = xp.take_along_axis(desc, k - 1, axis=axis)
    support = Tensor._wrap(x.data >= kth_largest)  # ties with the k-th largest are in or out together
    tau = (_sum(where(support, x, 0.0), axis=axis, keepdims=True) - 1.0) / Tensor._wrap(k.astype(x.dtype))
    return relu(x - tau)
