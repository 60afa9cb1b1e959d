"""Keras 3 ``keras.ops.numpy`` names not covered elsewhere in ``ember.ops``.

Three kinds of function live here:

- compositions of Ember's differentiable ops (``kron``, ``cross``, ``rot90``,
  ``meshgrid``, ``trapezoid``, ``correlate``, the ``nan*`` reductions,
  ``fmax``/``fmin``, ``corrcoef``, ``cdist``...), so gradients flow with no
  backward code of their own;
- creation functions (``linspace``, ``logspace``, window functions...), which
  make constants;
- integer, bitwise and set-valued functions (``bincount``, ``gcd``,
  ``unique``, ``searchsorted``...), computed by NumPy on the values: their
  results are integers or booleans and carry no gradient, as in every framework.

Integer index results are int32, as Keras gives them.
"""

from __future__ import annotations

import builtins
import inspect
import math
import numbers

import numpy

from ..backend.config import floatx
from ..engine.tensor import Tensor, tensor
from . import arithmetic as _ar
from . import comparison as _cmp
from . import elementwise as _el
from . import reduction as _rd
from . import shaping as _sh
from .casting import cast
from .indexing import getitem

__all__ = [
    "ones",
    "ones_like",
    "zeros",
    "zeros_like",
    "full",
    "full_like",
    "eye",
    "arange",
    "array",
    "empty",
    "empty_like",
    "linspace",
    "logspace",
    "geomspace",
    "bartlett",
    "blackman",
    "hamming",
    "hanning",
    "kaiser",
    "vander",
    "meshgrid",
    "kron",
    "cross",
    "rot90",
    "diagflat",
    "array_split",
    "dsplit",
    "trapezoid",
    "correlate",
    "corrcoef",
    "cdist",
    "fmax",
    "fmin",
    "ldexp",
    "i0",
    "real",
    "imag",
    "conj",
    "conjugate",
    "angle",
    "isreal",
    "view",
    "view_as_complex",
    "view_as_real",
    "nansum",
    "nanprod",
    "nanmean",
    "nanvar",
    "nanstd",
    "nanmax",
    "nanmin",
    "nanargmax",
    "nanargmin",
    "nancumsum",
    "nancumprod",
    "nanmedian",
    "nanquantile",
    "nanpercentile",
    "argpartition",
    "bincount",
    "digitize",
    "searchsorted",
    "histogram",
    "isin",
    "nonzero",
    "unique",
    "unravel_index",
    "gcd",
    "lcm",
    "nextafter",
    "bitwise_and",
    "bitwise_or",
    "bitwise_xor",
    "bitwise_not",
    "bitwise_invert",
    "bitwise_left_shift",
    "bitwise_right_shift",
    "left_shift",
    "right_shift",
    "rearrange",
]


# ---- helpers --------------------------------------------------------------------------


def _t(x) -> Tensor:
    return x if isinstance(x, Tensor) else tensor(x)


def _float(x) -> Tensor:
    x = _t(x)
    return x if x.dtype.kind == "f" else x.astype(floatx())


def _np(x) -> numpy.ndarray:
    """The values of ``x`` as a NumPy array (no gradient)."""
    return x.numpy() if isinstance(x, Tensor) else numpy.asarray(x)


def _const(array, dtype=None) -> Tensor:
    """A constant tensor of ``array`` (int64 index results become int32, as Keras gives them)."""
    a = numpy.asarray(array)
    if dtype is not None:
        a = a.astype(dtype)
    elif a.dtype == numpy.int64:
        a = a.astype(numpy.int32)
    return tensor(a, dtype=a.dtype)


def _float_dtype(dtype):
    return str(numpy.dtype(dtype)) if dtype is not None else floatx()


# ---- creation -------------------------------------------------------------------------


def array(x, dtype=None):
    """``x`` as a new tensor (``keras.ops.array``)."""
    if isinstance(x, Tensor):
        return x.astype(dtype) if dtype is not None and str(x.dtype) != str(numpy.dtype(dtype)) else x.detach()
    return tensor(x, dtype=dtype)


def empty(shape, dtype=None):
    """A tensor of ``shape`` (Ember fills it with zeros)."""
    return zeros(shape, dtype=dtype)


def empty_like(x, dtype=None):
    """A tensor shaped like ``x`` (filled with zeros)."""
    return zeros_like(_t(x), dtype=dtype)


