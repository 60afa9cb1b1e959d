# ruff: noqa: N802, N803, A002  (MXNet's own names: FullyConnected, Convolution, ...)
"""More of ``mx.nd``: the functions ``hybrid_forward(F, ...)`` code calls beyond the basics in ndarray.py.

- elementwise: ``negative``, ``reciprocal``, ``rsqrt``, ``softsign``, ``erf``, ``erfinv``, ``log2``, ``log10``,
  ``trunc``/``fix``, ``hard_sigmoid``, ``smooth_l1``, ``broadcast_power``, ``modulo``/``broadcast_mod``;
- comparisons as 0/1 arrays in the operands' dtype (MXNet's rule): ``equal``, ``not_equal``, ``greater``,
  ``greater_equal``, ``lesser``, ``lesser_equal`` and their ``broadcast_`` names;
- shape: ``swapaxes``, ``flip``/``reverse``, ``repeat``, ``slice``, ``slice_axis``, ``slice_like``,
  ``reshape_like``, ``broadcast_like``, ``broadcast_axis``, ``concatenate``, ``take`` (``mode='clip'``/``'wrap'``),
  ``identity``, ``cast``, ``sum_axis``, ``add_n``, ``cumsum``, ``diag``, ``linspace``, ``gather_nd``;
- sorting: ``sort``, ``argsort``, ``topk`` (indices as float32, as MXNet);
- sequences (time axis first unless ``axis``): ``SequenceMask``, ``SequenceLast``, ``SequenceReverse``;
- MXNet's operator names on arrays (``F.FullyConnected(x, w, b, num_hidden=...)``, ``F.Convolution``,
  ``F.Deconvolution``, ``F.Pooling``, ``F.Activation``, ``F.LeakyReLU``, ``F.Dropout``, ``F.BatchNorm``,
  ``F.Embedding``, ``F.LayerNorm``, ``F.InstanceNorm``): the same functions that run imported MXNet graphs
  (gluon/mxnet_symbol.py), so both compute the same numbers.

Where an argument comes from array values (``take`` indices, sequence lengths, ``gather_nd`` indices) it is read
on the host, as a hybridized call notices (it is then traced twice before it is replayed).
"""

from __future__ import annotations

import builtins

import numpy as np

import ember
from ember.engine.tensor import Tensor

from .ndarray import _as_nd, _nd, _raw, array, concat

_builtin_slice = builtins.slice


def _unary(fn, doc):
    def op(data, **kwargs):
        return _nd(fn(_as_nd(data)))

    op.__doc__ = doc
    return op


negative = _unary(ember.negative, "-x")
reciprocal = _unary(ember.reciprocal, "1 / x")
rsqrt = _unary(ember.rsqrt, "1 / sqrt(x)")
softsign = _unary(ember.softsign, "x / (1 + |x|)")
erf = _unary(ember.erf, "the error function")
erfinv = _unary(ember.erfinv, "the inverse error function")
log2 = _unary(ember.log2, "base-2 logarithm")
log10 = _unary(ember.log10, "base-10 logarithm")
trunc = fix = _unary(ember.trunc, "rounded toward zero")


def hard_sigmoid(data, alpha=0.2, beta=0.5):
    """``clip(alpha * x + beta, 0, 1)`` (MXNet's slope and offset)."""
    return _nd(ember.clip(_as_nd(data) * alpha + beta, 0.0, 1.0))


def smooth_l1(data, scalar=1.0):
    """``0.5 * (scalar * x)^2`` where ``|x| < 1 / scalar^2``, else ``|x| - 0.5 / scalar^2``."""
    x = _as_nd(data)
    s2 = float(scalar) ** 2
    return _nd(ember.where(ember.less(ember.abs(x), 1.0 / s2), 0.5 * s2 * ember.square(x), ember.abs(x) - 0.5 / s2))


