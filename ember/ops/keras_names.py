"""Keras 3 ``keras.ops`` names for what Ember's ops can already do.

Ember's primitives carry NumPy or neural-network names (``conv2d``,
``max_pool2d``, ``arctan``). Keras 3 programs call ``keras.ops.conv``,
``keras.ops.max_pool``, ``keras.ops.moments``, ``keras.ops.arcsin``... This
module gives those names, with Keras's argument names and defaults, as thin
dispatchers (on the input's rank) or short compositions of Ember ops, so
gradients flow through them with no backward code of their own. Names that
``ember.ops`` already exports are not redefined here.

Index-valued results (``argsort``, ``top_k``'s indices, ``count_nonzero``)
carry no gradient, as in every framework.

Not here (no Ember primitive to build them from): linear algebra
(``inv``, ``solve``, ``svd``...), FFTs, ``erf``/``erfinv``, bitwise ops,
``einsum``, scatter/segment ops, 3-D convolutions and pooling.
"""

from __future__ import annotations

import builtins
import math
import numbers

import numpy

from ..backend.config import epsilon as _epsilon
from ..backend.config import floatx
from ..backend.keras_api import image_data_format
from ..engine.tensor import Tensor, tensor
from . import activation as _act
from . import arithmetic as _ar
from . import comparison as _cmp
from . import convolution as _conv
from . import elementwise as _el
from . import indexing as _ix
from . import pooling as _pool
from . import reduction as _rd
from . import shaping as _sh

__all__ = [
    # nn
    "conv",
    "conv_transpose",
    "depthwise_conv",
    "separable_conv",
    "max_pool",
    "average_pool",
    "moments",
    "normalize",
    "rms_normalization",
    "psnr",
    "multi_hot",
    "dot_product_attention",
    "top_k",
    "in_top_k",
    # math / numpy
    "arcsin",
    "arccos",
    "arctan2",
    "arcsinh",
    "arccosh",
    "arctanh",
    "deg2rad",
    "rad2deg",
    "exp2",
    "cbrt",
    "fabs",
    "trunc",
    "hypot",
    "logaddexp",
    "logaddexp2",
    "fmod",
    "heaviside",
    "sinc",
    "signbit",
    "isposinf",
    "isneginf",
    "isclose",
    "allclose",
    "logical_xor",
    "nan_to_num",
    "average",
    "ptp",
    "median",
    "quantile",
    "percentile",
    "count_nonzero",
    "norm",
    "sort",
    "argsort",
    "dot",
    "vdot",
    "inner",
    "outer",
    "tensordot",
    "trace",
    "diagonal",
    "diag",
    "tri",
    "tril",
    "triu",
    "identity",
    "append",
    "hstack",
    "vstack",
    "dstack",
    "hsplit",
    "vsplit",
    "unstack",
    "roll",
    "diff",
    "fliplr",
    "flipud",
    "select",
    "slice",
    "get_item",
    "stop_gradient",
    "copy",
    "ndim",
    "size",
    "is_tensor",
    "convert_to_tensor",
    "convert_to_numpy",
    "cond",
    "switch",
    "fori_loop",
    "while_loop",
    "map",
]


# ---- helpers --------------------------------------------------------------------------


def _t(x, dtype=None) -> Tensor:
    """``x`` as a Tensor (Tensors pass through unchanged)."""
    if isinstance(x, Tensor):
        return x if dtype is None or x.dtype == dtype else x.astype(dtype)
    return tensor(x, dtype=dtype)


def _float(x) -> Tensor:
    """``x`` as a floating Tensor (integers and booleans become floatx)."""
    x = _t(x)
    return x if x.dtype.kind == "f" else x.astype(floatx())


def _const(x, like: Tensor) -> Tensor:
    """A constant (no gradient) with ``like``'s dtype and device."""
    return Tensor(x, dtype=like.dtype, device=like.device)


def _data_format(data_format) -> str:
    data_format = image_data_format() if data_format is None else data_format
    if data_format not in ("channels_last", "channels_first"):
        raise ValueError(f"data_format: expected 'channels_last' or 'channels_first', got {data_format!r}")
    return data_format


def _to_last(x: Tensor, data_format: str) -> Tensor:
    if data_format == "channels_first":
        return _sh.moveaxis(x, 1, -1)
    return x


def _from_last(x: Tensor, data_format: str) -> Tensor:
    if data_format == "channels_first":
        return _sh.moveaxis(x, -1, 1)
    return x


def _spatial_rank(op: str, x: Tensor) -> int:
    rank = x.ndim - 2
    if rank not in (1, 2):
        raise ValueError(
            f"{op}: expected a 3-D (batch, steps, channels) or 4-D (batch, height, width, channels) input, "
            f"got shape {x.shape} (rank {x.ndim}); Ember has no {rank}-D spatial version"
        )
    return rank


def _pair_from_1d(value, fill):
    """A 1-D window argument (int or 1-sequence) as the (height=fill, width=value) pair of a 2-D op."""
    if isinstance(value, (tuple, list)):
        if len(value) != 1:
            raise ValueError(f"expected an int or a 1-tuple for a 1-D op, got {value!r}")
        value = value[0]
    return (fill, int(value))


# ---- convolutions and pooling -------------------------------------------------------------


def conv(inputs, kernel, strides=1, padding="valid", data_format=None, dilation_rate=1):
    """N-D convolution (cross-correlation), dispatched on the rank of ``inputs`` (1-D or 2-D).

    Args:
        inputs: (batch, *spatial, channels) for channels_last, (batch, channels, *spatial) for channels_first.
        kernel: (*kernel_spatial, in_channels, out_channels).
        strides, dilation_rate: int or one value per spatial axis.
        padding: "valid" or "same".
        data_format: "channels_last" or "channels_first"; default ``image_data_format()``.

    Returns:
        A tensor laid out like ``inputs`` with ``out_channels`` channels.
    """
    x = _t(inputs)
    fmt = _data_format(data_format)
    op = _conv.conv1d if _spatial_rank("conv", x) == 1 else _conv.conv2d
    y = op(_to_last(x, fmt), kernel, strides=strides, padding=padding, dilation_rate=dilation_rate)
    return _from_last(y, fmt)