def _spaced(values, axis, dtype):
    out = numpy.asarray(values)
    if axis != 0:
        out = numpy.moveaxis(out, 0, axis)
    return _const(out, _float_dtype(dtype) if dtype is None else dtype)


def linspace(start, stop, num=50, endpoint=True, retstep=False, dtype=None, axis=0, device=None):
    """``num`` evenly spaced values from ``start`` to ``stop`` (array ``start``/``stop`` give one row each).

    With ``retstep`` also returns the spacing. Float results are floatx unless ``dtype`` says otherwise.
    """
    values, step = numpy.linspace(_np(start), _np(stop), int(num), endpoint=endpoint, retstep=True)
    out = _spaced(values, axis, dtype)
    if device is not None:
        out = out.to(device)
    return (out, step) if retstep else out


def logspace(start, stop, num=50, endpoint=True, base=10, dtype=None, axis=0):
    """``base ** linspace(start, stop, num)``."""
    return _spaced(numpy.logspace(_np(start), _np(stop), int(num), endpoint=endpoint, base=base), axis, dtype)


def geomspace(start, stop, num=50, endpoint=True, dtype=None, axis=0):
    """``num`` values from ``start`` to ``stop`` spaced evenly on a log scale."""
    return _spaced(numpy.geomspace(_np(start), _np(stop), int(num), endpoint=endpoint), axis, dtype)


def _window(fn, x, *args):
    return _const(fn(int(_np(x)), *args), floatx())


def bartlett(x):
    """The Bartlett (triangular) window of ``x`` points."""
    return _window(numpy.bartlett, x)


def blackman(x):
    """The Blackman window of ``x`` points."""
    return _window(numpy.blackman, x)


def hamming(x):
    """The Hamming window of ``x`` points."""
    return _window(numpy.hamming, x)


def hanning(x):
    """The Hann window of ``x`` points."""
    return _window(numpy.hanning, x)


def kaiser(x, beta):
    """The Kaiser window of ``x`` points with shape parameter ``beta``."""
    return _window(numpy.kaiser, x, float(beta))


def vander(x, N=None, increasing=False):  # noqa: N803 - NumPy's argument name
    """The Vandermonde matrix of the 1-D ``x``: columns ``x**(N-1), ..., x**0`` (reversed if ``increasing``)."""
    x = _t(x)
    if x.ndim != 1:
        raise ValueError(f"vander: x must be 1-D, got shape {x.shape}")
    n = x.shape[0] if N is None else int(N)
    powers = numpy.arange(n) if increasing else numpy.arange(n - 1, -1, -1)
    if n == 0:
        return zeros((x.shape[0], 0), dtype=x.dtype)
    cols = [_ar.power(x, int(p)) if p else _ar.add(_ar.multiply(x, 0), 1) for p in powers]
    return _sh.stack(cols, axis=1)


def meshgrid(*x, indexing="xy"):
    """Coordinate grids from 1-D tensors, as ``numpy.meshgrid`` (``indexing`` 'xy' or 'ij')."""
    if indexing not in ("xy", "ij"):
        raise ValueError(f"meshgrid: indexing must be 'xy' or 'ij', got {indexing!r}")
    xs = [_sh.ravel(_t(v)) for v in x]
    sizes = [v.shape[0] for v in xs]
    if indexing == "xy" and len(xs) >= 2:
        sizes[0], sizes[1] = sizes[1], sizes[0]
    out = []
    for i, v in enumerate(xs):
        pos = i
        if indexing == "xy" and len(xs) >= 2 and i < 2:
            pos = 1 - i
        shape = [1] * len(xs)
        shape[pos] = v.shape[0]
        out.append(_sh.broadcast_to(_sh.reshape(v, tuple(shape)), tuple(sizes)))
    return out


# ---- compositions ---------------------------------------------------------------------


def kron(x1, x2):
    """The Kronecker product of ``x1`` and ``x2`` (block ``x1[i, j] * x2``)."""
    a, b = _t(x1), _t(x2)
    nd = builtins.max(a.ndim, b.ndim)
    a = _sh.reshape(a, (1,) * (nd - a.ndim) + a.shape)
    b = _sh.reshape(b, (1,) * (nd - b.ndim) + b.shape)
    # interleave: a -> (a0, 1, a1, 1, ...), b -> (1, b0, 1, b1, ...)
    ea = _sh.reshape(a, tuple(d for n in a.shape for d in (n, 1)))
    eb = _sh.reshape(b, tuple(d for n in b.shape for d in (1, n)))
    prod = _ar.multiply(ea, eb)
    return _sh.reshape(prod, tuple(m * n for m, n in zip(a.shape, b.shape)))


