"""Indexing: ``x[index]`` (basic and advanced), take, take_along_axis, one_hot.

Index tensors, arrays and lists are constants, never differentiable inputs:
they are unwrapped to arrays on the indexed tensor's device. Gradients flow to
the indexed tensor only. Where an element may be picked more than once
(integer index arrays), the backward pass accumulates with ``xp.add.at``; basic
indexing (ints, slices, None, Ellipsis) and boolean masks pick each element at
most once, so their backward writes straight into a zeros array.
"""

from __future__ import annotations

import numbers

import numpy

from ..backend.config import floatx
from ..engine.dtypes import resolve_dtype
from ..engine.function import Function
from ._checks import normalize_axis

__all__ = ["getitem", "take", "take_along_axis", "one_hot"]


def _unwrap(v):
    """An index component with Ember tensors replaced by their arrays and lists by NumPy arrays."""
    from ..engine.tensor import Tensor

    if isinstance(v, Tensor):
        return v.data
    if isinstance(v, list):
        return numpy.asarray([x.numpy() if isinstance(x, Tensor) else x for x in v])
    return v


def _is_array(v) -> bool:
    return hasattr(v, "dtype") and hasattr(v, "ndim")


class GetItem(Function):
    """y = x[index] with NumPy's indexing rules. Shapes: as NumPy gives them.

    The gradient is a zeros array of x's shape with g written (basic indexing,
    boolean masks) or accumulated (integer index arrays, which may repeat) at
    the indexed positions.
    """

    name = "getitem"
    graph_saved = {}

    def forward(self, x, index):
        xp = self.xp
        index = tuple(xp.asarray(i) if _is_array(i) else i for i in index)
        # an integer array (not a 0-d one, which NumPy treats as an int) may pick an element twice
        self.repeats = any(_is_array(i) and i.dtype.kind in "iu" and i.ndim > 0 for i in index)
        for i in index:
            if _is_array(i) and i.dtype.kind not in "iub":
                raise IndexError(f"getitem: index arrays must be integer or boolean, got dtype {i.dtype}")
        try:
            out = x[index]
        except IndexError as err:
            raise IndexError(f"getitem: {err} (indexing a tensor of shape {x.shape})") from None
        self.index, self.shape = index, x.shape
        return out

    def backward(self, g):
        gx = self.xp.zeros(self.shape, dtype=g.dtype)
        if self.repeats:
            self.xp.add.at(gx, self.index, g)
        else:
            gx[self.index] = g
        return gx


def getitem(x, index):
    """``x[index]``: ints, slices (any step), None, Ellipsis, boolean masks, integer index arrays, mixtures.

    Index tensors, arrays and lists are constants (no gradient flows into them).
    """
    if not isinstance(index, tuple):
        index = (index,)
    return GetItem.apply(x, index=tuple(_unwrap(i) for i in index))


def _index_array(xp, op, indices):
    idx = xp.asarray(_unwrap(indices))
    if idx.dtype.kind not in "iu":
        if idx.size == 0:
            idx = idx.astype(numpy.int64)
        else:
            raise TypeError(f"{op}: indices must be integers, got dtype {idx.dtype}")
    return idx


class Take(Function):
    """y = x's entries at ``indices`` along ``axis`` (of the flattened x when None), as ``numpy.take``.

    Shapes: x (..., n, ...) with indices (i...) -> y (..., i..., ...). Negative
    indices count from the end; repeated indices accumulate their gradients.
    """

    graph_saved = {}

    def forward(self, x, indices, axis=None):
        xp = self.xp
        idx = _index_array(xp, "take", indices)
        self.shape = x.shape
        if axis is None:
            x = x.reshape(-1)
            axis = 0
        else:
            axis = normalize_axis("take", int(axis), x.ndim)
        n = x.shape[axis]
        if idx.size and (idx.min().item() < -n or idx.max().item() >= n):
            raise IndexError(f"take: indices must lie in [{-n}, {n}) for axis {axis} of shape {x.shape}")
        self.axis, self.idx, self.flat_shape = axis, idx, x.shape
        return xp.take(x, idx, axis=axis)

    def backward(self, g):
        xp = self.xp
        gx = xp.zeros(self.flat_shape, dtype=g.dtype)
        xp.add.at(gx, (slice(None),) * self.axis + (self.idx,), g)
        return gx.reshape(self.shape)