def conv_transpose(inputs, kernel, strides=1, padding="valid", output_padding=None, data_format=None, dilation_rate=1):
    """Transposed convolution (1-D or 2-D, on the rank of ``inputs``).

    Args:
        inputs: (batch, *spatial, in_channels) (channels_last).
        kernel: (*kernel_spatial, out_channels, in_channels), as Keras's Conv*Transpose.
        strides, output_padding, dilation_rate: int or one value per spatial axis (``output_padding`` may be None).
        padding: "valid" or "same".
        data_format: "channels_last" or "channels_first".

    Returns:
        (batch, *new_spatial, out_channels) (channels_last).
    """
    x = _t(inputs)
    fmt = _data_format(data_format)
    x = _to_last(x, fmt)
    if _spatial_rank("conv_transpose", x) == 2:
        y = _conv.conv2d_transpose(
            x,
            kernel,
            strides=strides,
            padding=padding,
            output_padding=output_padding,
            dilation_rate=dilation_rate,
        )
        return _from_last(y, fmt)
    # 1-D: a 2-D transposed convolution over a height of 1
    k = _sh.expand_dims(_t(kernel), 0)
    out_pad = None if output_padding is None else (0, _pair_from_1d(output_padding, 0)[1])
    y = _conv.conv2d_transpose(
        _sh.expand_dims(x, 1),
        k,
        strides=_pair_from_1d(strides, 1),
        padding=padding,
        output_padding=out_pad,
        dilation_rate=_pair_from_1d(dilation_rate, 1),
    )
    return _from_last(_sh.squeeze(y, 1), fmt)


def depthwise_conv(inputs, kernel, strides=1, padding="valid", data_format=None, dilation_rate=1):
    """Depthwise convolution (1-D or 2-D): each input channel convolved with its own filters.

    Args:
        inputs: (batch, *spatial, channels) (channels_last).
        kernel: (*kernel_spatial, channels, depth_multiplier).

    Returns:
        (batch, *new_spatial, channels * depth_multiplier); output channel ``c * depth_multiplier + m``
        comes from input channel ``c``.
    """
    x = _to_last(_t(inputs), _data_format(data_format))
    fmt = _data_format(data_format)
    if _spatial_rank("depthwise_conv", x) == 2:
        y = _conv.depthwise_conv2d(x, kernel, strides=strides, padding=padding, dilation_rate=dilation_rate)
        return _from_last(y, fmt)
    y = _conv.depthwise_conv2d(
        _sh.expand_dims(x, 1),
        _sh.expand_dims(_t(kernel), 0),
        strides=_pair_from_1d(strides, 1),
        padding=padding,
        dilation_rate=_pair_from_1d(dilation_rate, 1),
    )
    return _from_last(_sh.squeeze(y, 1), fmt)


def separable_conv(
    inputs, depthwise_kernel, pointwise_kernel, strides=1, padding="valid", data_format=None, dilation_rate=1
):
    """Depthwise convolution followed by a 1x1 (pointwise) convolution.

    Args:
        inputs: (batch, *spatial, channels) (channels_last).
        depthwise_kernel: (*kernel_spatial, channels, depth_multiplier).
        pointwise_kernel: (*ones, channels * depth_multiplier, out_channels).

    Returns:
        (batch, *new_spatial, out_channels).
    """
    fmt = _data_format(data_format)
    y = depthwise_conv(
        _to_last(_t(inputs), fmt),
        depthwise_kernel,
        strides=strides,
        padding=padding,
        data_format="channels_last",
        dilation_rate=dilation_rate,
    )
    y = conv(y, pointwise_kernel, strides=1, padding="valid", data_format="channels_last")
    return _from_last(y, fmt)


def max_pool(inputs, pool_size, strides=None, padding="valid", data_format=None):
    """Max pooling, 1-D or 2-D on the rank of ``inputs``.

    Args:
        inputs: (batch, *spatial, channels) (channels_last) or (batch, channels, *spatial).
        pool_size: int or one value per spatial axis.
        strides: defaults to ``pool_size``.
        padding: "valid" or "same".

    Returns:
        The pooled tensor, laid out like ``inputs``.
    """
    x = _t(inputs)
    fmt = _data_format(data_format)
    op = _pool.max_pool1d if _spatial_rank("max_pool", x) == 1 else _pool.max_pool2d
    return _from_last(op(_to_last(x, fmt), pool_size, strides=strides, padding=padding), fmt)


def average_pool(inputs, pool_size, strides=None, padding="valid", data_format=None):
    """Average pooling, 1-D or 2-D on the rank of ``inputs`` ("same" padding averages real cells only)."""
    x = _t(inputs)
    fmt = _data_format(data_format)
    op = _pool.avg_pool1d if _spatial_rank("average_pool", x) == 1 else _pool.avg_pool2d
    return _from_last(op(_to_last(x, fmt), pool_size, strides=strides, padding=padding), fmt)


# ---- normalization-like -----------------------------------------------------------------


def moments(x, axes, keepdims=False, synchronized=False):
    """Mean and (biased) variance of ``x`` over ``axes``.

    Args:
        x: input tensor.
        axes: an int or a list of axes to reduce.
        keepdims: keep the reduced axes with size 1.
        synchronized: accepted for Keras compatibility (single process: no effect).

    Returns:
        ``(mean, variance)``.
    """
    x = _float(x)
    axes = tuple(axes) if isinstance(axes, (list, tuple)) else axes
    return _rd.mean(x, axis=axes, keepdims=keepdims), _rd.var(x, axis=axes, keepdims=keepdims)


def normalize(x, axis=-1, order=2, epsilon=None):
    """``x`` divided by its ``order``-norm along ``axis`` (the norm floored at ``epsilon``).

    Args:
        order: an int >= 1. For 2 this is ``x * min(rsqrt(sum(x**2)), 1 / epsilon)``, as Keras.
        epsilon: default ``ember.backend.epsilon()``.
    """
    if not isinstance(order, int) or order < 1:
        raise ValueError(f"normalize: order must be an int >= 1, got {order!r}")
    x = _float(x)
    if x.ndim == 0:
        x = _sh.expand_dims(x, 0)
    eps = _epsilon() if epsilon is None else epsilon
    if order == 2:
        inv = _el.rsqrt(_rd.sum(_el.square(x), axis=axis, keepdims=True))
        return x * _ar.minimum(inv, 1.0 / eps)
    n = norm(x, ord=order, axis=axis, keepdims=True)
    return x / _ar.maximum(n, eps)