def cross(x1, x2, axisa=-1, axisb=-1, axisc=-1, axis=None):
    """The cross product of 3-vectors (or 2-vectors, taken with z = 0) along the given axes."""
    if axis is not None:
        axisa = axisb = axisc = axis
    a = _sh.moveaxis(_t(x1), axisa, -1)
    b = _sh.moveaxis(_t(x2), axisb, -1)
    for name, v in (("x1", a), ("x2", b)):
        if v.shape[-1] not in (2, 3):
            raise ValueError(f"cross: {name} must have 2 or 3 components along its axis, got shape {v.shape}")

    def comp(v, i):
        if i < v.shape[-1]:
            return v[..., i]
        return _ar.multiply(v[..., 0], 0)

    if a.shape[-1] == 2 and b.shape[-1] == 2:
        return _ar.subtract(_ar.multiply(comp(a, 0), comp(b, 1)), _ar.multiply(comp(a, 1), comp(b, 0)))
    a0, a1, a2 = comp(a, 0), comp(a, 1), comp(a, 2)
    b0, b1, b2 = comp(b, 0), comp(b, 1), comp(b, 2)
    c = _sh.stack(
        [
            _ar.subtract(_ar.multiply(a1, b2), _ar.multiply(a2, b1)),
            _ar.subtract(_ar.multiply(a2, b0), _ar.multiply(a0, b2)),
            _ar.subtract(_ar.multiply(a0, b1), _ar.multiply(a1, b0)),
        ],
        axis=-1,
    )
    return _sh.moveaxis(c, -1, axisc)


def rot90(array, k=1, axes=(0, 1)):
    """``array`` rotated by 90 degrees ``k`` times in the plane of ``axes`` (as ``numpy.rot90``)."""
    x = _t(array)
    if len(axes) != 2 or x.ndim < 2:
        raise ValueError(f"rot90: axes must name two axes of a tensor with at least 2 dims, got {axes} for {x.shape}")
    a0, a1 = (int(a) % x.ndim for a in axes)
    if a0 == a1:
        raise ValueError(f"rot90: axes must differ, got {axes}")
    k = int(k) % 4
    if k == 0:
        return x
    if k == 2:
        return _sh.flip(x, (a0, a1))
    perm = list(range(x.ndim))
    perm[a0], perm[a1] = perm[a1], perm[a0]
    if k == 1:
        return _sh.transpose(_sh.flip(x, a1), perm)
    return _sh.flip(_sh.transpose(x, perm), a1)


def diagflat(x, k=0):
    """A 2-D tensor with the flattened ``x`` on diagonal ``k``."""
    from .keras_names import diag

    return diag(_sh.ravel(_t(x)), k)


def array_split(x, indices_or_sections, axis=0):
    """``x`` cut into ``indices_or_sections`` nearly equal pieces (the first ones one longer), or at indices."""
    x = _t(x)
    axis = int(axis) % x.ndim
    if isinstance(indices_or_sections, numbers.Integral):
        k = int(indices_or_sections)
        if k <= 0:
            raise ValueError(f"array_split: number of sections must be positive, got {k}")
        n = x.shape[axis]
        base, extra = divmod(n, k)
        sizes = [base + 1] * extra + [base] * (k - extra)
        cuts = numpy.cumsum(sizes)[:-1].tolist()
    else:
        cuts = [int(i) for i in indices_or_sections]
    return _sh.split(x, cuts, axis=axis)


def dsplit(x, indices_or_sections):
    """``x`` split along its third axis."""
    return _sh.split(_t(x), indices_or_sections, axis=2)


def trapezoid(y, x=None, dx=1.0, axis=-1):
    """The integral of ``y`` along ``axis`` by the trapezoidal rule (sample points ``x`` or spacing ``dx``)."""
    y = _float(y)
    axis = int(axis) % y.ndim
    n = y.shape[axis]
    lead = (builtins.slice(None),) * axis
    hi = getitem(y, lead + (builtins.slice(1, n),))
    lo = getitem(y, lead + (builtins.slice(0, n - 1),))
    mid = _ar.multiply(_ar.add(hi, lo), 0.5)
    if x is None:
        return _ar.multiply(_rd.sum(mid, axis=axis), float(dx))
    x = _float(x)
    if x.ndim == 1:
        d = _ar.subtract(x[1:], x[:-1])
        d = _sh.reshape(d, (n - 1,) + (1,) * (y.ndim - axis - 1))
    else:
        d = _ar.subtract(getitem(x, lead + (builtins.slice(1, n),)), getitem(x, lead + (builtins.slice(0, n - 1),)))
    return _rd.sum(_ar.multiply(mid, d), axis=axis)