def broadcast_power(lhs, rhs):
    return _nd(ember.power(_as_nd(lhs), _as_nd(rhs)))


def modulo(lhs, rhs):
    """``lhs mod rhs`` with the sign of ``rhs`` (Python's and MXNet's rule)."""
    return _nd(ember.mod(_as_nd(lhs), rhs if np.isscalar(rhs) else _as_nd(rhs)))


broadcast_mod = modulo


def _comparison(np_op):
    def op(lhs, rhs):
        a = _raw(_as_nd(lhs))
        b = _raw(rhs)
        return _nd(Tensor._wrap(np.asarray(np_op(a, b)).astype(a.dtype)))

    op.__doc__ = f"0/1 where ``{np_op.__name__}(lhs, rhs)``, in lhs's dtype (no gradient, as MXNet)"
    return op


equal = broadcast_equal = _comparison(np.equal)
not_equal = broadcast_not_equal = _comparison(np.not_equal)
greater = broadcast_greater = _comparison(np.greater)
greater_equal = broadcast_greater_equal = _comparison(np.greater_equal)
lesser = broadcast_lesser = _comparison(np.less)
lesser_equal = broadcast_lesser_equal = _comparison(np.less_equal)


# ---- shape ---------------------------------------------------------------------------------------------------------
def swapaxes(data, dim1=0, dim2=0):
    return _nd(ember.swapaxes(_as_nd(data), dim1, dim2))


def flip(data, axis):
    return _nd(ember.flip(_as_nd(data), axis=axis))


reverse = flip


def repeat(data, repeats, axis=None):
    return _nd(ember.repeat(_as_nd(data), int(repeats), axis=axis))


def slice(data, begin, end, step=None):  # noqa: A001 - MXNet's name
    """``data[begin:end:step]`` per axis (None keeps an axis's bound)."""
    step = step if step is not None else (None,) * len(begin)
    index = tuple(_builtin_slice(b, e, s) for b, e, s in zip(begin, end, step))
    return _nd(_as_nd(data)[index])


def slice_axis(data, axis, begin, end):
    x = _as_nd(data)
    index = [_builtin_slice(None)] * x.ndim
    index[axis] = _builtin_slice(begin, end)
    return _nd(x[tuple(index)])


def slice_like(data, shape_like, axes=()):
    """``data`` cut to ``shape_like``'s sizes (on ``axes``, or all axes when empty)."""
    x = _as_nd(data)
    axes = range(x.ndim) if not axes else [a % x.ndim for a in axes]
    index = [_builtin_slice(None)] * x.ndim
    for a in axes:
        index[a] = _builtin_slice(0, shape_like.shape[a])
    return _nd(x[tuple(index)])


def reshape_like(lhs, rhs):
    return _nd(ember.reshape(_as_nd(lhs), tuple(rhs.shape)))


def broadcast_like(lhs, rhs, lhs_axes=None, rhs_axes=None):
    if lhs_axes is not None or rhs_axes is not None:
        raise NotImplementedError("broadcast_like: lhs_axes/rhs_axes are not supported")
    return _nd(ember.broadcast_to(_as_nd(lhs), tuple(rhs.shape)))


def broadcast_axis(data, axis=(), size=()):
    """Axes of size 1 (``axis``) broadcast to ``size``."""
    x = _as_nd(data)
    axes = (axis,) if np.isscalar(axis) else tuple(axis)
    sizes = (size,) if np.isscalar(size) else tuple(size)
    shape = list(x.shape)
    for a, n in zip(axes, sizes):
        shape[a] = int(n)
    return _nd(ember.broadcast_to(x, tuple(shape)))


def concatenate(arrays, axis=0, always_copy=True):
    return concat(*arrays, dim=axis)


