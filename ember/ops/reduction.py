"""Reductions over any axes, with ``keepdims``: sum, mean, max, min, var, std, prod, logsumexp, ...

Every reduction takes ``axis`` (None for all axes, an int, or a tuple) and
``keepdims`` as in NumPy. The index reductions (``argmax``/``argmin``) and the
boolean ones (``any``/``all``) pass no gradient. ``cumsum``/``cumprod`` keep the
input's shape (flattened when ``axis`` is None).
"""

from __future__ import annotations

import builtins

import numpy

from ..engine.function import Function
from ._checks import normalize_axes, normalize_axis

__all__ = [
    "sum",
    "mean",
    "max",
    "min",
    "amax",
    "amin",
    "var",
    "std",
    "prod",
    "logsumexp",
    "argmax",
    "argmin",
    "any",
    "all",
    "cumsum",
    "cumprod",
]


_NDARRAY, _empty = numpy.ndarray, numpy.empty
_SMALL = 4096  # Sum's backward fills a new array up to this many elements instead of a broadcast view


def _kept_shape(shape, axes):
    """``shape`` with the reduced ``axes`` set to 1 (the keepdims shape)."""
    return tuple(1 if i in axes else n for i, n in enumerate(shape))


def _count(shape, axes):
    n = 1
    for a in axes:
        n *= shape[a]
    return n


class _Reduction(Function):
    """Shared bookkeeping: normalised axes, the input shape, and the keepdims shape."""

    def _setup(self, x, axis, keepdims):
        if axis is None:  # every axis (a loss's total): nothing to check
            self.axes, self.kept = tuple(range(x.ndim)), (1,) * x.ndim
        else:
            self.axes = normalize_axes(self.op_name(), axis, x.ndim)
            self.kept = _kept_shape(x.shape, self.axes)
        self.shape = x.shape
        self.keepdims = keepdims

    def _out(self, y_kept):
        """The result from its keepdims form."""
        if self.keepdims:
            return y_kept
        return y_kept.reshape(tuple(n for i, n in enumerate(self.shape) if i not in self.axes))

    def _g(self, g):
        """The upstream gradient in the keepdims shape, ready to broadcast against x."""
        return g if self.keepdims else g.reshape(self.kept)


class Sum(_Reduction):
    """y = x summed over ``axis`` (all axes when None). Shapes: x (...) -> y (reduced)."""

    graph_saved = {}

    def forward(self, x, axis=None, keepdims=False):
        self._setup(x, axis, keepdims)
        return x.sum(axis=self.axes, keepdims=keepdims)

    def backward(self, g):
        if type(g) is _NDARRAY and len(self.shape) == 1 and self.shape[0] <= _SMALL:
            # the fast form for small sums (a loss's total over the batch): the same values in a new array,
            # cheaper to make than broadcast_to's view
            out = _empty(self.shape, g.dtype)
            out[...] = g
            return out
        return self.xp.broadcast_to(self._g(g), self.shape)


class Mean(_Reduction):
    """y = x averaged over ``axis`` (all axes when None). Shapes: x (...) -> y (reduced)."""

    graph_saved = {}

    def forward(self, x, axis=None, keepdims=False):
        self._setup(x, axis, keepdims)
        self.count = _count(x.shape, self.axes)
        return x.mean(axis=self.axes, keepdims=keepdims)

    def backward(self, g):
        return self.xp.broadcast_to(self._g(g) / builtins.max(self.count, 1), self.shape)


class _Extreme(_Reduction):
    """max/min: the gradient is shared evenly among the tied extreme entries (as torch.amax)."""

    graph_saved = {}

    def forward(self, x, axis=None, keepdims=False):
        self._setup(x, axis, keepdims)
        if _count(x.shape, self.axes) == 0:
            raise ValueError(
                f"{self.op_name()}: cannot reduce an empty axis; got shape {x.shape} with axis {axis} "
                "(the reduction has no identity)"
            )
        m = self._reduce(x, axis=self.axes, keepdims=True)
        if builtins.any(self.needs_input_grad):
            self.x, self.m = x, m
        return self._out(m)

    def backward(self, g):
        hit = self.x == self.m
        count = hit.sum(axis=self.axes, keepdims=True)
        return hit * (self._g(g) / count).astype(g.dtype, copy=False)


class Max(_Extreme):
    """y = largest entry of x over ``axis``. Shapes: x (...) -> y (reduced)."""

    name = "max"

    @staticmethod
    def _reduce(x, **kw):
        return x.max(**kw)