def correlate(x1, x2, mode="valid"):
    """The cross-correlation of two 1-D tensors, as ``numpy.correlate`` ('valid', 'same' or 'full')."""
    a, v = _float(x1), _float(x2)
    if a.ndim != 1 or v.ndim != 1:
        raise ValueError(f"correlate: expected two 1-D tensors, got shapes {a.shape} and {v.shape}")
    if mode not in ("valid", "same", "full"):
        raise ValueError(f"correlate: mode must be 'valid', 'same' or 'full', got {mode!r}")
    n, m = a.shape[0], v.shape[0]
    if n < m:
        # numpy swaps the operands and reverses the result
        out = correlate(v, a, mode)
        return _sh.flip(out, 0)
    if mode == "valid":
        left = right = 0
    elif mode == "full":
        left = right = m - 1
    else:
        left = m // 2
        right = m - 1 - left
    padded = _sh.pad(a, (left, right)) if left or right else a
    count = padded.shape[0] - m + 1
    idx = numpy.arange(count)[:, None] + numpy.arange(m)[None, :]
    return _ar.matmul(getitem(padded, idx), v)


def corrcoef(x):
    """Pearson correlation coefficients between the rows of ``x`` (variables in rows, observations in columns)."""
    x = _float(x)
    if x.ndim == 1:
        x = _sh.reshape(x, (1, -1))
    centred = _ar.subtract(x, _rd.mean(x, axis=1, keepdims=True))
    cov = _ar.matmul(centred, _sh.transpose(centred))
    d = _el.sqrt(_ar.multiply(_sh.reshape(_from_diag(cov), (-1, 1)), _sh.reshape(_from_diag(cov), (1, -1))))
    out = _ar.clip(_ar.divide(cov, d), -1.0, 1.0)
    return out[0, 0] if out.shape == (1, 1) else out


def _from_diag(m):
    n = m.shape[0]
    return getitem(m, (numpy.arange(n), numpy.arange(n)))


def cdist(x, y):
    """Euclidean distances between the rows of ``x`` (..., n, d) and ``y`` (..., m, d) -> (..., n, m)."""
    x, y = _float(x), _float(y)
    diff = _ar.subtract(_sh.expand_dims(x, -2), _sh.expand_dims(y, -3))
    return _el.sqrt(_rd.sum(_el.square(diff), axis=-1))


def fmax(x1, x2):
    """Elementwise maximum that ignores NaN (NaN only where both are NaN)."""
    a, b = _t(x1), _t(x2)
    a_nan, b_nan = _cmp.isnan(a), _cmp.isnan(b)
    return _ar.where(a_nan, b, _ar.where(b_nan, a, _ar.maximum(a, b)))


def fmin(x1, x2):
    """Elementwise minimum that ignores NaN (NaN only where both are NaN)."""
    a, b = _t(x1), _t(x2)
    a_nan, b_nan = _cmp.isnan(a), _cmp.isnan(b)
    return _ar.where(a_nan, b, _ar.where(b_nan, a, _ar.minimum(a, b)))


def ldexp(x1, x2):
    """``x1 * 2**x2`` (``x2`` integer)."""
    x2 = _t(x2)
    if x2.dtype.kind not in "iub":
        raise TypeError(f"ldexp: the exponent must be an integer tensor, got dtype {x2.dtype}")
    a = _float(x1)
    return _ar.multiply(a, _const(numpy.ldexp(numpy.ones((), dtype=a.dtype), _np(x2)), a.dtype))


def i0(x):
    """The modified Bessel function of the first kind, order 0 (no gradient)."""
    x = _float(x)
    return _const(numpy.i0(_np(x)), x.dtype)


def real(x):
    """The real part: ``x`` itself (Ember tensors are real)."""
    return _t(x)


def imag(x):
    """The imaginary part: zeros shaped like ``x`` (Ember tensors are real)."""
    x = _t(x)
    return zeros_like(x)


def conj(x):
    """The complex conjugate: ``x`` itself (Ember tensors are real)."""
    return _t(x)


conjugate = conj