def take(x, indices, axis=None):
    """Entries of ``x`` at ``indices`` (a tensor, array, list or int) along ``axis``, as ``numpy.take``."""
    if isinstance(indices, numbers.Integral):
        indices = numpy.asarray(indices)
    return Take.apply(x, indices=indices, axis=axis)


class TakeAlongAxis(Function):
    """y[..., j, ...] = x[..., indices[..., j, ...], ...] along ``axis``, as ``numpy.take_along_axis``.

    Shapes: x (A..., n, B...) with indices (A'..., k, B'...) of the same rank,
    the other axes broadcasting -> y (broadcast A, k, broadcast B). Repeated
    indices accumulate their gradients.
    """

    name = "take_along_axis"
    graph_saved = {}

    def forward(self, x, indices, axis):
        xp = self.xp
        idx = _index_array(xp, "take_along_axis", indices)
        self.shape = x.shape
        if axis is None:
            x = x.reshape(-1)
            axis = 0
            if idx.ndim != 1:
                raise ValueError(f"take_along_axis: with axis=None indices must be 1-D, got shape {idx.shape}")
        if idx.ndim != x.ndim:
            raise ValueError(f"take_along_axis: indices of shape {idx.shape} must have the rank of x (shape {x.shape})")
        axis = normalize_axis("take_along_axis", int(axis), x.ndim)
        others = [(a, b) for i, (a, b) in enumerate(zip(x.shape, idx.shape)) if i != axis]
        if any(a != b and a != 1 and b != 1 for a, b in others):
            raise ValueError(
                f"take_along_axis: x of shape {x.shape} and indices of shape {idx.shape} do not broadcast "
                f"outside axis {axis}"
            )
        n = x.shape[axis]
        if idx.size and (idx.min().item() < -n or idx.max().item() >= n):
            raise IndexError(f"take_along_axis: indices must lie in [{-n}, {n}) for axis {axis} of shape {x.shape}")
        out = xp.take_along_axis(x, idx, axis=axis)
        # the full index into x for each output element, for the backward scatter
        full = []
        for d in range(x.ndim):
            if d == axis:
                full.append(idx)
            else:
                size = x.shape[d] if x.shape[d] == out.shape[d] else 1
                shape = [1] * x.ndim
                shape[d] = size
                full.append(xp.arange(size).reshape(shape))
        self.full, self.flat_shape = tuple(full), x.shape
        return out

    def backward(self, g):
        xp = self.xp
        gx = xp.zeros(self.flat_shape, dtype=g.dtype)
        xp.add.at(gx, self.full, g)
        return gx.reshape(self.shape)


def take_along_axis(x, indices, axis):
    """Entries of ``x`` picked by ``indices`` along ``axis`` (e.g. with ``argsort``), as ``numpy.take_along_axis``."""
    return TakeAlongAxis.apply(x, indices=indices, axis=axis)


class OneHot(Function):
    """y = one-hot encoding of integer labels x: y[..., c] = (x == c). Shapes: x (...) -> y with a new class axis.

    Negative labels give an all-zero row, as Keras. No gradient.
    """

    name = "one_hot"

    def forward(self, x, num_classes, axis=-1, dtype=None):
        xp = self.xp
        labels = x.astype(numpy.int64, copy=False)
        if labels.size and labels.max().item() >= num_classes:
            raise ValueError(
                f"one_hot: labels must be smaller than num_classes={num_classes}, got a label {labels.max().item()}"
            )
        axis = normalize_axis("one_hot", int(axis), x.ndim + 1)
        out = (labels[..., None] == xp.arange(num_classes)).astype(dtype)
        return out if axis == x.ndim else xp.moveaxis(out, -1, axis)

    def backward(self, g):
        return None


def one_hot(x, num_classes, axis=-1, dtype=None):
    """One-hot encoding of the integer labels ``x`` along a new ``axis`` (Keras's ``ops.one_hot``).

    ``dtype`` defaults to ``floatx()`` (float32). Negative labels encode as all zeros.
    """
    if not isinstance(num_classes, numbers.Integral) or num_classes <= 0:
        raise ValueError(f"one_hot: num_classes must be a positive integer, got {num_classes!r}")
    dtype = resolve_dtype(dtype if dtype is not None else floatx())
    if not _is_array(x) and not hasattr(x, "data"):
        x = numpy.asarray(x)
    return OneHot.apply(x, num_classes=int(num_classes), axis=axis, dtype=dtype)