class Min(_Extreme):
    """y = smallest entry of x over ``axis``. Shapes: x (...) -> y (reduced)."""

    name = "min"

    @staticmethod
    def _reduce(x, **kw):
        return x.min(**kw)


class Var(_Reduction):
    """y = sum((x - mean)**2) / (N - ddof) over ``axis``. Shapes: x (...) -> y (reduced).

    dy/dx = 2 (x - mean) / (N - ddof); the mean's own dependence on x cancels
    because the deviations sum to zero.
    """

    name = "var"
    graph_saved = {"x": 0}

    def forward(self, x, axis=None, keepdims=False, ddof=0):
        self._setup(x, axis, keepdims)
        self.denom = _count(x.shape, self.axes) - ddof
        self.x = x  # for create_graph, which rebuilds dev as a tensor
        self.dev = x - x.mean(axis=self.axes, keepdims=True)
        var = (self.dev * self.dev).sum(axis=self.axes, keepdims=True) / self.denom
        return self._out(var)

    def backward(self, g):
        return self.dev * (self._g(g) * (2.0 / self.denom)).astype(g.dtype, copy=False)

    def graph_derive(self):
        x = self.x
        self.dev = x - x.mean(axis=self.axes, keepdims=True)
        if "y" in self.__dict__:  # std: y = sqrt(var), kept dims
            self.y = self.xp.sqrt((self.dev * self.dev).sum(axis=self.axes, keepdims=True) / self.denom)


class Std(Var):
    """y = sqrt(var(x, ddof)) over ``axis``. Gradient (x - mean) / ((N - ddof) y), taken as 0 where y == 0."""

    name = "std"

    def forward(self, x, axis=None, keepdims=False, ddof=0):
        var = super().forward(x, axis, True, ddof)
        self.keepdims = keepdims
        self.y = self.xp.sqrt(var)
        return self._out(self.y)

    def backward(self, g):
        xp = self.xp
        safe = xp.where(self.y == 0, 1, self.y)
        scale = xp.where(self.y == 0, 0, self._g(g) / (safe * self.denom)).astype(g.dtype, copy=False)
        return self.dev * scale


class Prod(_Reduction):
    """y = product of x over ``axis``. Shapes: x (...) -> y (reduced).

    dy/dx_i = product of the other entries. Computed without dividing by zero:
    with no zero in a slice it is y / x_i; with exactly one zero, the zero entry
    gets the product of the non-zero entries and the rest get 0; with two or
    more zeros every entry gets 0.
    """

    graph_saved = {"x": 0}

    def forward(self, x, axis=None, keepdims=False):
        self._setup(x, axis, keepdims)
        if builtins.any(self.needs_input_grad):
            self.x = x
        return x.prod(axis=self.axes, keepdims=keepdims)

    def backward(self, g):
        xp, x = self.xp, self.x
        zero = x == 0
        safe = xp.where(zero, 1, x).astype(x.dtype, copy=False)
        nonzero_prod = safe.prod(axis=self.axes, keepdims=True)
        zeros = zero.sum(axis=self.axes, keepdims=True)
        grad = xp.where(zeros == 0, nonzero_prod / safe, xp.where((zeros == 1) & zero, nonzero_prod, 0))
        return grad.astype(g.dtype, copy=False) * self._g(g)


class LogSumExp(_Reduction):
    """y = log(sum(exp(x))) over ``axis``, shifted by the max for stability. Shapes: x (...) -> y (reduced).

    Gradient: softmax(x) * g; a slice of only -inf entries (y = -inf) gets a zero
    gradient where PyTorch gives nan.
    """

    name = "logsumexp"
    graph_saved = {"x": 0}

    def forward(self, x, axis=None, keepdims=False):
        xp = self.xp
        self._setup(x, axis, keepdims)
        if _count(x.shape, self.axes) == 0:
            m = xp.zeros(self.kept, dtype=x.dtype)
        else:
            m = x.max(axis=self.axes, keepdims=True)
            m = xp.where(xp.isfinite(m), m, 0).astype(x.dtype, copy=False)
        with _Quiet(xp):  # log(0) = -inf is the right answer for an all -inf slice
            y = xp.log(xp.exp(x - m).sum(axis=self.axes, keepdims=True)) + m
        if builtins.any(self.needs_input_grad):
            self.x, self.y = x, y
        return self._out(y)

    def graph_derive(self):
        self.y = logsumexp(self.x, axis=self.axes, keepdims=True)

    def backward(self, g):
        xp = self.xp
        empty = self.y == -xp.inf  # every entry -inf: no softmax to pass back; 0 instead of nan
        if empty.any():
            return xp.where(empty, 0, xp.exp(self.x - xp.where(empty, 0, self.y))) * self._g(g)
        return xp.exp(self.x - self.y) * self._g(g)