def angle(x):
    """The complex argument of real ``x``: pi where ``x < 0``, else 0."""
    x = _float(x)
    return _const(numpy.angle(_np(x)), x.dtype)


def isreal(x):
    """True everywhere (Ember tensors are real)."""
    return _const(numpy.ones(_t(x).shape, dtype=bool))


def view(x, dtype=None):
    """``x``'s bytes reinterpreted as ``dtype`` (no gradient)."""
    if dtype is None:
        return _t(x)
    return _const(_np(x).view(numpy.dtype(str(dtype))), str(numpy.dtype(str(dtype))))


def view_as_complex(x):
    raise NotImplementedError(
        "view_as_complex: Ember has no complex tensors; keep (real, imag) pairs, as keras.ops.fft does"
    )


def view_as_real(x):
    raise NotImplementedError(
        "view_as_real: Ember has no complex tensors; keep (real, imag) pairs, as keras.ops.fft does"
    )


# ---- NaN-ignoring reductions ----------------------------------------------------------


def _without_nan(x, fill):
    x = _float(x)
    return _ar.where(_cmp.isnan(x), fill, x), x


def nansum(x, axis=None, keepdims=False):
    """The sum ignoring NaN."""
    v, _ = _without_nan(x, 0.0)
    return _rd.sum(v, axis=axis, keepdims=keepdims)


def nanprod(x, axis=None, keepdims=False):
    """The product ignoring NaN."""
    v, _ = _without_nan(x, 1.0)
    return _rd.prod(v, axis=axis, keepdims=keepdims)


def _nan_count(x, axis, keepdims):
    ok = cast(_cmp.logical_not(_cmp.isnan(x)), x.dtype)
    return _rd.sum(ok, axis=axis, keepdims=keepdims)


def nanmean(x, axis=None, keepdims=False):
    """The mean ignoring NaN (NaN where every value is NaN)."""
    v, x = _without_nan(x, 0.0)
    return _ar.divide(_rd.sum(v, axis=axis, keepdims=keepdims), _nan_count(x, axis, keepdims))


def nanvar(x, axis=None, keepdims=False):
    """The variance ignoring NaN."""
    v, x = _without_nan(x, 0.0)
    mean = nanmean(x, axis=axis, keepdims=True)
    dev = _ar.where(_cmp.isnan(x), 0.0, _ar.subtract(v, mean))
    return _ar.divide(_rd.sum(_el.square(dev), axis=axis, keepdims=keepdims), _nan_count(x, axis, keepdims))


def nanstd(x, axis=None, keepdims=False):
    """The standard deviation ignoring NaN."""
    return _el.sqrt(nanvar(x, axis=axis, keepdims=keepdims))


def nanmax(x, axis=None, keepdims=False):
    """The maximum ignoring NaN (NaN where every value is NaN)."""
    v, x = _without_nan(x, -numpy.inf)
    out = _rd.max(v, axis=axis, keepdims=keepdims)
    return _ar.where(_cmp.equal(_nan_count(x, axis, keepdims), 0), numpy.nan, out)


def nanmin(x, axis=None, keepdims=False):
    """The minimum ignoring NaN (NaN where every value is NaN)."""
    v, x = _without_nan(x, numpy.inf)
    out = _rd.min(v, axis=axis, keepdims=keepdims)
    return _ar.where(_cmp.equal(_nan_count(x, axis, keepdims), 0), numpy.nan, out)


def nanargmax(x, axis=None, keepdims=False):
    """The index of the maximum ignoring NaN (int32)."""
    v, _ = _without_nan(x, -numpy.inf)
    return cast(_rd.argmax(v, axis=axis, keepdims=keepdims), "int32")


def nanargmin(x, axis=None, keepdims=False):
    """The index of the minimum ignoring NaN (int32)."""
    v, _ = _without_nan(x, numpy.inf)
    return cast(_rd.argmin(v, axis=axis, keepdims=keepdims), "int32")


def nancumsum(x, axis=None, dtype=None):
    """The cumulative sum with NaN counted as 0."""
    v, _ = _without_nan(x, 0.0)
    out = _rd.cumsum(v, axis=axis)
    return cast(out, dtype) if dtype is not None else out


def nancumprod(x, axis=None, dtype=None):
    """The cumulative product with NaN counted as 1."""
    v, _ = _without_nan(x, 1.0)
    out = _rd.cumprod(v, axis=axis)
    return cast(out, dtype) if dtype is not None else out