def take(a, indices, axis=0, mode="clip"):
    """Entries of ``a`` at integer-valued ``indices`` along ``axis``; out-of-range indices clipped
    (``mode='clip'``, MXNet's default) or wrapped (``'wrap'``)."""
    x = _as_nd(a)
    idx = np.asarray(_raw(indices)).astype(np.int64)
    n = x.shape[axis]
    idx = np.clip(idx, 0, n - 1) if mode == "clip" else np.mod(idx, n)
    return _nd(ember.take(x, Tensor._wrap(idx), axis=axis))


def identity(data):
    """A copy of ``data`` (gradients flow through)."""
    return _nd(_as_nd(data) + 0)


def cast(data, dtype):
    return _nd(ember.cast(_as_nd(data), dtype))


def sum_axis(data, axis=None, keepdims=False, exclude=False):
    from .ndarray import sum as nd_sum

    return nd_sum(data, axis=axis, keepdims=keepdims, exclude=exclude)


def add_n(*args):
    out = _as_nd(args[0])
    for x in args[1:]:
        out = out + x
    return _nd(out)


def cumsum(a, axis=None, dtype=None):
    x = _as_nd(a)
    out = ember.cumsum(x if axis is not None else ember.reshape(x, (-1,)), axis=0 if axis is None else axis)
    return _nd(out if dtype is None else ember.cast(out, dtype))


def diag(data, k=0):
    return _nd(ember.diag(_as_nd(data), k))


def linspace(start, stop, num, endpoint=True, ctx=None, dtype=None):
    return array(np.linspace(start, stop, int(num), endpoint=endpoint), ctx=ctx, dtype=dtype)


def gather_nd(data, indices):
    """``data[indices[0], indices[1], ...]``: ``indices`` (M, ...) picks along the first M axes."""
    idx = np.asarray(_raw(indices)).astype(np.int64)
    return _nd(_as_nd(data)[tuple(idx)])


# ---- sorting -------------------------------------------------------------------------------------------------------
def sort(data, axis=-1, is_ascend=True):
    out = ember.sort(_as_nd(data), axis=axis)
    return _nd(out if is_ascend else ember.flip(out, axis=axis))


def argsort(data, axis=-1, is_ascend=True, dtype="float32"):
    x = _raw(_as_nd(data))
    order = np.argsort(x if is_ascend else -x, axis=axis, kind="stable")
    return array(order, dtype=dtype)


def topk(data, axis=-1, k=1, ret_typ="indices", is_ascend=False, dtype="float32"):
    """The ``k`` largest (``is_ascend=False``) or smallest entries along ``axis``: their ``'indices'``
    (float32), ``'value'``, ``'both'`` (value, indices) or a 0/1 ``'mask'``."""
    x = _as_nd(data)
    raw = _raw(x)
    order = np.argsort(raw if is_ascend else -raw, axis=axis, kind="stable")
    picked = np.take(order, np.arange(int(k)), axis=axis)
    if ret_typ == "indices":
        return array(picked, dtype=dtype)
    if ret_typ == "mask":
        mask = np.zeros(raw.shape, dtype=raw.dtype)
        np.put_along_axis(mask, picked, 1, axis=axis)
        return _nd(Tensor._wrap(mask))
    values = _nd(ember.take_along_axis(x, Tensor._wrap(picked), axis=axis))
    if ret_typ == "value":
        return values
    if ret_typ == "both":
        return values, array(picked, dtype=dtype)
    raise ValueError(f"topk: ret_typ must be 'indices', 'value', 'both' or 'mask', got {ret_typ!r}")


# ---- sequences ---------------------------------------------------------------------------------------------------
def _lengths(sequence_length, batch):
    lengths = np.asarray(_raw(sequence_length)).astype(np.int64).reshape(-1)
    if lengths.shape[0] != batch:
        raise ValueError(f"sequence_length: expected {batch} lengths, got {lengths.shape[0]}")
    return lengths