class _Index(Function):
    """argmax/argmin: integer positions, no gradient."""

    def forward(self, x, axis=None, keepdims=False):
        op = self.op_name()
        if axis is not None:
            axis = normalize_axis(op, int(axis), x.ndim) if x.ndim else _scalar_axis(op, axis)
        n = x.size if axis is None or x.ndim == 0 else x.shape[axis]
        if n == 0:
            raise ValueError(f"{op}: cannot take the position over an empty axis; got shape {x.shape} with axis {axis}")
        out = self._reduce(x, axis=axis)
        if keepdims:
            out = out.reshape((1,) * x.ndim if axis is None else _kept_shape(x.shape, (axis,)))
        return out

    def backward(self, g):
        return None


def _scalar_axis(op, axis):
    if axis not in (0, -1):
        raise ValueError(f"{op}: axis {axis} is out of range for a tensor with 0 dimensions")
    return None


class ArgMax(_Index):
    """Positions of the largest entries along ``axis`` (of the flattened x when None). Integer output."""

    name = "argmax"

    @staticmethod
    def _reduce(x, axis):
        return x.argmax(axis=axis)


class ArgMin(_Index):
    """Positions of the smallest entries along ``axis`` (of the flattened x when None). Integer output."""

    name = "argmin"

    @staticmethod
    def _reduce(x, axis):
        return x.argmin(axis=axis)


class Any(_Reduction):
    """True where any entry over ``axis`` is non-zero. Boolean output, no gradient."""

    def forward(self, x, axis=None, keepdims=False):
        self._setup(x, axis, keepdims)
        return x.any(axis=self.axes, keepdims=keepdims)

    def backward(self, g):
        return None


class All(_Reduction):
    """True where every entry over ``axis`` is non-zero. Boolean output, no gradient."""

    def forward(self, x, axis=None, keepdims=False):
        self._setup(x, axis, keepdims)
        return x.all(axis=self.axes, keepdims=keepdims)

    def backward(self, g):
        return None


class _Scan(Function):
    """Shared by cumsum/cumprod: ``axis=None`` scans the flattened input."""

    def _setup(self, x, axis):
        self.shape = x.shape
        if axis is None:
            x = x.reshape(-1)
            self.axis = 0
        else:
            self.axis = normalize_axis(self.op_name(), int(axis), x.ndim) if x.ndim else _scan_scalar(self, axis)
        return x

    def _rev_cumsum(self, a):
        xp = self.xp
        return xp.flip(xp.cumsum(xp.flip(a, self.axis), axis=self.axis), self.axis)


def _scan_scalar(fn, axis):
    raise ValueError(f"{fn.op_name()}: axis {axis} is out of range for a tensor with 0 dimensions; use axis=None")


class CumSum(_Scan):
    """y[..., i, ...] = sum of x[..., :i+1, ...] along ``axis``. Shapes: x (...) -> y (same; flat when axis is None).

    The gradient is the reversed cumulative sum of g.
    """

    name = "cumsum"
    graph_saved = {}

    def forward(self, x, axis=None):
        x = self._setup(x, axis)
        return self.xp.cumsum(x, axis=self.axis, dtype=x.dtype if x.dtype.kind == "f" else None)

    def backward(self, g):
        return self._rev_cumsum(g).reshape(self.shape)