def _nan_statistic(name, fn, x, axis, keepdims, **kwargs):
    x = _float(x)
    return _const(fn(_np(x), axis=axis, keepdims=keepdims, **kwargs), x.dtype)


def nanmedian(x, axis=None, keepdims=False):
    """The median ignoring NaN (no gradient)."""
    return _nan_statistic("nanmedian", numpy.nanmedian, x, axis, keepdims)


def nanquantile(x, q, axis=None, method="linear", keepdims=False):
    """The ``q``-th quantiles ignoring NaN (no gradient)."""
    return _nan_statistic("nanquantile", numpy.nanquantile, x, axis, keepdims, q=_np(q), method=method)


def nanpercentile(x, q, axis=None, method="linear", keepdims=False):
    """The ``q``-th percentiles ignoring NaN (no gradient)."""
    return _nan_statistic("nanpercentile", numpy.nanpercentile, x, axis, keepdims, q=_np(q), method=method)


# ---- integer, bitwise and set-valued functions (no gradient) --------------------------------


def argpartition(x, kth, axis=-1):
    """Indices that partition ``x`` around its ``kth`` element along ``axis`` (int32)."""
    return _const(numpy.argpartition(_np(x), kth, axis=axis))


def bincount(x, weights=None, minlength=0, sparse=False):
    """Counts of each non-negative integer in ``x`` (weighted sums with ``weights``); 2-D ``x`` counts per row."""
    if sparse:
        raise ValueError("bincount: Ember has no sparse tensors; use sparse=False")
    v = _np(x)
    if v.dtype.kind not in "iu":
        raise TypeError(f"bincount: x must hold integers, got dtype {v.dtype}")
    w = None if weights is None else _np(weights)
    length = builtins.max(int(minlength), int(v.max()) + 1 if v.size else 0)
    if v.ndim == 1:
        out = numpy.bincount(v, weights=w, minlength=length)
    elif v.ndim == 2:
        out = numpy.stack(
            [numpy.bincount(r, weights=None if w is None else w[i], minlength=length) for i, r in enumerate(v)]
        )
    else:
        raise ValueError(f"bincount: x must be 1-D or 2-D, got shape {v.shape}")
    return _const(out, None if w is None else w.dtype)


def digitize(x, bins):
    """The index of the bin of each value of ``x`` (``bins`` increasing), as ``numpy.digitize`` (int32)."""
    return _const(numpy.digitize(_np(x), _np(bins)))


def searchsorted(sorted_sequence, values, side="left"):
    """Insertion indices of ``values`` into the 1-D ``sorted_sequence`` keeping it sorted (int32)."""
    if side not in ("left", "right"):
        raise ValueError(f"searchsorted: side must be 'left' or 'right', got {side!r}")
    seq = _np(sorted_sequence)
    if seq.ndim != 1:
        raise ValueError(f"searchsorted: sorted_sequence must be 1-D, got shape {seq.shape}")
    return _const(numpy.searchsorted(seq, _np(values), side=side))


def histogram(x, bins=10, range=None):  # noqa: A002 - NumPy's argument name
    """Counts of ``x`` in ``bins`` equal bins and the bin edges (both float, as Keras returns them)."""
    counts, edges = numpy.histogram(_np(x), bins=bins, range=range)
    v = _t(x)
    dt = v.dtype if v.dtype.kind == "f" else floatx()
    return _const(counts, dt), _const(edges, dt)


def isin(x1, x2, assume_unique=False, invert=False):
    """Whether each element of ``x1`` is in ``x2`` (bool)."""
    return _const(numpy.isin(_np(x1), _np(x2), assume_unique=assume_unique, invert=invert))


def nonzero(x):
    """The indices of the non-zero elements of ``x``: one int32 tensor per axis."""
    return tuple(_const(i) for i in numpy.nonzero(_np(x)))