def SequenceMask(data, sequence_length=None, use_sequence_length=False, value=0.0, axis=0):
    """Entries past each sequence's length (time along ``axis`` 0 or 1, batch the other) set to ``value``."""
    x = _as_nd(data)
    if not use_sequence_length:
        return x
    batch_axis = 1 - axis
    lengths = _lengths(sequence_length, x.shape[batch_axis])
    steps = np.arange(x.shape[axis])
    keep = steps[:, None] < lengths[None, :] if axis == 0 else lengths[:, None] > steps[None, :]
    keep = keep.reshape(keep.shape + (1,) * (x.ndim - 2))
    return _nd(ember.where(keep, x, float(value)))


def SequenceLast(data, sequence_length=None, use_sequence_length=False, axis=0):
    """Each sequence's last valid entry (time along ``axis``): shape without the time axis."""
    x = _as_nd(data)
    batch_axis = 1 - axis
    n, steps = x.shape[batch_axis], x.shape[axis]
    lengths = _lengths(sequence_length, n) if use_sequence_length else np.full(n, steps)
    if axis == 1:
        x = ember.swapaxes(x, 0, 1)
    index = np.broadcast_to((lengths - 1).reshape((1, n) + (1,) * (x.ndim - 2)), (1,) + tuple(x.shape[1:]))
    return _nd(ember.squeeze(ember.take_along_axis(x, Tensor._wrap(index.copy()), axis=0), 0))


def SequenceReverse(data, sequence_length=None, use_sequence_length=False, axis=0):
    """Each sequence's valid part reversed in time (axis 0), the padding left in place."""
    x = _as_nd(data)
    if axis != 0:
        raise NotImplementedError("SequenceReverse: only axis=0 (time first) is supported, as MXNet")
    steps, n = x.shape[0], x.shape[1]
    lengths = _lengths(sequence_length, n) if use_sequence_length else np.full(n, steps)
    t = np.arange(steps)[:, None]
    source = np.where(t < lengths[None, :], lengths[None, :] - 1 - t, t)  # (T, N)
    index = np.broadcast_to(source.reshape(source.shape + (1,) * (x.ndim - 2)), x.shape)
    return _nd(ember.take_along_axis(x, Tensor._wrap(index.copy()), axis=0))


# ---- MXNet's operators on arrays ---------------------------------------------------------------------------------
def _operator(name, inputs, attrs):
    from .gluon.mxnet_symbol import _OPS

    return _nd(_OPS[name]([_as_nd(x) for x in inputs], attrs))


def FullyConnected(data, weight, bias=None, num_hidden=None, no_bias=False, flatten=True, **kwargs):
    inputs = [data, weight] + ([bias] if bias is not None and not no_bias else [])
    return _operator("FullyConnected", inputs, {"no_bias": bias is None or no_bias, "flatten": flatten})


def Convolution(data, weight, bias=None, kernel=None, stride=(), dilate=(), pad=(), num_filter=None, num_group=1,
                no_bias=False, layout=None, **kwargs):  # fmt: skip
    n = len(kernel)
    attrs = {
        "kernel": tuple(kernel),
        "stride": tuple(stride) or (1,) * n,
        "dilate": tuple(dilate) or (1,) * n,
        "pad": tuple(pad) or (0,) * n,
        "num_group": num_group,
        "no_bias": bias is None or no_bias,
    }
    return _operator("Convolution", [data, weight] + ([bias] if not attrs["no_bias"] else []), attrs)


def Deconvolution(data, weight, bias=None, kernel=None, stride=(), dilate=(), pad=(), adj=(), num_filter=None,
                  num_group=1, no_bias=True, layout=None, **kwargs):  # fmt: skip
    n = len(kernel)
    attrs = {
        "kernel": tuple(kernel),
        "stride": tuple(stride) or (1,) * n,
        "dilate": tuple(dilate) or (1,) * n,
        "pad": tuple(pad) or (0,) * n,
        "adj": tuple(adj) or (0,) * n,
        "num_group": num_group,
        "no_bias": bias is None or no_bias,
    }
    return _operator("Deconvolution", [data, weight] + ([bias] if not attrs["no_bias"] else []), attrs)


