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

from ..backend.device import device_of_array


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
        self.xp.add.at(out, self.indices, self.values)
        return out

    def to_dense(self):
        """The gradient as a dense :class:`~ember.Tensor`."""
        from .tensor import Tensor

        return Tensor._wrap(self.dense_array())

    def numpy(self):
        """The dense gradient as a NumPy array (for inspection and tests)."""
        return self.to_dense().numpy()

    def coalesce(self) -> RowSparseGrad:
        """The same gradient with each row listed once (sorted), repeats summed."""
        xp = self.xp
        rows, inverse = xp.unique(self.indices, return_inverse=True)
        summed = xp.zeros((rows.shape[0],) + self.shape[1:], dtype=self.values.dtype)
        xp.add.at(summed, inverse.reshape(-1), self.values)
        return RowSparseGrad(rows, summed, self.shape)

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