class CumProd(_Scan):
    """y[..., i, ...] = product of x[..., :i+1, ...] along ``axis``. Shapes: x (...) -> y (same; flat if axis None).

    With z the first zero of a slice (the slice length when there is none):
    for i < z, dx_i = revcumsum(g * y)_i / x_i over j < z (no division by zero);
    at i = z, dx_z = prod(x[:z]) * sum_{j >= z} g_j * prod(x[z+1 : j+1]);
    for i > z, dx_i = 0 because every later product keeps the factor x_z = 0.
    """

    name = "cumprod"
    graph_saved = {"x": 0, "y": ("out", 0)}

    def forward(self, x, axis=None):
        x = self._setup(x, axis)
        y = self.xp.cumprod(x, axis=self.axis, dtype=x.dtype if x.dtype.kind == "f" else None)
        if builtins.any(self.needs_input_grad):
            self.x, self.y = x, y
        return y

    def backward(self, g):
        xp, x, ax = self.xp, self.x, self.axis
        zero = x == 0
        before = xp.cumsum(zero, axis=ax) == 0  # strictly before the first zero
        first_zero = zero & (xp.cumsum(zero, axis=ax) == 1)
        one = x.dtype.type(1)
        gy = g * self.y
        grad = xp.where(before, self._rev_cumsum(xp.where(before, gy, 0)) / xp.where(before, x, one), 0)
        if first_zero.any():
            head = xp.where(before, x, one).prod(axis=ax, keepdims=True)
            tail = xp.cumprod(xp.where(before | first_zero, one, x), axis=ax)
            at_zero = head * xp.where(before, 0, g * tail).sum(axis=ax, keepdims=True)
            grad = xp.where(first_zero, at_zero, grad)
        return grad.astype(g.dtype, copy=False).reshape(self.shape)


class _Quiet:
    """Silence NumPy's divide/overflow warnings inside a block (CuPy has none to silence)."""

    def __init__(self, xp):
        self.errstate = getattr(xp, "errstate", None)

    def __enter__(self):
        if self.errstate is not None:
            self._ctx = self.errstate(divide="ignore")
            self._ctx.__enter__()

    def __exit__(self, *exc):
        if self.errstate is not None:
            self._ctx.__exit__(*exc)


def sum(x, axis=None, keepdims=False):  # noqa: A001 - NumPy's name
    """Sum of ``x`` over ``axis`` (an int, a tuple, or None for all)."""
    return Sum.apply(x, axis=axis, keepdims=keepdims)


def mean(x, axis=None, keepdims=False):
    """Arithmetic mean of ``x`` over ``axis`` (an int, a tuple, or None for all)."""
    return Mean.apply(x, axis=axis, keepdims=keepdims)


def max(x, axis=None, keepdims=False):  # noqa: A001 - NumPy's name
    """Largest entry of ``x`` over ``axis``; tied maxima share the gradient evenly."""
    return Max.apply(x, axis=axis, keepdims=keepdims)


def min(x, axis=None, keepdims=False):  # noqa: A001 - NumPy's name
    """Smallest entry of ``x`` over ``axis``; tied minima share the gradient evenly."""
    return Min.apply(x, axis=axis, keepdims=keepdims)


amax = max
amin = min


def var(x, axis=None, keepdims=False, ddof=0):
    """Variance of ``x`` over ``axis``, dividing by ``N - ddof``."""
    return Var.apply(x, axis=axis, keepdims=keepdims, ddof=ddof)


def std(x, axis=None, keepdims=False, ddof=0):
    """Standard deviation of ``x`` over ``axis``, dividing by ``N - ddof``."""
    return Std.apply(x, axis=axis, keepdims=keepdims, ddof=ddof)


def prod(x, axis=None, keepdims=False):
    """Product of ``x`` over ``axis``; gradients stay exact when entries are zero."""
    return Prod.apply(x, axis=axis, keepdims=keepdims)


def logsumexp(x, axis=None, keepdims=False):
    """``log(sum(exp(x)))`` over ``axis``, computed without overflow."""
    return LogSumExp.apply(x, axis=axis, keepdims=keepdims)


def argmax(x, axis=None, keepdims=False):
    """Index of the largest entry along ``axis`` (into the flattened ``x`` when None); int64, no gradient."""
    return ArgMax.apply(x, axis=axis, keepdims=keepdims)


def argmin(x, axis=None, keepdims=False):
    """Index of the smallest entry along ``axis`` (into the flattened ``x`` when None); int64, no gradient."""
    return ArgMin.apply(x, axis=axis, keepdims=keepdims)


def any(x, axis=None, keepdims=False):  # noqa: A001 - NumPy's name
    """Whether any entry over ``axis`` is non-zero (bool, no gradient)."""
    return Any.apply(x, axis=axis, keepdims=keepdims)


def all(x, axis=None, keepdims=False):  # noqa: A001 - NumPy's name
    """Whether every entry over ``axis`` is non-zero (bool, no gradient)."""
    return All.apply(x, axis=axis, keepdims=keepdims)


def cumsum(x, axis=None):
    """Running sum along ``axis`` (over the flattened ``x`` when None)."""
    return CumSum.apply(x, axis=axis)


def cumprod(x, axis=None):
    """Running product along ``axis`` (over the flattened ``x`` when None); exact gradients with zeros."""
    return CumProd.apply(x, axis=axis)
