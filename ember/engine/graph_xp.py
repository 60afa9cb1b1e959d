"""``GRAPH_XP``: the array-module names a backward formula uses, as differentiable ops on tensors.

An op's ``backward`` is written once, with ``self.xp`` (NumPy or CuPy) and
array methods. Under ``backward(create_graph=True)`` the engine runs that same
formula with ``self.xp = GRAPH_XP`` and tensors in place of the saved arrays,
so each step of the formula is recorded and the gradient can be
differentiated again. A name a formula needs that has no differentiable form
here raises :class:`NoGraphFormError`, which the engine reports with the op's name.
"""

from __future__ import annotations

import numpy

from ..backend.device import default_device, is_host_array, xp_of


class NoGraphFormError(AttributeError):
    """A backward formula used an array function with no differentiable form on tensors."""


def _ops():
    from .. import ops

    return ops


def _constant(array):
    from .tensor import Tensor

    return Tensor._wrap(array)


class _AddUfunc:
    """``xp.add.at(target, index, values)``: accumulate into a tensor, recorded (engine/inplace.py)."""

    @staticmethod
    def at(target, index, values):
        from .inplace import index_add
        from .tensor import Tensor

        if not isinstance(target, Tensor):
            raise NoGraphFormError("add.at on an array")
        index = tuple(i.data if isinstance(i, Tensor) else i for i in index) if isinstance(index, tuple) else index
        index_add(target, index, values)

    def __call__(self, a, b):
        return _ops().add(a, b)


class _GraphXP:
    """NumPy-named functions on tensors (constants in, constants out where nothing needs a gradient)."""

    graph = True  # helpers that special-case raw arrays look for this
    __name__ = "ember.graph_xp"
    inf = numpy.inf
    nan = numpy.nan
    pi = numpy.pi
    newaxis = None
    float16, float32, float64 = numpy.float16, numpy.float32, numpy.float64
    int32, int64, bool_ = numpy.int32, numpy.int64, numpy.bool_
    add = _AddUfunc()

    def __getattr__(self, name):
        if name.startswith("__"):
            raise AttributeError(name)
        ops = _ops()
        if name in _SAME_NAME and hasattr(ops, name):
            return getattr(ops, name)
        raise NoGraphFormError(f"xp.{name}")

    # creation: constants
    @staticmethod
    def zeros(shape, dtype=None):
        return _constant(default_device().xp.zeros(shape, dtype=dtype or numpy.float32))

    @staticmethod
    def ones(shape, dtype=None):
        return _constant(default_device().xp.ones(shape, dtype=dtype or numpy.float32))

    @staticmethod
    def zeros_like(x, dtype=None):
        return _constant(x.device.xp.zeros(x.shape, dtype=dtype or x.dtype))

    @staticmethod
    def ones_like(x, dtype=None):
        return _constant(x.device.xp.ones(x.shape, dtype=dtype or x.dtype))

    @staticmethod
    def full_like(x, value, dtype=None):
        return _constant(x.device.xp.full(x.shape, value, dtype=dtype or x.dtype))

    @staticmethod
    def asarray(x, dtype=None):
        from .tensor import Tensor

        if isinstance(x, Tensor):
            return x if dtype is None else x.astype(dtype, copy=False)
        if not is_host_array(x) and not isinstance(x, (list, tuple)):  # a device array
            return _constant(x if dtype is None else x.astype(dtype, copy=False))
        return _constant(default_device().xp.asarray(x, dtype=dtype))

    @staticmethod
    def sign(x):
        from .tensor import Tensor

        data = x.data if isinstance(x, Tensor) else x
        return _constant(xp_of(data).sign(data))

    @staticmethod
    def expand_dims(x, axis):
        return _ops().expand_dims(x, axis)

    @staticmethod
    def split(x, indices, axis=0):
        return _ops().split(x, indices, axis=axis)

    @staticmethod
    def concatenate(xs, axis=0):
        return _ops().concatenate(xs, axis=axis)

    @staticmethod
    def stack(xs, axis=0):
        return _ops().stack(xs, axis=axis)

    @staticmethod
    def flip(x, axis=None):
        return _ops().flip(x, axis)

    @staticmethod
    def swapaxes(x, a, b):
        return _ops().swapaxes(x, a, b)

    @staticmethod
    def broadcast_to(x, shape):
        return _ops().broadcast_to(x, shape)

    @staticmethod
    def where(cond, x, y):
        return _ops().where(cond, x, y)


# functions whose ember.ops form has NumPy's name and arguments
_SAME_NAME = frozenset(
    {
        "abs",
        "arctan",
        "clip",
        "cos",
        "cosh",
        "cumprod",
        "cumsum",
        "exp",
        "expm1",
        "log",
        "log1p",
        "matmul",
        "maximum",
        "minimum",
        "moveaxis",
        "negative",
        "reciprocal",
        "repeat",
        "reshape",
        "sin",
        "sinh",
        "sqrt",
        "square",
        "sum",
        "take_along_axis",
        "tanh",
        "tan",
        "tile",
        "transpose",
    }
)

GRAPH_XP = _GraphXP()