def rms_normalization(x, scale=None, axis=-1, epsilon=None):
    """``x * rsqrt(mean(x**2, axis) + epsilon) * scale`` (root-mean-square layer normalization).

    Args:
        scale: optional tensor broadcastable to ``x`` (usually the size of ``axis``).
        epsilon: default ``ember.backend.epsilon()``.
    """
    x = _float(x)
    if x.ndim == 0:
        x = _sh.expand_dims(x, 0)
    eps = _epsilon() if epsilon is None else epsilon
    axis = tuple(axis) if isinstance(axis, (list, tuple)) else axis
    y = x * _el.rsqrt(_rd.mean(_el.square(x), axis=axis, keepdims=True) + eps)
    return y if scale is None else y * scale


def psnr(x1, x2, max_val):
    """Peak signal-to-noise ratio in dB: ``20 log10(max_val) - 10 log10(mean((x1 - x2)**2))``."""
    x1, x2 = _float(x1), _float(x2)
    if x1.shape != x2.shape:
        raise ValueError(f"psnr: x1 and x2 must have the same shape, got {x1.shape} and {x2.shape}")
    mse = _rd.mean(_el.square(x1 - x2))
    return 20.0 * math.log10(max_val) - 10.0 * _el.log10(mse)


def multi_hot(inputs, num_classes=None, axis=-1, dtype=None, sparse=False, **kwargs):
    """Multi-hot encoding: 1 at every class present in each row of integer ``inputs``.

    Args:
        inputs: (batch, k) integer labels, or (k,) for one sample.
        num_classes: number of classes (``num_tokens`` is accepted as its old name).

    Returns:
        (batch, num_classes) (or (num_classes,)), ``dtype`` default floatx.
    """
    if num_classes is None:
        num_classes = kwargs.pop("num_tokens", None)
    if kwargs:
        raise TypeError(f"multi_hot: unexpected arguments {sorted(kwargs)}")
    if num_classes is None:
        raise ValueError("multi_hot: num_classes is required")
    if sparse:
        raise ValueError("multi_hot: sparse=True is not supported by Ember")
    x = _t(inputs)
    encoded = _ix.one_hot(x.astype("int64"), num_classes, axis=axis, dtype=dtype)
    return _rd.max(encoded, axis=1 if x.ndim > 1 else 0)


