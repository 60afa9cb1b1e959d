"""``RowSparseGrad``: a gradient that touches only some rows of a parameter.

An embedding lookup reads a few rows of a (vocabulary, dim) table, so its
gradient is zero everywhere else. Materialising a dense vocabulary-sized array
every step would cost more than the whole forward pass; instead the lookup's
backward returns the rows it read and their gradients. The engine keeps the
gradient in this form when it reaches a leaf (``param.grad``), so an optimizer
can update just those rows; anything that needs a dense array asks for one.

Shapes: ``indices`` (n,) integer, possibly repeated; ``values`` (n, *row_shape);
the dense equivalent has ``shape`` (rows, *row_shape) and is the sum of
``values[k]`` into row ``indices[k]``.
"""

from __future__ import annotations

import math

import numpy

from ..backend import jit
from ..backend.device import device_of_array, to_host


@jit.kernel
def _sum_in_order(values, order, segment, out):
    """out[segment[k]] += values[order[k]] for k = 0, 1, ... in turn; values (n, d), out (rows, d) zeros."""
    for k in range(order.shape[0]):
        r = segment[k]
        src = order[k]
        for c in range(out.shape[1]):
            out[r, c] += values[src, c]


@jit.kernel
def _rows_by_counting(indices, vocab, position, rows):
    """Mark the rows ``indices`` (n,) reads in ``position`` (vocab,) zeros, then number the marked ones in row
    order: ``rows[:m]`` the distinct rows sorted, ``position[r]`` the output row of row ``r`` (-1: not read); returns
    ``m``, or -1
    (nothing numbered) when an index is outside ``[0, vocab)``."""
    for k in range(indices.shape[0]):
        r = indices[k]
        if r < 0 or r >= vocab:
            return -1
        position[r] = 1
    m = 0
    for r in range(vocab):
        if position[r] != 0:
            position[r] = m
            rows[m] = r
            m += 1
        else:
            position[r] = -1
    return m


@jit.kernel
def _sum_by_position(values, indices, position, out, lo, hi):
    """out[position[indices[k]]] += values[k] for k = 0, 1, ... in turn, for the indices in ``[lo, hi)`` only (rows
    of the table: a part of them, each part's output rows its own); values (n, d), out (m, d) zeros."""
    for k in range(indices.shape[0]):
        i = indices[k]
        if i < lo or i >= hi:
            continue
        r = position[i]
        for c in range(out.shape[1]):
            out[r, c] += values[k, c]


#: Coalesce by counting (one pass over a vocabulary-sized table, no sort) when the table has at most this many rows
#: per index summed: a W3 batch (2,560 indices into 20,000 rows) takes ~100 us so against ~220 us sorting (one thread;
#: the two break even near 64 rows per index at 128 columns, sooner with fewer); far
#: larger tables (a million rows for a few thousand indices) sort instead.
COUNTING_ROWS_PER_INDEX = 32


def _coalesce_by_counting(indices, values, vocab, lazily=False):
    """:func:`_coalesce` on the host without a sort (the numba kernels), or None where it does not apply (no
    kernels, float16, a vocabulary too large for the indices, an index outside ``[0, vocab)``).

    ``lazily``: ``(rows, summed, position, fill)`` with ``summed`` still zeros: ``fill(lo, hi)`` adds the values
    of the table rows ``lo:hi`` (parts of the rows may fill at the same time); ``position`` (vocab,) the row of
    ``summed`` holding each table row, -1 for rows not read."""
    n = indices.shape[0]
    if vocab > COUNTING_ROWS_PER_INDEX * max(n, 1) or values.dtype.itemsize < 4:
        return None
    count, accumulate = _rows_by_counting.compiled(), _sum_by_position.compiled()
    if count is None or accumulate is None:
        return None
    position = numpy.zeros(vocab, dtype=numpy.int64)
    rows = numpy.empty(n, dtype=indices.dtype)
    m = count(indices, vocab, position, rows)
    if m < 0:
        return None
    summed = numpy.zeros((m, values.shape[1]), dtype=values.dtype)
    if not lazily:
        accumulate(values, indices, position, summed, 0, vocab)
        return rows[:m], summed

    def fill(lo, hi):
        accumulate(values, indices, position, summed, lo, hi)

    return rows[:m], summed, position, fill