def unique(
    x,
    sorted=True,  # noqa: A002 - Keras's argument name
    return_index=False,
    return_inverse=False,
    return_counts=False,
    axis=None,
    size=None,
    fill_value=None,
):
    """The sorted distinct values of ``x`` (and, as asked, first indices, inverse indices, counts).

    ``size`` pads (with ``fill_value``, default the smallest value) or cuts the result to a fixed length.
    """
    v = _np(x)
    res = numpy.unique(
        v, return_index=return_index, return_inverse=return_inverse, return_counts=return_counts, axis=axis
    )
    res = list(res) if isinstance(res, tuple) else [res]
    values = res[0]
    if size is not None:
        size = int(size)
        fill = values.min() if fill_value is None and values.size else (fill_value or 0)
        if values.shape[0] >= size:
            values = values[:size]
        else:
            pad = numpy.full((size - values.shape[0],) + values.shape[1:], fill, dtype=values.dtype)
            values = numpy.concatenate([values, pad])
    out = [_const(values, v.dtype)]
    k = 1
    for flag in (return_index, return_inverse, return_counts):
        if flag:
            extra = res[k]
            if size is not None and extra.ndim == 1 and flag is not return_inverse:
                extra = numpy.concatenate([extra, numpy.zeros(builtins.max(0, size - extra.shape[0]), extra.dtype)])[
                    :size
                ]
            out.append(_const(extra))
            k += 1
    return out[0] if len(out) == 1 else tuple(out)


def unravel_index(indices, shape):
    """The coordinates of flat ``indices`` in an array of ``shape``: one int32 tensor per axis."""
    return tuple(_const(i) for i in numpy.unravel_index(_np(indices), tuple(int(n) for n in shape)))


def _int_op(name, fn, names=("x1", "x2")):
    first, second = names

    def op(*args, **kwargs):
        try:
            bound = _bind(args, kwargs, names)
        except TypeError as err:
            raise TypeError(f"{name}: {err}") from None
        a, b = _np(bound[first]), _np(bound[second])
        for arg, v in ((first, a), (second, b)):
            if v.dtype.kind not in "iub":
                raise TypeError(f"{name}: {arg} must be an integer or bool tensor, got dtype {v.dtype}")
        return _const(fn(a, b), numpy.result_type(a, b))

    op.__name__ = name
    op.__doc__ = f"Elementwise ``numpy.{fn.__name__}`` of two integer tensors ``{first}``, ``{second}`` (no gradient)."
    op.__signature__ = inspect.Signature([inspect.Parameter(n, inspect.Parameter.POSITIONAL_OR_KEYWORD) for n in names])
    return op


def _bind(args, kwargs, names):
    if len(args) + len(kwargs) != len(names):
        raise TypeError(f"expected the arguments {names}, got {len(args)} positional and {sorted(kwargs)}")
    bound = dict(zip(names, args))
    for k, v in kwargs.items():
        if k not in names or k in bound:
            raise TypeError(f"unexpected or repeated argument {k!r} (the arguments are {names})")
        bound[k] = v
    return bound


gcd = _int_op("gcd", numpy.gcd)
lcm = _int_op("lcm", numpy.lcm)
_XY = ("x", "y")  # Keras names the bitwise operands x and y
bitwise_and = _int_op("bitwise_and", numpy.bitwise_and, _XY)
bitwise_or = _int_op("bitwise_or", numpy.bitwise_or, _XY)
bitwise_xor = _int_op("bitwise_xor", numpy.bitwise_xor, _XY)
bitwise_left_shift = _int_op("bitwise_left_shift", numpy.left_shift, _XY)
bitwise_right_shift = _int_op("bitwise_right_shift", numpy.right_shift, _XY)
left_shift = _int_op("left_shift", numpy.left_shift, _XY)
right_shift = _int_op("right_shift", numpy.right_shift, _XY)


def bitwise_invert(x):
    """Elementwise bitwise NOT of an integer or bool tensor."""
    v = _np(x)
    if v.dtype.kind not in "iub":
        raise TypeError(f"bitwise_invert: x must be an integer or bool tensor, got dtype {v.dtype}")
    return _const(numpy.invert(v), v.dtype)


bitwise_not = bitwise_invert


def nextafter(x1, x2):
    """The next float after ``x1`` towards ``x2`` (no gradient)."""
    a = _float(x1)
    return _const(numpy.nextafter(_np(a), _np(x2).astype(a.dtype)), a.dtype)


# ---- einops-style rearrange --------------------------------------------------------------


def _parse_side(side: str):
    """``"b (h w) c"`` -> [["b"], ["h", "w"], ["c"]]."""
    groups, current, depth = [], None, 0
    for token in side.replace("(", " ( ").replace(")", " ) ").split():
        if token == "(":
            if depth:
                raise ValueError(f"rearrange: nested parentheses in {side!r}")
            depth, current = 1, []
        elif token == ")":
            if not depth:
                raise ValueError(f"rearrange: unbalanced parentheses in {side!r}")
            groups.append(current)
            depth, current = 0, None
        elif depth:
            current.append(token)
        else:
            groups.append([token])
    if depth:
        raise ValueError(f"rearrange: unbalanced parentheses in {side!r}")
    return groups