def dot_product_attention(
    query,
    key,
    value,
    bias=None,
    mask=None,
    scale=None,
    is_causal=False,
    flash_attention=None,
    attn_logits_soft_cap=None,
):
    """Scaled dot-product attention, ``softmax(q k^T * scale + bias) v``.

    Shapes: query (B, T, N, H), key and value (B, S, N, H) -> (B, T, N, H). Key/value heads may be
    fewer than the query's (N a multiple of theirs: grouped-query attention).

    Args:
        bias: added to the logits, broadcastable to (B, N, T, S).
        mask: boolean, broadcastable to (B, N, T, S); False positions get no attention.
        scale: default ``1 / sqrt(H)``.
        is_causal: query t attends to keys s <= t only.
        flash_attention: must be False, or None with ``ember.config.enable_flash_attention()`` not called
            (Ember has no fused kernel).
        attn_logits_soft_cap: if given, logits become ``cap * tanh(logits / cap)`` before masking.
    """
    if flash_attention is None:
        from ..config import is_flash_attention_enabled

        flash_attention = is_flash_attention_enabled()
    if flash_attention:
        raise ValueError(
            "dot_product_attention: flash attention is not supported by Ember (no fused kernel); "
            "pass flash_attention=False or call ember.config.disable_flash_attention()"
        )
    q, k, v = _float(query), _float(key), _float(value)
    for name, t in (("query", q), ("key", k), ("value", v)):
        if t.ndim != 4:
            raise ValueError(f"dot_product_attention: {name} must be 4-D (batch, seq, heads, head_dim), got {t.shape}")
    n_q, n_kv = q.shape[2], k.shape[2]
    if n_q != n_kv:
        if n_q % n_kv:
            raise ValueError(f"dot_product_attention: query heads {n_q} are not a multiple of key heads {n_kv}")
        k = _sh.repeat(k, n_q // n_kv, axis=2)
        v = _sh.repeat(v, n_q // n_kv, axis=2)
    scale = 1.0 / math.sqrt(k.shape[-1]) if scale is None else scale
    qh = _sh.transpose(q, (0, 2, 1, 3))  # B N T H
    kh = _sh.transpose(k, (0, 2, 3, 1))  # B N H S
    vh = _sh.transpose(v, (0, 2, 1, 3))  # B N S H
    logits = _ar.matmul(qh, kh) * scale
    if bias is not None:
        logits = logits + _float(bias)
    if attn_logits_soft_cap is not None:
        logits = _act.tanh(logits / attn_logits_soft_cap) * attn_logits_soft_cap
    keep = None
    if mask is not None:
        keep = _t(mask, dtype=bool)
    if is_causal:
        t_len, s_len = logits.shape[-2], logits.shape[-1]
        causal = Tensor(numpy.tril(numpy.ones((t_len, s_len), dtype=bool)), device=logits.device)
        keep = causal if keep is None else _cmp.logical_and(keep, causal)
    if keep is not None:
        logits = _ar.where(keep, logits, _const(-0.7 * float(numpy.finfo(logits.dtype).max), logits))
    weights = _act.softmax(logits, axis=-1)
    return _sh.transpose(_ar.matmul(weights, vh), (0, 2, 1, 3))


def top_k(x, k, sorted=True):  # noqa: A002 - Keras's argument name
    """The ``k`` largest entries along the last axis and their indices.

    Returns:
        ``(values, indices)``, each of shape ``x.shape[:-1] + (k,)``, largest first (ties: lower index
        first). Gradients flow into ``values``.
    """
    x = _t(x)
    if not 0 <= k <= x.shape[-1]:
        raise ValueError(f"top_k: k={k} is out of range for a last axis of size {x.shape[-1]} (shape {x.shape})")
    xp = x.device.xp
    order = xp.argsort(-x.data, axis=-1, kind="stable")[..., :k]
    indices = Tensor(order.astype("int64"), device=x.device)  # int64, as Keras on torch gives them
    return _ix.take_along_axis(x, order, axis=-1), indices


def in_top_k(targets, predictions, k):
    """Whether each target class is among the ``k`` highest predictions of its row (ties count as in).

    Shapes: targets (batch,) integers, predictions (batch, classes) -> (batch,) bool.
    """
    p = _t(predictions)
    t = _t(targets).astype("int64")
    kth = top_k(p, k)[0][..., -1:] if k > 0 else None
    if kth is None:
        return Tensor(numpy.zeros(t.shape, dtype=bool), device=t.device)
    target_vals = _ix.take_along_axis(p, _sh.expand_dims(t, -1), axis=-1)
    return _sh.squeeze(_cmp.greater_equal(target_vals, kth), -1)


# ---- elementwise math ----------------------------------------------------------------


def arcsin(x):
    """Inverse sine, ``arctan(x / sqrt(1 - x**2))`` (NaN outside [-1, 1])."""
    x = _float(x)
    return _el.arctan(x / _el.sqrt(1.0 - _el.square(x)))


def arccos(x):
    """Inverse cosine, ``pi/2 - arcsin(x)``."""
    return math.pi / 2 - arcsin(x)


def arctan2(x1, x2):
    """The angle of the point (x2, x1) in (-pi, pi], as ``numpy.arctan2``."""
    y, x = _float(x1), _float(x2)
    zero = _cmp.equal(x, 0)
    base = _el.arctan(y / _ar.where(zero, _const(1.0, x), x))
    up = _ar.where(_cmp.less(y, 0), _const(-math.pi, base), _const(math.pi, base))
    left = base + up
    vertical = _el.sign(y) * (math.pi / 2)
    return _ar.where(_cmp.greater(x, 0), base, _ar.where(zero, vertical, left))


def arcsinh(x):
    """Inverse hyperbolic sine, ``sign(x) log1p(|x| + x**2 / (1 + sqrt(1 + x**2)))``."""
    x = _float(x)
    a = _el.abs(x)
    big = _cmp.greater(a, 1e8)
    safe = _ar.where(big, _const(0.0, a), a)
    small = _el.log1p(safe + _el.square(safe) / (1.0 + _el.sqrt(1.0 + _el.square(safe))))
    large = _el.log(_ar.where(big, a, _const(1.0, a))) + math.log(2.0)
    return _el.sign(x) * _ar.where(big, large, small)


def arccosh(x):
    """Inverse hyperbolic cosine, ``log1p((x - 1) + sqrt((x - 1)(x + 1)))`` (NaN below 1)."""
    x = _float(x)
    t = x - 1.0
    return _el.log1p(t + _el.sqrt(t * (x + 1.0)))


def arctanh(x):
    """Inverse hyperbolic tangent, ``0.5 * log1p(2x / (1 - x))``."""
    x = _float(x)
    return 0.5 * _el.log1p(2.0 * x / (1.0 - x))


def deg2rad(x):
    """Degrees to radians."""
    return _float(x) * (math.pi / 180.0)


def rad2deg(x):
    """Radians to degrees."""
    return _float(x) * (180.0 / math.pi)


def exp2(x):
    """``2 ** x``."""
    return _el.exp(_float(x) * math.log(2.0))


def cbrt(x):
    """Real cube root (negative for negative ``x``)."""
    x = _float(x)
    return _el.sign(x) * _ar.power(_el.abs(x), 1.0 / 3.0)


def fabs(x):
    """Absolute value as a float tensor."""
    return _el.abs(_float(x))


def trunc(x):
    """Round toward zero (integers unchanged)."""
    x = _t(x)
    if x.dtype.kind != "f":
        return x
    return _el.sign(x) * _el.floor(_el.abs(x))


def hypot(x1, x2):
    """``sqrt(x1**2 + x2**2)``, scaled so that large inputs do not overflow."""
    a, b = _el.abs(_float(x1)), _el.abs(_float(x2))
    hi, lo = _ar.maximum(a, b), _ar.minimum(a, b)
    safe = _ar.where(_cmp.equal(hi, 0), _const(1.0, hi), hi)
    return hi * _el.sqrt(1.0 + _el.square(lo / safe))


def logaddexp(x1, x2):
    """``log(exp(x1) + exp(x2))`` without overflow."""
    a, b = _float(x1), _float(x2)
    hi = _ar.maximum(a, b)
    return hi + _el.log1p(_el.exp(-_el.abs(a - b)))


def logaddexp2(x1, x2):
    """``log2(2**x1 + 2**x2)`` without overflow."""
    ln2 = math.log(2.0)
    return logaddexp(_float(x1) * ln2, _float(x2) * ln2) / ln2


def fmod(x1, x2):
    """Remainder with the sign of ``x1`` (C's fmod), unlike ``mod``."""
    a, b = _t(x1), _t(x2)
    if a.dtype.kind == "f" or b.dtype.kind == "f":
        a, b = _float(a), _float(b)
        return a - trunc(a / b) * b
    m = _ar.mod(a, b)
    fix = _cmp.logical_and(_cmp.not_equal(m, 0), _cmp.less(a * b, 0))
    return _ar.where(fix, m - b, m)


def heaviside(x1, x2):
    """0 where ``x1 < 0``, ``x2`` where ``x1 == 0``, 1 where ``x1 > 0``."""
    x = _float(x1)
    h = _ar.where(_cmp.greater(x, 0), _const(1.0, x), _const(0.0, x))
    return _ar.where(_cmp.equal(x, 0), _float(x2), h)


def sinc(x):
    """``sin(pi x) / (pi x)``, 1 at 0."""
    x = _float(x)
    zero = _cmp.equal(x, 0)
    px = _ar.where(zero, _const(1.0, x), x) * math.pi
    return _ar.where(zero, _const(1.0, x), _el.sin(px) / px)


def signbit(x):
    """Whether the sign bit is set (True for -0.0 and negative numbers)."""
    x = _t(x)
    return Tensor(x.device.xp.signbit(x.data), device=x.device)


def isposinf(x):
    """Elementwise ``x == +inf``."""
    x = _t(x)
    return _cmp.logical_and(_cmp.isinf(x), _cmp.greater(x, 0))


def isneginf(x):
    """Elementwise ``x == -inf``."""
    x = _t(x)
    return _cmp.logical_and(_cmp.isinf(x), _cmp.less(x, 0))


def isclose(x1, x2, rtol=1e-05, atol=1e-08, equal_nan=False):
    """Elementwise ``|x1 - x2| <= atol + rtol * |x2|`` (infinities equal only to themselves)."""
    a, b = _float(x1), _float(x2)
    close = _cmp.less_equal(_el.abs(a - b), atol + rtol * _el.abs(b))
    close = _cmp.logical_or(_cmp.logical_and(close, _cmp.isfinite(b)), _cmp.equal(a, b))
    if equal_nan:
        close = _cmp.logical_or(close, _cmp.logical_and(_cmp.isnan(a), _cmp.isnan(b)))
    return close


def allclose(x1, x2, rtol=1e-05, atol=1e-08, equal_nan=False):
    """Whether every element of ``x1`` and ``x2`` is close (see :func:`isclose`); a 0-d bool tensor."""
    return _rd.all(isclose(x1, x2, rtol=rtol, atol=atol, equal_nan=equal_nan))


def logical_xor(x1, x2):
    """Elementwise exclusive or of the truth values."""
    a, b = _t(x1, dtype=bool), _t(x2, dtype=bool)
    return _cmp.not_equal(a, b)


def nan_to_num(x, nan=0.0, posinf=None, neginf=None):
    """NaN replaced by ``nan``, infinities by ``posinf``/``neginf`` (default: the dtype's extremes)."""
    x = _t(x)
    if x.dtype.kind != "f":
        return x
    big = float(numpy.finfo(x.dtype).max)
    posinf = big if posinf is None else posinf
    neginf = -big if neginf is None else neginf
    x = _ar.where(_cmp.isnan(x), _const(nan, x), x)
    x = _ar.where(isposinf(x), _const(posinf, x), x)
    return _ar.where(isneginf(x), _const(neginf, x), x)


# ---- reductions ----------------------------------------------------------------------


def average(x, axis=None, weights=None):
    """Weighted mean along ``axis``: ``sum(x * w) / sum(w)``; ``weights`` 1-D along ``axis`` or like ``x``."""
    x = _float(x)
    if weights is None:
        return _rd.mean(x, axis=axis)
    w = _float(weights)
    if w.shape != x.shape:
        if axis is None or w.ndim != 1:
            raise ValueError(
                f"average: weights of shape {w.shape} must match x {x.shape}, or be 1-D along the given axis"
            )
        ax = axis % x.ndim
        w = _sh.reshape(w, tuple(-1 if i == ax else 1 for i in range(x.ndim)))
    return _rd.sum(x * w, axis=axis) / _rd.sum(_sh.broadcast_to(w, x.shape), axis=axis)


def ptp(x, axis=None, keepdims=False):
    """Range (max - min) along ``axis``."""
    x = _t(x)
    return _rd.max(x, axis=axis, keepdims=keepdims) - _rd.min(x, axis=axis, keepdims=keepdims)


def _quantile(op, x, q, axis, method, keepdims):
    if method not in ("linear", "lower", "higher", "midpoint", "nearest"):
        raise ValueError(f"{op}: method must be linear, lower, higher, midpoint or nearest, got {method!r}")
    x = _float(x)
    qs = numpy.asarray(q.numpy() if isinstance(q, Tensor) else q, dtype="float64")
    if numpy.any((qs < 0) | (qs > 1)):
        raise ValueError(f"{op}: quantiles must be in [0, 1] (percentiles in [0, 100]), got {q!r}")
    if axis is None:
        axes = tuple(range(x.ndim))
    elif isinstance(axis, numbers.Integral):
        axes = ((int(axis) % x.ndim),)
    else:
        axes = tuple(sorted(int(a) % x.ndim for a in axis))
    rest = [i for i in range(x.ndim) if i not in axes]
    # move the reduced axes last and flatten them into one
    moved = _sh.transpose(x, tuple(rest) + axes)
    flat = _sh.reshape(moved, tuple(x.shape[i] for i in rest) + (-1,))
    s = sort(flat, axis=-1)
    n = s.shape[-1]
    pos = qs.reshape(-1) * (n - 1)
    lo = numpy.floor(pos).astype(numpy.int64)
    hi = numpy.minimum(lo + 1, n - 1)
    frac = pos - lo
    if method == "lower":
        hi, frac = lo, numpy.zeros_like(frac)
    elif method == "higher":
        lo = hi = numpy.ceil(pos).astype(numpy.int64)
        frac = numpy.zeros_like(frac)
    elif method == "midpoint":
        frac = numpy.where(frac > 0, 0.5, 0.0)
    elif method == "nearest":
        lo = hi = numpy.round(pos).astype(numpy.int64)  # half to even, as NumPy
        frac = numpy.zeros_like(frac)
    a, b = _ix.take(s, lo, axis=-1), _ix.take(s, hi, axis=-1)
    out = a + (b - a) * _const(frac, a)  # (..., len(q))
    out = _sh.moveaxis(out, -1, 0)
    if keepdims:
        shape = [1 if i in axes else x.shape[i] for i in range(x.ndim)]
        out = _sh.reshape(out, (out.shape[0],) + tuple(shape))
    if qs.ndim == 0:
        out = _sh.squeeze(out, 0)
    return out


def quantile(x, q, axis=None, method="linear", keepdims=False):
    """The ``q``-th quantile(s) (``q`` in [0, 1]) of ``x`` along ``axis``; a list of ``q`` adds a leading axis."""
    return _quantile("quantile", x, q, axis, method, keepdims)


def percentile(x, q, axis=None, method="linear", keepdims=False):
    """The ``q``-th percentile(s) (``q`` in [0, 100]): ``quantile(x, q / 100)``."""
    qs = numpy.asarray(q.numpy() if isinstance(q, Tensor) else q, dtype="float64") / 100.0
    return _quantile("percentile", x, qs, axis, method, keepdims)


def median(x, axis=None, keepdims=False):
    """The median along ``axis`` (the mean of the two middle values for an even count)."""
    return _quantile("median", x, 0.5, axis, "linear", keepdims)


def count_nonzero(x, axis=None):
    """The number of non-zero entries along ``axis`` (int64, no gradient)."""
    nz = _cmp.not_equal(_t(x), 0)
    return _rd.sum(nz.astype("int64"), axis=axis)


def norm(x, ord=None, axis=None, keepdims=False):  # noqa: A002 - NumPy's argument name
    """Vector or matrix norm, as ``numpy.linalg.norm``, for the orders Ember can compute.

    Vector (one axis, or ``x`` 1-D with ``axis=None``): ord None/2, 1, inf, -inf, 0 or any p.
    Matrix (two axes, or ``x`` 2-D with ``axis=None``): ord None/'fro', 1, -1, inf, -inf
    ('nuc' and 2/-2 need an SVD, which Ember does not have). ``axis=None`` on higher ranks: the
    2-norm of the flattened tensor.
    """
    x = _float(x)
    if axis is None:
        if x.ndim == 2 and ord is not None:
            axis = (0, 1)
        elif x.ndim == 1 or ord is None:
            r = _el.sqrt(_rd.sum(_el.square(x)))
            return _sh.reshape(r, (1,) * x.ndim) if keepdims else r
        else:
            raise ValueError(f"norm: ord={ord!r} with axis=None needs a 1-D or 2-D input, got shape {x.shape}")
    if isinstance(axis, (tuple, list)) and len(axis) == 1:
        axis = axis[0]
    if isinstance(axis, numbers.Integral):
        a = _el.abs(x)
        if ord is None or ord == 2:
            return _el.sqrt(_rd.sum(_el.square(x), axis=axis, keepdims=keepdims))
        if ord == math.inf:
            return _rd.max(a, axis=axis, keepdims=keepdims)
        if ord == -math.inf:
            return _rd.min(a, axis=axis, keepdims=keepdims)
        if ord == 0:
            return _rd.sum(_cmp.not_equal(x, 0).astype(x.dtype), axis=axis, keepdims=keepdims)
        if ord == 1:
            return _rd.sum(a, axis=axis, keepdims=keepdims)
        if isinstance(ord, str):
            raise ValueError(f"norm: ord={ord!r} is a matrix norm; pass two axes")
        return _ar.power(_rd.sum(_ar.power(a, float(ord)), axis=axis, keepdims=keepdims), 1.0 / ord)
    if len(axis) != 2:
        raise ValueError(f"norm: axis must be None, an int or a pair, got {axis!r}")
    r, c = (int(v) % x.ndim for v in axis)
    a = _el.abs(x)
    if ord is None or ord == "fro":
        return _el.sqrt(_rd.sum(_el.square(x), axis=(r, c), keepdims=keepdims))
    if ord in (1, -1, math.inf, -math.inf):
        inner_axis, outer_axis = (r, c) if ord in (1, -1) else (c, r)
        sums = _rd.sum(a, axis=inner_axis, keepdims=True)
        pick = _rd.max if ord in (1, math.inf) else _rd.min
        out = pick(sums, axis=outer_axis, keepdims=True)
        return out if keepdims else _sh.squeeze(out, (r, c))
    raise ValueError(f"norm: matrix ord={ord!r} is not supported by Ember (needs an SVD)")


# ---- sorting ----------------------------------------------------------------------------


def argsort(x, axis=-1):
    """Indices that sort ``x`` along ``axis`` (stable; ``axis=None`` sorts the flattened tensor)."""
    x = _t(x)
    if axis is None:
        x, axis = _sh.ravel(x), -1
    if x.ndim == 0:
        return Tensor(numpy.zeros((), dtype="int32"), device=x.device)
    # int32, as Keras gives indices
    return Tensor(x.device.xp.argsort(x.data, axis=axis, kind="stable").astype("int32"), device=x.device)


def sort(x, axis=-1):
    """``x`` sorted ascending along ``axis`` (gradients go back to the original positions)."""
    x = _t(x)
    if axis is None:
        x, axis = _sh.ravel(x), -1
    if x.ndim == 0:
        return x
    order = x.device.xp.argsort(x.data, axis=axis, kind="stable")
    return _ix.take_along_axis(x, order, axis=axis)


# ---- products ----------------------------------------------------------------------------


def dot(x1, x2):
    """NumPy's ``dot``: a product for scalars, the inner product for 1-D, else a sum over the last axis of
    ``x1`` and the second-to-last of ``x2``."""
    a, b = _t(x1), _t(x2)
    if a.ndim == 0 or b.ndim == 0:
        return a * b
    if b.ndim == 1 or a.ndim <= 2 and b.ndim <= 2:
        return _ar.matmul(a, b)
    return tensordot(a, b, axes=([a.ndim - 1], [b.ndim - 2]))


def vdot(x1, x2):
    """The inner product of the two flattened inputs."""
    return _rd.sum(_sh.ravel(_t(x1)) * _sh.ravel(_t(x2)))


def inner(x1, x2):
    """Sum over the last axes of ``x1`` and ``x2`` (a product for scalars)."""
    a, b = _t(x1), _t(x2)
    if a.ndim == 0 or b.ndim == 0:
        return a * b
    return tensordot(a, b, axes=([a.ndim - 1], [b.ndim - 1]))


def outer(x1, x2):
    """``ravel(x1)[:, None] * ravel(x2)[None, :]``."""
    return _sh.expand_dims(_sh.ravel(_t(x1)), 1) * _sh.expand_dims(_sh.ravel(_t(x2)), 0)


def tensordot(x1, x2, axes=2):
    """Sum of products over ``axes``: an int N (last N of ``x1``, first N of ``x2``) or two lists of axes."""
    a, b = _t(x1), _t(x2)
    if isinstance(axes, numbers.Integral):
        n = int(axes)
        ax_a, ax_b = list(range(a.ndim - n, a.ndim)), list(range(n))
    else:
        ax_a, ax_b = axes
        ax_a = [ax_a] if isinstance(ax_a, numbers.Integral) else list(ax_a)
        ax_b = [ax_b] if isinstance(ax_b, numbers.Integral) else list(ax_b)
    ax_a = [int(i) % a.ndim for i in ax_a]
    ax_b = [int(i) % b.ndim for i in ax_b]
    if len(ax_a) != len(ax_b) or any(a.shape[i] != b.shape[j] for i, j in zip(ax_a, ax_b)):
        raise ValueError(f"tensordot: axes {ax_a} of {a.shape} and {ax_b} of {b.shape} do not match")
    free_a = [i for i in range(a.ndim) if i not in ax_a]
    free_b = [i for i in range(b.ndim) if i not in ax_b]
    k = int(numpy.prod([a.shape[i] for i in ax_a], dtype=numpy.int64))
    am = _sh.reshape(_sh.transpose(a, tuple(free_a + ax_a)), (-1, k))
    bm = _sh.reshape(_sh.transpose(b, tuple(ax_b + free_b)), (k, -1))
    out = _ar.matmul(am, bm)
    return _sh.reshape(out, tuple(a.shape[i] for i in free_a) + tuple(b.shape[i] for i in free_b))


# ---- diagonals and triangles --------------------------------------------------------------


def diagonal(x, offset=0, axis1=0, axis2=1):
    """The ``offset`` diagonal of the (axis1, axis2) planes, appended as the last axis."""
    x = _t(x)
    if x.ndim < 2:
        raise ValueError(f"diagonal: expected at least 2-D input, got shape {x.shape}")
    a1, a2 = axis1 % x.ndim, axis2 % x.ndim
    rest = [i for i in range(x.ndim) if i not in (a1, a2)]
    m = _sh.transpose(x, tuple(rest) + (a1, a2))
    rows, cols = m.shape[-2], m.shape[-1]
    n = builtins.max(0, builtins.min(rows, cols - offset) if offset >= 0 else builtins.min(rows + offset, cols))
    i = numpy.arange(n) + builtins.max(0, -offset)
    j = numpy.arange(n) + builtins.max(0, offset)
    flat = _sh.reshape(m, m.shape[:-2] + (rows * cols,))
    return _ix.take(flat, i * cols + j, axis=-1)


def trace(x, offset=0, axis1=0, axis2=1):
    """The sum of the ``offset`` diagonal of the (axis1, axis2) planes."""
    return _rd.sum(diagonal(x, offset=offset, axis1=axis1, axis2=axis2), axis=-1)


def diag(x, k=0):
    """1-D ``x``: a matrix with ``x`` on its ``k`` diagonal; 2-D ``x``: its ``k`` diagonal."""
    x = _t(x)
    if x.ndim == 2:
        return diagonal(x, offset=k)
    if x.ndim != 1:
        raise ValueError(f"diag: expected a 1-D or 2-D input, got shape {x.shape}")
    length = x.shape[0]
    n = length + builtins.abs(k)
    # gather from x with one zero appended: diagonal cells take x[i], every other cell the zero
    source = numpy.full(n * n, length, dtype=numpy.int64)
    i = numpy.arange(length)
    source[(i + builtins.max(0, -k)) * n + i + builtins.max(0, k)] = i
    padded = _sh.concatenate([x, Tensor(numpy.zeros(1, dtype=x.dtype), device=x.device)], axis=0)
    return _sh.reshape(_ix.take(padded, source), (n, n))


def tri(N, M=None, k=0, dtype=None):  # noqa: N803 - NumPy's argument names
    """An (N, M) matrix with ones at and below the ``k`` diagonal."""
    return Tensor(numpy.tri(N, M, k), dtype=dtype or floatx())


def _tri_mask(x, k, lower):
    rows, cols = x.shape[-2], x.shape[-1]
    m = numpy.tri(rows, cols, k, dtype=bool)
    return Tensor(m if lower else ~numpy.tri(rows, cols, k - 1, dtype=bool), device=x.device)


def tril(x, k=0):
    """``x`` with the entries above the ``k`` diagonal (of the last two axes) set to 0."""
    x = _t(x)
    return _ar.where(_tri_mask(x, k, True), x, _const(0, x))


def triu(x, k=0):
    """``x`` with the entries below the ``k`` diagonal (of the last two axes) set to 0."""
    x = _t(x)
    return _ar.where(_tri_mask(x, k, False), x, _const(0, x))


def identity(n, dtype=None):
    """The (n, n) identity matrix, ``dtype`` default floatx."""
    return Tensor(numpy.eye(n), dtype=dtype or floatx())


# ---- joining, splitting, moving ------------------------------------------------------------


def append(x1, x2, axis=None):
    """``x2`` appended to ``x1`` along ``axis`` (both flattened when ``axis`` is None)."""
    a, b = _t(x1), _t(x2)
    if axis is None:
        return _sh.concatenate([_sh.ravel(a), _sh.ravel(b)], axis=0)
    return _sh.concatenate([a, b], axis=axis)


def _atleast(x, n):
    x = _t(x)
    if x.ndim >= n:
        return x
    if n == 2:
        return _sh.reshape(x, (1, -1))
    # n == 3: NumPy's atleast_3d puts a 1-D (n,) at (1, n, 1) and a 2-D (m, n) at (m, n, 1)
    if x.ndim == 2:
        return _sh.expand_dims(x, -1)
    return _sh.reshape(x, (1, -1, 1))


def hstack(xs):
    """Join along axis 1 (axis 0 for 1-D inputs)."""
    xs = [_t(x) for x in xs]
    return _sh.concatenate(xs, axis=0 if all(x.ndim == 1 for x in xs) else 1)


def vstack(xs):
    """Join along axis 0, 1-D inputs as rows."""
    return _sh.concatenate([_atleast(x, 2) for x in xs], axis=0)


def dstack(xs):
    """Join along axis 2, inputs raised to 3-D first."""
    return _sh.concatenate([_atleast(x, 3) for x in xs], axis=2)


def hsplit(x, indices_or_sections):
    """Split along axis 1 (axis 0 for 1-D ``x``)."""
    x = _t(x)
    return _sh.split(x, indices_or_sections, axis=0 if x.ndim == 1 else 1)


def vsplit(x, indices_or_sections):
    """Split along axis 0."""
    return _sh.split(_t(x), indices_or_sections, axis=0)


def unstack(x, num=None, axis=0):
    """The slices of ``x`` along ``axis`` as a list (``num``, if given, must equal that axis's size)."""
    x = _t(x)
    n = x.shape[axis]
    if num is not None and num != n:
        raise ValueError(f"unstack: num={num} does not match axis {axis} of size {n} (shape {x.shape})")
    return [_sh.squeeze(p, axis) for p in _sh.split(x, n, axis=axis)]


def roll(x, shift, axis=None):
    """Entries shifted by ``shift`` along ``axis``, wrapping around (flattened when ``axis`` is None)."""
    x = _t(x)
    if axis is None:
        return _sh.reshape(roll(_sh.ravel(x), shift, axis=0), x.shape)
    shifts = shift if isinstance(shift, (tuple, list)) else [shift]
    axes = axis if isinstance(axis, (tuple, list)) else [axis] * len(shifts)
    for s, a in zip(shifts, axes):
        n = x.shape[a]
        if n:
            x = _ix.take(x, (numpy.arange(n) - int(s)) % n, axis=a)
    return x


def diff(a, n=1, axis=-1):
    """The ``n``-th discrete difference along ``axis``."""
    x = _t(a)
    for _ in range(n):
        length = x.shape[axis]
        x = _ix.take(x, numpy.arange(1, length), axis=axis) - _ix.take(x, numpy.arange(length - 1), axis=axis)
    return x


def fliplr(x):
    """``x`` reversed along axis 1."""
    return _sh.flip(_t(x), axis=1)


def flipud(x):
    """``x`` reversed along axis 0."""
    return _sh.flip(_t(x), axis=0)


def select(condlist, choicelist, default=0):
    """For each element, the choice of the first true condition in ``condlist``, else ``default``."""
    if len(condlist) != len(choicelist):
        raise ValueError(f"select: {len(condlist)} conditions but {len(choicelist)} choices")
    if not condlist:
        raise ValueError("select: condlist must not be empty")
    choices = [_t(c) for c in choicelist]
    out = _t(default)
    if choices[0].dtype.kind == "f" and out.dtype.kind != "f":
        out = out.astype(choices[0].dtype)
    for c, v in zip(reversed(condlist), reversed(choices)):
        out = _ar.where(_t(c, dtype=bool), v, out)
    return out


def slice(inputs, start_indices, shape):  # noqa: A001 - Keras's name
    """The block of ``inputs`` starting at ``start_indices`` with ``shape`` (``-1``: to the end)."""
    x = _t(inputs)
    starts = [int(s) for s in start_indices]
    if len(starts) != x.ndim or len(shape) != x.ndim:
        raise ValueError(
            f"slice: start_indices {tuple(starts)} and shape {tuple(shape)} must each have {x.ndim} entries "
            f"for an input of shape {x.shape}"
        )
    index = tuple(builtins.slice(s, None if int(n) == -1 else s + int(n)) for s, n in zip(starts, shape))
    return _ix.getitem(x, index)


def get_item(x, key):
    """``x[key]``."""
    return _ix.getitem(_t(x), key)


# ---- tensors and Python values ---------------------------------------------------------------


def stop_gradient(variable):
    """The value of ``variable`` with no gradient flowing back through it."""
    return _t(variable).detach()


def copy(x):
    """A new tensor with ``x``'s values (gradients flow back to ``x``)."""
    x = _t(x)
    return _ar.multiply(x, 1) if x.dtype.kind == "f" else Tensor(x.data.copy(), device=x.device)


def ndim(x):
    """The number of axes of ``x`` (an int; symbolic tensors answer too)."""
    n = getattr(x, "ndim", None)
    return n if isinstance(n, int) else _t(x).ndim


def size(x):
    """The number of elements of ``x`` (an int)."""
    return _t(x).size


def is_tensor(x):
    """Whether ``x`` is an Ember tensor."""
    return isinstance(x, Tensor)


def convert_to_tensor(x, dtype=None, sparse=None, ragged=None):
    """``x`` (array, list, scalar or tensor) as a Tensor of ``dtype`` (``sparse``/``ragged`` must be falsy)."""
    if sparse or ragged:
        raise ValueError("convert_to_tensor: Ember has no sparse or ragged tensors")
    if type(x).__name__ == "SymbolicTensor" and dtype is None:
        return x  # a functional model's placeholder is already a tensor
    return _t(x, dtype=dtype)


def convert_to_numpy(x):
    """``x`` as a NumPy array (copied to the host for GPU tensors)."""
    return x.numpy() if isinstance(x, Tensor) else numpy.asarray(x)


def cond(pred, true_fn, false_fn):
    """``true_fn()`` if ``pred`` else ``false_fn()`` (eager: a Python branch)."""
    return true_fn() if bool(pred) else false_fn()


def switch(index, branches, *operands):
    """``branches[index](*operands)``, ``index`` clamped to the valid range as in Keras."""
    i = builtins.min(builtins.max(int(index), 0), len(branches) - 1)
    return branches[i](*operands)


def fori_loop(lower, upper, body_fun, init_val):
    """``val = body_fun(i, val)`` for ``i`` in ``range(lower, upper)``; returns the final ``val``."""
    val = init_val
    for i in range(int(lower), int(upper)):
        val = body_fun(i, val)
    return val


def while_loop(cond, body, loop_vars, maximum_iterations=None):  # noqa: A002 - shadows this module's cond
    """``loop_vars = body(*loop_vars)`` while ``cond(*loop_vars)``, at most ``maximum_iterations`` times.

    ``loop_vars`` is a tuple/list (``body`` gets them unpacked and returns as many) or a single value.
    """
    single = not isinstance(loop_vars, (tuple, list))
    state = (loop_vars,) if single else tuple(loop_vars)
    steps = 0
    while (maximum_iterations is None or steps < maximum_iterations) and bool(cond(*state)):
        out = body(*state)
        state = (out,) if single else tuple(out)
        steps += 1
    return state[0] if single else type(loop_vars)(state)


def map(f, xs):  # noqa: A001 - Keras's name
    """``f`` applied to each slice of ``xs`` along axis 0, the results stacked."""
    xs = _t(xs)
    return _sh.stack([f(x) for x in unstack(xs)], axis=0)