def Pooling(data, kernel=(), pool_type="max", global_pool=False, stride=(), pad=(), pooling_convention="valid",
            count_include_pad=True, layout=None, **kwargs):  # fmt: skip
    attrs = {"pool_type": pool_type, "global_pool": global_pool, "pooling_convention": pooling_convention}
    attrs["count_include_pad"] = count_include_pad
    if not global_pool:
        n = len(kernel)
        attrs.update(kernel=tuple(kernel), stride=tuple(stride) or tuple(kernel), pad=tuple(pad) or (0,) * n)
    return _operator("Pooling", [data], attrs)


def Activation(data, act_type):
    return _operator("Activation", [data], {"act_type": act_type})


def LeakyReLU(data, gamma=None, act_type="leaky", slope=0.25, **kwargs):
    return _operator(
        "LeakyReLU", [data] + ([gamma] if gamma is not None else []), {"act_type": act_type, "slope": slope}
    )


def Dropout(data, p=0.5, mode="training", axes=(), **kwargs):
    """Dropout in training mode (``autograd.record()``), or always with ``mode='always'``."""
    from . import autograd

    if p == 0 or (mode != "always" and not autograd.is_training()):
        return _as_nd(data)
    x = _as_nd(data)
    noise = tuple(1 if i in tuple(axes) else s for i, s in enumerate(x.shape)) if axes else None
    return _nd(ember.dropout(x, p, training=True, noise_shape=noise))


def BatchNorm(data, gamma, beta, moving_mean, moving_var, eps=1e-3, momentum=0.9, fix_gamma=True,
              use_global_stats=False, axis=1, **kwargs):  # fmt: skip
    """Normalises with the batch's statistics in training mode (the moving statistics are not updated here:
    use gluon.nn.BatchNorm for that), with ``moving_mean``/``moving_var`` otherwise."""
    attrs = {"eps": eps, "fix_gamma": fix_gamma, "use_global_stats": use_global_stats, "axis": axis}
    return _operator("BatchNorm", [data, gamma, beta, moving_mean, moving_var], attrs)


def Embedding(data, weight, input_dim=None, output_dim=None, dtype="float32", sparse_grad=False, **kwargs):
    return _operator("Embedding", [data, weight], {})


def LayerNorm(data, gamma, beta, axis=-1, eps=1e-5, **kwargs):
    return _operator("LayerNorm", [data, gamma, beta], {"axis": axis, "eps": eps})


def InstanceNorm(data, gamma, beta, eps=1e-3, **kwargs):
    return _operator("InstanceNorm", [data, gamma, beta], {"eps": eps})


__all__ = [
    "negative", "reciprocal", "rsqrt", "softsign", "erf", "erfinv", "log2", "log10", "trunc", "fix",
    "hard_sigmoid", "smooth_l1", "broadcast_power", "modulo", "broadcast_mod",
    "equal", "not_equal", "greater", "greater_equal", "lesser", "lesser_equal", "broadcast_equal",
    "broadcast_not_equal", "broadcast_greater", "broadcast_greater_equal", "broadcast_lesser",
    "broadcast_lesser_equal", "swapaxes", "flip", "reverse", "repeat", "slice", "slice_axis", "slice_like",
    "reshape_like", "broadcast_like", "broadcast_axis", "concatenate", "take", "identity", "cast", "sum_axis",
    "add_n", "cumsum", "diag", "linspace", "gather_nd", "sort", "argsort", "topk", "SequenceMask", "SequenceLast",
    "SequenceReverse", "FullyConnected", "Convolution", "Deconvolution", "Pooling", "Activation", "LeakyReLU",
    "Dropout", "BatchNorm", "Embedding", "LayerNorm", "InstanceNorm",
]  # fmt: skip