def _coalesce(xp, indices, values, vocab=None):
    """(unique sorted rows, (rows, d) sums of values (n, d) over repeats); each row summed in index order.

    Every path adds a row's repeats one by one, starting from zero, in the order they appear in ``indices``
    (a stable sort keeps it; counting keeps it by construction), which is what ``np.add.at`` into zeros does:
    the same bits, without its per-element cost. ``vocab``: the table's row count (enables counting).
    """
    if xp is numpy and vocab is not None:
        done = _coalesce_by_counting(indices, values, vocab)
        if done is not None:
            return done
    n = indices.shape[0]
    order = xp.argsort(indices, kind="stable")
    ordered = indices[order]
    new = xp.empty(n, dtype=bool)
    new[:1] = True
    xp.not_equal(ordered[1:], ordered[:-1], out=new[1:])
    starts = xp.flatnonzero(new)
    rows = ordered[starts]
    segment = xp.cumsum(new) - 1  # the output row of each element of ``order``
    summed = xp.zeros((rows.shape[0], values.shape[1]), dtype=values.dtype)
    # numba has no float16: half-precision gradients (a float16 table) take the NumPy path
    kernel = _sum_in_order.compiled() if xp is numpy and values.dtype.itemsize >= 4 else None
    if kernel is not None:
        kernel(values, order, segment, summed)
        return rows, summed
    # NumPy: level by level, the first repeat of every row, then the second, ...: within a level each row
    # occurs once, so a fancy-indexed += is exact
    rank = xp.arange(n) - starts[segment]
    by_rank = xp.argsort(rank, kind="stable")
    begin = 0
    for count in to_host(xp.bincount(rank)).tolist():  # the level sizes steer a host loop
        take = by_rank[begin : begin + count]
        summed[segment[take]] += values[order[take]]
        begin += count
    return rows, summed


class RowSparseGrad:
    """Rows ``indices`` of a ``shape`` gradient, with repeated rows summing."""

    __slots__ = ("indices", "values", "shape")
    # NumPy defers ``ndarray + RowSparseGrad`` to our __radd__.
    __array_ufunc__ = None
    is_sparse = True

    def __init__(self, indices, values, shape: tuple):
        if values.shape[0] != indices.shape[0] or tuple(values.shape[1:]) != tuple(shape[1:]):
            raise ValueError(
                f"RowSparseGrad: values of shape {values.shape} do not fit {indices.shape[0]} rows of {shape}"
            )
        self.indices = indices
        self.values = values
        self.shape = tuple(shape)

    @property
    def dtype(self):
        return self.values.dtype

    @property
    def device(self):
        return device_of_array(self.values)

    @property
    def xp(self):
        return self.device.xp

    def dense_array(self):
        """The gradient as a dense array of ``shape``."""
        out = self.xp.zeros(self.shape, dtype=self.values.dtype)
        coalesced = self.coalesce()
        out[coalesced.indices] = coalesced.values  # each row once: the sums np.add.at would make
        return out

    def to_dense(self):
        """The gradient as a dense :class:`~ember.Tensor`."""
        from .tensor import Tensor

        return Tensor._wrap(self.dense_array())

    def numpy(self):
        """The dense gradient as a NumPy array (for inspection and tests)."""
        return self.to_dense().numpy()

    def coalesce(self) -> RowSparseGrad:
        """The same gradient with each row listed once (sorted), repeats summed in the order they are listed.

        The sums are bit for bit those of ``np.add.at`` into zeros (a numba kernel, or NumPy level by level).
        """
        n, row_shape = self.values.shape[0], self.shape[1:]
        rows, summed = _coalesce(
            self.xp, self.indices.reshape(-1), self.values.reshape(n, math.prod(row_shape)), self.shape[0]
        )
        return RowSparseGrad(rows, summed.reshape((rows.shape[0],) + row_shape), self.shape)

    def coalesce_lazily(self):
        """:meth:`coalesce` with the sums left to the caller, where counting applies (host arrays, a table of at
        most :data:`COUNTING_ROWS_PER_INDEX` rows per index, float32/64, numba), else None.

        Returns ``(rows, values, position, fill)``: ``rows`` (m,) sorted distinct rows, ``values`` (m, *row) zeros
        until ``fill(lo, hi)`` adds the gradients of table rows ``lo:hi`` (the same bits as :meth:`coalesce`; calls
        for disjoint ranges may run at the same time), ``position`` (rows,) int64: each table row's row of
        ``values``, -1 for rows not read. An optimizer updating the table in parts fills each part's rows there.
        """
        if self.xp is not numpy:
            return None
        n, row_shape = self.values.shape[0], self.shape[1:]
        done = _coalesce_by_counting(
            self.indices.reshape(-1), self.values.reshape(n, math.prod(row_shape)), self.shape[0], lazily=True
        )
        if done is None:
            return None
        rows, summed, position, fill = done
        return rows, summed.reshape((rows.shape[0],) + row_shape), position, fill

    def astype(self, dtype) -> RowSparseGrad:
        return RowSparseGrad(self.indices, self.values.astype(dtype), self.shape)

    def __add__(self, other):
        if isinstance(other, RowSparseGrad):
            xp = self.xp
            return RowSparseGrad(
                xp.concatenate([self.indices, other.indices]),
                xp.concatenate([self.values, other.values]),
                self.shape,
            )
        out = other.copy()  # a dense array: scatter our rows into a copy
        self.xp.add.at(out, self.indices, self.values)
        return out

    __radd__ = __add__

    def __repr__(self) -> str:
        return f"RowSparseGrad(rows={self.indices.shape[0]}, shape={self.shape}, dtype={self.dtype})"