def rearrange(tensor, pattern, **axes_lengths):
    """Reshape and transpose by an einops pattern such as ``"b h w c -> b (h w) c"`` or ``"b (h w) -> b h w"``."""
    x = _t(tensor)
    if "->" not in pattern:
        raise ValueError(f"rearrange: pattern must contain '->', got {pattern!r}")
    left, right = (_parse_side(s) for s in pattern.split("->"))
    if len(left) != x.ndim:
        raise ValueError(f"rearrange: pattern {pattern!r} names {len(left)} axes, the input has shape {x.shape}")
    sizes = dict((k, int(v)) for k, v in axes_lengths.items())
    for group, n in zip(left, x.shape):
        unknown = [a for a in group if a not in sizes]
        known = math.prod(sizes[a] for a in group if a in sizes)
        if len(unknown) > 1:
            raise ValueError(f"rearrange: cannot infer the sizes of {unknown} in {pattern!r}; pass them as keywords")
        if unknown:
            if known == 0 or n % known:
                raise ValueError(f"rearrange: axis of size {n} cannot be split as {group} in {pattern!r}")
            sizes[unknown[0]] = n // known
        elif known != n:
            raise ValueError(f"rearrange: axis of size {n} does not match {group} = {known} in {pattern!r}")
    flat_left = [a for g in left for a in g]
    flat_right = [a for g in right for a in g]
    if sorted(flat_left) != sorted(flat_right):
        raise ValueError(f"rearrange: both sides of {pattern!r} must name the same axes")
    x = _sh.reshape(x, tuple(sizes[a] for a in flat_left))
    x = _sh.transpose(x, [flat_left.index(a) for a in flat_right])
    return _sh.reshape(x, tuple(math.prod(sizes[a] for a in g) for g in right))


# ---- creation with Keras's signatures (engine.creation is imported late: it imports this package) ----


def ones(shape, dtype=None, device=None, requires_grad=False):
    """A tensor of ``shape`` filled with 1 (floatx unless ``dtype`` is given)."""
    from ..engine import creation

    return creation.ones(shape, dtype=dtype, device=device, requires_grad=requires_grad)


def ones_like(x, dtype=None, device=None, requires_grad=False):
    """Ones shaped like ``x`` (its dtype unless ``dtype`` is given)."""
    from ..engine import creation

    return creation.ones_like(_t(x), dtype=dtype, device=device, requires_grad=requires_grad)


def full(shape, fill_value, dtype=None, device=None, requires_grad=False):
    """A tensor of ``shape`` filled with ``fill_value`` (floatx unless ``dtype`` is given)."""
    from ..engine import creation

    return creation.full(shape, _np(fill_value), dtype=dtype, device=device, requires_grad=requires_grad)


def full_like(x, fill_value, dtype=None, device=None, requires_grad=False):
    """``fill_value`` shaped like ``x`` (its dtype unless ``dtype`` is given)."""
    from ..engine import creation

    return creation.full_like(_t(x), _np(fill_value), dtype=dtype, device=device, requires_grad=requires_grad)


def eye(N, M=None, k=0, dtype=None, device=None, requires_grad=False):  # noqa: N803 - NumPy's names
    """A 2-D ``(N, M)`` tensor with ones on diagonal ``k``."""
    from ..engine import creation

    return creation.eye(
        int(N), None if M is None else int(M), int(k), dtype=dtype, device=device, requires_grad=requires_grad
    )


def arange(start, stop=None, step=None, dtype=None, device=None, requires_grad=False):
    """Evenly spaced values in ``[start, stop)`` (integers give int64 as in NumPy; floats give floatx)."""
    from ..engine import creation

    return creation.arange(
        start, stop, 1 if step is None else step, dtype=dtype, device=device, requires_grad=requires_grad
    )


def zeros(shape, dtype=None, device=None, requires_grad=False):
    """A tensor of ``shape`` filled with 0 (floatx unless ``dtype`` is given)."""
    from ..engine import creation

    return creation.zeros(shape, dtype=dtype, device=device, requires_grad=requires_grad)


def zeros_like(x, dtype=None, device=None, requires_grad=False):
    """Zeros shaped like ``x`` (its dtype unless ``dtype`` is given)."""
    from ..engine import creation

    return creation.zeros_like(_t(x), dtype=dtype, device=device, requires_grad=requires_grad)
