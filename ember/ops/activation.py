"""Activations, named and defaulted as ``keras.activations``: relu family, sigmoid family, gelu, softmax, ...

Every activation is one :class:`~ember.engine.function.Function` (forward and
backward together) that keeps the input's shape and dtype. The piecewise ones
follow PyTorch's choice of gradient at the kinks (``relu`` passes 0 at x = 0,
``relu6`` passes 0 at x = 0 and x = 6, ...). ``softmax`` and ``log_softmax``
work over any axis or axes, subtracting the maximum first so large inputs do
not overflow.

``gelu(x, approximate=False)`` needs the normal CDF, Phi(x) = erfc(-x / sqrt 2) / 2,
and NumPy has no erf. :func:`_erfc_nonneg` computes erfc for y >= 0:

* float64: W. J. Cody's rational Chebyshev approximations ("Rational
  Chebyshev approximations for the error function", Math. Comp. 23, 1969);
  the result is within a few ulps of ``math.erf`` / ``math.erfc`` (the tests
  check 1e-15 relative for erf on [-8, 8]).
* float32 (and float16, computed in float32): one formula for every y, the
  Chebyshev fit erfc(y) = t exp(-y^2 + P(t)), t = 1 / (1 + y/2), from
  Numerical Recipes (relative error below 1.2e-7 in exact arithmetic, a few
  float32 ulps for y < 4 in practice); no masks or gathers, so it stays fast.

On CuPy the library's own ``erfc`` is used.
"""

from __future__ import annotations

import functools
import math

import numpy

from ..engine.function import Function
from . import activation_kernels
from ._checks import normalize_axes
from .elementwise import exp

__all__ = [
    "relu",
    "relu6",
    "leaky_relu",
    "elu",
    "selu",
    "gelu",
    "sigmoid",
    "hard_sigmoid",
    "hard_silu",
    "hard_swish",
    "tanh",
    "softplus",
    "softsign",
    "silu",
    "swish",
    "mish",
    "exponential",
    "linear",
    "softmax",
    "log_softmax",
    "log_sigmoid",
]

_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946
_SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)
_INV_SQRT_2 = 1.0 / math.sqrt(2.0)
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)
_GELU_CUBIC = 0.044715


# ---- helpers on raw arrays --------------------------------------------------------------------------------------


def _relu(xp, x, out=None):
    """max(x, 0): the plain relu's inference forward (``out``: an array to write into, x itself allowed)."""
    return xp.maximum(x, 0, out=out)


def _leaky_inference(xp, slope, x, out=None):
    """where(x > 0, x, x * slope) with nothing kept for a backward (``out``: an array to write into, x allowed)."""
    if activation_kernels.applies(x):
        if out is None:
            return activation_kernels.leaky_forward(x, slope, mask=False)[0]
        if out.shape == x.shape and out.dtype == x.dtype and activation_kernels.leaky_inference_into(x, slope, out):
            return out
    pos = x > 0
    if xp is numpy and type(x) is numpy.ndarray and x.ndim and x.dtype.kind == "f":
        if out is None:
            out = x * slope
            numpy.copyto(out, x, where=pos)
            return out
        numpy.multiply(x, slope, out=out, where=~pos)  # x * slope where x <= 0; x's own values elsewhere
        if out is not x:
            numpy.copyto(out, x, where=pos)
        return out
    y = xp.where(pos, x, x * slope)
    if out is None:
        return y
    out[...] = y
    return out


def _sigmoid(xp, x):
    """1 / (1 + exp(-x)) without overflow: exp is only taken of -|x|."""
    # a backward recorded for create_graph: the op itself (NumPy first: its module getattr of a missing name is slow)
    if xp is not numpy and getattr(xp, "graph", False):
        return sigmoid(x)
    e = xp.asarray(xp.abs(x))  # asarray: NumPy turns 0-d results into scalars, which out= refuses
    xp.negative(e, out=e)
    xp.exp(e, out=e)  # e = exp(-|x|) in (0, 1]
    r = xp.asarray(1 + e)
    xp.reciprocal(r, out=r)  # 1 / (1 + exp(-|x|)) = sigmoid(|x|)
    e *= r  # sigmoid(-|x|)
    return xp.where(x >= 0, r, e)


def _sigmoid_host(x):
    """:func:`_sigmoid` on a NumPy array of at least one dimension: the same steps and bits in fewer calls (no
    ``asarray``; the 1 and the 0 as 0-d arrays of the dtype, the values NumPy makes of the Python numbers).
    W4's last layer: 3.7 -> ~2.9 us a call."""
    e = _np_abs(x)
    _np_negative(e, out=e)
    _np_exp(e, out=e)  # e = exp(-|x|) in (0, 1]
    one = _ONES.get(e.dtype)
    r = _np_add(e, one) if one is not None else 1 + e
    _np_reciprocal(r, out=r)  # sigmoid(|x|)
    _np_multiply(e, r, out=e)  # sigmoid(-|x|)
    return _np_where(_np_greater_equal(x, _ZEROS.get(x.dtype, 0)), r, e)


_np_abs, _np_negative, _np_exp, _np_add = numpy.abs, numpy.negative, numpy.exp, numpy.add
_np_reciprocal, _np_multiply, _np_where, _np_greater_equal = (
    numpy.reciprocal,
    numpy.multiply,
    numpy.where,
    numpy.greater_equal,
)
_FLOATS = (numpy.float16, numpy.float32, numpy.float64)
_ONES = {numpy.dtype(t): numpy.ones((), t) for t in _FLOATS}  # (read only)
_ZEROS = {numpy.dtype(t): numpy.zeros((), t) for t in _FLOATS}  # (read only)


def _sigmoid_lean(x):
    """Sigmoid's lean form on NumPy arrays."""
    return _sigmoid_host(x) if x.ndim else _sigmoid(numpy, x)


def _softplus(xp, x):
    """log(1 + exp(x)) = max(x, 0) + log1p(exp(-|x|)), exact for large |x|."""
    if xp is not numpy and getattr(xp, "graph", False):  # a backward recorded for create_graph: the op itself
        return softplus(x)
    e = xp.asarray(xp.abs(x))
    xp.negative(e, out=e)
    xp.exp(e, out=e)
    xp.log1p(e, out=e)
    return xp.maximum(x, 0) + e


# Cody's coefficients: erf on |x| <= 0.46875 (A/B), erfc * exp(x^2) on (0.46875, 4] (C/D) and on (4, inf) (P/Q).
_ERF_A = (3.16112374387056560e00, 1.13864154151050156e02, 3.77485237685302021e02, 3.20937758913846947e03)
_ERF_A4 = 1.85777706184603153e-1
_ERF_B = (2.36012909523441209e01, 2.44024637934444173e02, 1.28261652607737228e03, 2.84423683343917062e03)
_ERF_C = (
    5.64188496988670089e-1,
    8.88314979438837594e00,
    6.61191906371416295e01,
    2.98635138197400131e02,
    8.81952221241769090e02,
    1.71204761263407058e03,
    2.05107837782607147e03,
    1.23033935479799725e03,
)
_ERF_C8 = 2.15311535474403846e-8
_ERF_D = (
    1.57449261107098347e01,
    1.17693950891312499e02,
    5.37181101862009858e02,
    1.62138957456669019e03,
    3.29079923573345963e03,
    4.36261909014324716e03,
    3.43936767414372164e03,
    1.23033935480374942e03,
)
_ERF_P = (
    3.05326634961232344e-1,
    3.60344899949804439e-1,
    1.25781726111229246e-1,
    1.60837851487422766e-2,
    6.58749161529837803e-4,
)
_ERF_P5 = 1.63153871373020978e-2
_ERF_Q = (
    2.56852019228982242e00,
    1.87295284992346047e00,
    5.27905102951428412e-1,
    6.05183413124413191e-2,
    2.33520497626869185e-3,
)
_INV_SQRT_PI = 5.6418958354775628695e-1


def _rational(z, lead_num, num, den):
    """(lead_num z^n + num[0] z^(n-1) + ... + num[-1]) / (z^n + den[0] z^(n-1) + ... + den[-1]), by Horner."""
    top = lead_num * z
    bottom = z.copy()
    for a, b in zip(num[:-1], den[:-1]):
        top += a
        top *= z
        bottom += b
        bottom *= z
    top += num[-1]
    bottom += den[-1]
    top /= bottom
    return top


def _exp_neg_square(xp, y):
    """exp(-y*y) with y*y split as Cody does, so the rounding of y*y is not magnified by exp."""
    y = xp.minimum(y, 30.0)  # exp(-900) is 0 in every float dtype; keeps inf - inf out of the split
    head = xp.trunc(y * 16) / 16
    tail = (y - head) * (y + head)
    return xp.exp(-head * head) * xp.exp(-tail)


# Numerical Recipes' erfcc: erfc(y) = t exp(-y^2 + sum_k c_k t^k), t = 1 / (1 + y / 2), y >= 0
_ERFC_NR = (
    -1.26551223,
    1.00002368,
    0.37409196,
    0.09678418,
    -0.18628806,
    0.27886807,
    -1.13520398,
    1.48851587,
    -0.82215223,
    0.17087277,
)


def _erfc_nonneg(xp, y):
    """erfc(y) for an array of y >= 0 (NaN passes through); see the module docstring for the accuracy."""
    if getattr(xp, "__name__", "") == "cupy":
        from cupyx.scipy.special import erfc

        return erfc(y)
    if y.dtype.itemsize >= 8:
        return _cody_erfc(xp, y)
    y32 = y.astype(xp.float32, copy=False)
    t = 1 / (1 + 0.5 * y32)
    poly = xp.full_like(t, _ERFC_NR[-1])
    for c in _ERFC_NR[-2::-1]:
        poly *= t
        poly += c
    poly -= y32 * y32
    xp.exp(poly, out=poly)
    poly *= t
    return poly.astype(y.dtype, copy=False)


def _cody_erfc(xp, y):
    """erfc(y), y >= 0, float64, by Cody's three rational approximations (evaluated on masks)."""
    out = xp.empty_like(y)
    small = y <= 0.46875
    mid = (y > 0.46875) & (y <= 4)
    big = ~(small | mid)  # also NaN, which propagates through this branch
    if small.any():
        ys = y[small]
        out[small] = 1 - ys * _rational(ys * ys, _ERF_A4, _ERF_A, _ERF_B)
    for mask, tail in ((mid, False), (big, True)):
        if not mask.any():
            continue
        ym = y[mask]
        if tail:
            z = 1 / (ym * ym)
            r = (_INV_SQRT_PI - z * _rational(z, _ERF_P5, _ERF_P, _ERF_Q)) / ym
        else:
            r = _rational(ym, _ERF_C8, _ERF_C, _ERF_D)
        out[mask] = r * _exp_neg_square(xp, ym)
    return out


def _erf(xp, x):
    """The error function of a float array: sign(x) (1 - erfc(|x|)), with Cody's direct form near 0 in float64."""
    y = xp.abs(x)
    out = 1 - _erfc_nonneg(xp, y)
    out = xp.where(x < 0, -out, out)
    if x.dtype.itemsize >= 8 and getattr(xp, "__name__", "") != "cupy":
        small = y <= 0.46875  # here erf itself is the rational: keeps full relative accuracy for tiny x
        xs = x[small]
        out[small] = xs * _rational(xs * xs, _ERF_A4, _ERF_A, _ERF_B)
    return out


# ---- the relu family ------------------------------------------------------------------------------------------------


class ReLU(Function):
    """Keras's general relu: ``clip(x if x > threshold else 0, 0, max_value) - negative_slope * relu(threshold - x)``.

    With the defaults it is max(x, 0). Shapes: x (...) -> y (...). The gradient
    is the derivative of that composition, taken as PyTorch takes it at the
    kinks (relu: 0 at x = 0; relu6 when max_value == 6 and threshold == 0: 0 at
    0 and 6; clip: 1 at its bounds).
    """

    name = "relu"
    graph_saved = {}

    def forward(self, x, negative_slope=0.0, max_value=None, threshold=0.0):
        xp = self.xp
        plain = threshold == 0 and max_value is None and negative_slope == 0
        if plain and not any(self.needs_input_grad):
            return _relu(xp, x)  # inference: no mask to keep, one pass
        if plain and activation_kernels.applies(x):  # the output and the mask in one pass
            y, self.slope = activation_kernels.relu_forward(x)
            return y
        if threshold != 0:
            pos = x > threshold
            y = xp.where(pos, x, 0)
        else:
            pos = x > 0
            y = xp.maximum(x, 0)
        if max_value is not None:
            y = xp.clip(y, 0, max_value)
            if threshold == 0 and max_value == 6:
                pos = pos & (x < 6)
            else:
                # clip passes the gradient where 0 <= value <= max_value
                pos = pos & (x >= 0) & (x <= max_value) if threshold != 0 else pos & (x <= max_value)
        if negative_slope != 0:
            y = y - negative_slope * xp.maximum(threshold - x, 0)
        if any(self.needs_input_grad):
            self.slope = pos  # multiplying by a bool mask is as fast as by floats, and smaller
            if negative_slope != 0:
                self.slope = pos.astype(x.dtype)
                self.slope += negative_slope * (x < threshold)
        return y

    # the lean form (ember.compile.forward_plan): the plain relu, max(x, 0); out= may be x's buffer
    lean_in_place = True

    @staticmethod
    def lean(xp, attrs):
        """The inference forward on arrays, ``f(x, out=None)``, for the plain relu (the defaults); else None."""
        get = attrs.get
        plain = get("threshold", 0) == 0 and get("max_value") is None and get("negative_slope", 0) == 0
        return functools.partial(_relu, xp) if plain else None

    def backward(self, g):
        slope = self.slope
        if slope.dtype == bool and type(g) is numpy.ndarray:  # the plain relu's mask: g * pos in one pass
            out = activation_kernels.masked_backward(g, slope, 0)
            if out is not None:
                return out
        return g * slope


class LeakyReLU(Function):
    """y = x where x > 0, else negative_slope * x. Shapes: x (...) -> y (...).

    Saves the mask ``x > 0`` (not the output, so the output may be written in place afterwards). On big NumPy
    arrays with numba, forward and backward are one pass each (:mod:`.activation_kernels`); otherwise NumPy, with
    the slope's product computed into the output (no ``where`` temporary). Both give the same bits.
    """

    name = "leaky_relu"
    graph_saved = {}

    def forward(self, x, negative_slope=0.2):
        self.negative_slope = negative_slope
        if activation_kernels.applies(x):  # without a gradient to come, the output alone
            y, self.pos = activation_kernels.leaky_forward(x, negative_slope, mask=any(self.needs_input_grad))
            return y
        self.pos = pos = x > 0
        y = x * negative_slope
        if type(y) is not numpy.ndarray or y.dtype != x.dtype or y.shape != x.shape:
            return self.xp.where(pos, x, y)  # CuPy, the strict device, 0-d (NumPy scalars), other dtypes
        numpy.copyto(y, x, where=pos)
        return y

    # the lean form (ember.compile.forward_plan): the inference forward; out= may be x's buffer
    lean_in_place = True

    @staticmethod
    def lean(xp, attrs):
        """The inference forward on arrays, ``f(x, out=None)``."""
        return functools.partial(_leaky_inference, xp, attrs.get("negative_slope", 0.2))

    def backward(self, g):
        if type(g) is numpy.ndarray:
            out = activation_kernels.masked_backward(g, self.pos, self.negative_slope)
            if out is not None:
                return out
            out = g * self.negative_slope
            if type(out) is numpy.ndarray and out.shape == self.pos.shape and out.dtype == g.dtype:
                numpy.copyto(out, g, where=self.pos)
                return out
        return self.xp.where(self.pos, g, g * self.negative_slope)


class ReLU6(Function):
    """y = min(max(x, 0), 6); the gradient is 1 on 0 < x < 6 only (as PyTorch's relu6)."""

    name = "relu6"
    graph_saved = {}

    def forward(self, x):
        self.inside = (x > 0) & (x < 6)
        return self.xp.clip(x, 0, 6)

    def backward(self, g):
        return g * self.inside


class ELU(Function):
    """y = x where x > 0, else alpha * (exp(x) - 1); times ``scale`` (1 for elu, SELU's constant for selu)."""

    name = "elu"
    graph_saved = {"y": ("out", 0)}

    def forward(self, x, alpha=1.0, scale=1.0):
        xp = self.xp
        self.pos = x > 0
        neg = xp.expm1(xp.minimum(x, 0))  # exp only of non-positive values: no overflow
        neg *= alpha
        self.neg = neg  # alpha * (exp(x) - 1), whose derivative is neg + alpha
        self.alpha, self.scale = alpha, scale
        y = xp.where(self.pos, x, neg)
        if scale != 1.0:
            y *= scale
        self.y = y
        return y

    def graph_derive(self):
        # below 0, y = scale * neg: neg as a tensor of the graph, for the second derivative
        self.neg = self.y / self.scale

    def backward(self, g):
        d = self.xp.where(self.pos, 1, self.neg + self.alpha).astype(g.dtype, copy=False)
        if self.scale != 1.0:
            d *= self.scale
        return g * d


# ---- smooth activations -----------------------------------------------------------------------------------------


class GELU(Function):
    """y = x * Phi(x), Phi the standard normal CDF (``approximate=False``), or Hendrycks's tanh form.

    Exact: y = 0.5 x (1 + erf(x / sqrt 2)); dy/dx = Phi(x) + x phi(x).
    Tanh: y = 0.5 x (1 + tanh(u)), u = sqrt(2/pi) (x + 0.044715 x^3);
    dy/dx = 0.5 (1 + t) + 0.5 x (1 - t^2) sqrt(2/pi) (1 + 3 * 0.044715 x^2).
    Shapes: x (...) -> y (...).
    """

    name = "gelu"
    graph_saved = {"x": 0}

    def forward(self, x, approximate=False):
        xp = self.xp
        self.x, self.approximate = x, approximate
        if approximate:
            t = xp.tanh(_SQRT_2_OVER_PI * (x + _GELU_CUBIC * x * x * x))
            self.t = t
            return 0.5 * x * (1 + t)
        # Phi(x) = erfc(-x / sqrt 2) / 2: from erfc(|x| / sqrt 2), accurate in both tails
        half_tail = _erfc_nonneg(xp, xp.abs(x) * _INV_SQRT_2)
        half_tail *= 0.5
        cdf = xp.where(x >= 0, 1 - half_tail, half_tail)
        self.cdf = cdf
        return x * cdf

    def graph_derive(self):
        x = self.x
        if self.approximate:
            self.t = tanh(_SQRT_2_OVER_PI * (x + _GELU_CUBIC * x * x * x))
        else:
            self.cdf = _NormalCdf.apply(x)

    def backward(self, g):
        xp, x = self.xp, self.x
        if self.approximate:
            t = self.t
            x2 = x * x
            d = 0.5 * (1 + t) + 0.5 * x * (1 - t * t) * _SQRT_2_OVER_PI * (1 + 3 * _GELU_CUBIC * x2)
        else:
            d = self.cdf + x * xp.exp(-0.5 * x * x) * _INV_SQRT_2PI
        return g * d


class _NormalCdf(Function):
    """y = Phi(x), the standard normal CDF; dy/dx = phi(x). gelu's backward uses it under create_graph."""

    name = "normal_cdf"
    graph_saved = {"x": 0}

    def forward(self, x):
        self.x = x
        half_tail = _erfc_nonneg(self.xp, self.xp.abs(x) * _INV_SQRT_2)
        half_tail *= 0.5
        return self.xp.where(x >= 0, 1 - half_tail, half_tail)

    def backward(self, g):
        x = self.x
        return g * self.xp.exp(-0.5 * x * x) * _INV_SQRT_2PI


class Sigmoid(Function):
    """y = 1 / (1 + exp(-x)), stable for large |x|; dy/dx = y (1 - y). Shapes: x (...) -> y (...)."""

    name = "sigmoid"
    graph_saved = {"y": ("out", 0)}

    def forward(self, x):
        self.y = _sigmoid_host(x) if type(x) is numpy.ndarray and x.ndim else _sigmoid(self.xp, x)
        return self.y

    def backward(self, g):
        return g * self.y * (1 - self.y)

    @staticmethod
    def lean(xp, attrs):
        """The inference forward on arrays (ember.compile.forward_plan): ``f(x)``, what ``forward`` computes."""
        return _sigmoid_lean if xp is numpy else functools.partial(_sigmoid, xp)


class Tanh(Function):
    """y = tanh(x); dy/dx = 1 - y^2. Shapes: x (...) -> y (...)."""

    name = "tanh"
    graph_saved = {"y": ("out", 0)}

    def forward(self, x):
        self.y = self.xp.tanh(x)
        return self.y

    def backward(self, g):
        return g * (1 - self.y * self.y)


class Softplus(Function):
    """y = log(1 + exp(x)), computed without overflow; dy/dx = sigmoid(x)."""

    name = "softplus"
    graph_saved = {"x": 0}

    def forward(self, x):
        self.x = x
        return _softplus(self.xp, x)

    def backward(self, g):
        return g * _sigmoid(self.xp, self.x)


class LogSigmoid(Function):
    """y = log(sigmoid(x)) = -softplus(-x), stable; dy/dx = sigmoid(-x)."""

    name = "log_sigmoid"
    graph_saved = {"x": 0}

    def forward(self, x):
        self.x = x
        return -_softplus(self.xp, -x)

    def backward(self, g):
        return g * _sigmoid(self.xp, -self.x)


class Softsign(Function):
    """y = x / (1 + |x|); dy/dx = 1 / (1 + |x|)^2."""

    name = "softsign"
    graph_saved = {"x": 0}

    def forward(self, x):
        self.x = x  # for create_graph, which rebuilds den as a tensor
        self.den = 1 + self.xp.abs(x)
        return x / self.den

    def backward(self, g):
        return g / (self.den * self.den)

    def graph_derive(self):
        self.den = 1 + self.xp.abs(self.x)


class Silu(Function):
    """y = x * sigmoid(x) (swish); dy/dx = s (1 + x (1 - s)) with s = sigmoid(x)."""

    name = "silu"
    graph_saved = {"x": 0}

    def forward(self, x):
        self.x = x
        self.s = _sigmoid(self.xp, x)
        return x * self.s

    def graph_derive(self):
        self.s = sigmoid(self.x)

    def backward(self, g):
        s = self.s
        return g * (s * (1 + self.x * (1 - s)))


class Mish(Function):
    """y = x * tanh(softplus(x)); dy/dx = tanh(sp) + x (1 - tanh(sp)^2) sigmoid(x)."""

    name = "mish"
    graph_saved = {"x": 0}

    def forward(self, x):
        xp = self.xp
        self.x = x
        self.t = xp.tanh(_softplus(xp, x))
        return x * self.t

    def graph_derive(self):
        self.t = tanh(softplus(self.x))

    def backward(self, g):
        t = self.t
        return g * (t + self.x * (1 - t * t) * _sigmoid(self.xp, self.x))


class HardSigmoid(Function):
    """Keras 3's hard sigmoid: y = clip(x / 6 + 0.5, 0, 1) (= relu6(x + 3) / 6); slope 1/6 on -3 < x < 3."""

    name = "hard_sigmoid"
    graph_saved = {}

    def forward(self, x):
        self.inside = (x > -3) & (x < 3)
        return self.xp.clip(x / 6 + 0.5, 0, 1)

    def backward(self, g):
        return g * self.inside / 6


class HardSilu(Function):
    """y = x * hard_sigmoid(x): 0 for x <= -3, x for x >= 3, x (x + 3) / 6 between.

    dy/dx = 0 for x <= -3, x / 3 + 0.5 for -3 < x < 3, 1 for x >= 3 (PyTorch's hardswish).
    """

    name = "hard_silu"
    graph_saved = {"x": 0}

    def forward(self, x):
        self.x = x
        return x * self.xp.clip(x / 6 + 0.5, 0, 1)

    def backward(self, g):
        xp, x = self.xp, self.x
        d = xp.where(x <= -3, 0, xp.where(x < 3, x / 3 + 0.5, 1)).astype(g.dtype, copy=False)
        return g * d


# ---- softmax over axes --------------------------------------------------------------------------------------------


def _max_keepdims(x, axes):
    """``numpy.maximum.reduce(x, axes, keepdims=True)`` for a NumPy array, the same numbers.

    Over a short last axis (a classifier's 10 logits) NumPy's reduction runs one tiny inner loop per row: 9 us
    for (128, 10), 65 us for (1024, 10). Reducing the transposed copy instead runs n long elementwise maxima
    (2.5 and 7 us). A maximum is exact in any order (a row of NaN gives NaN; of zeros, a zero of either sign,
    which ``x - max`` and ``exp`` then treat alike).
    """
    n = x.shape[-1] if x.ndim else 0
    if axes == (x.ndim - 1,) and 2 <= n <= 64 and x.size >= 16 * n and x.flags.c_contiguous:
        rows = x.reshape(-1, n)
        return numpy.maximum.reduce(rows.T.copy(), 0).reshape(x.shape[:-1] + (1,))
    return numpy.maximum.reduce(x, axes, None, None, True)


def _softmax_host(axis, x, out=None):
    """Softmax's forward on a NumPy array, into ``out`` (x itself allowed) where given: the same steps."""
    axes = (x.ndim - 1,) if axis == -1 and x.ndim else normalize_axes("softmax", axis, x.ndim)
    if x.size == 0:
        return x.copy()
    y = numpy.subtract(x, _max_keepdims(x, axes), out=out)
    numpy.exp(y, out=y)
    y /= numpy.add.reduce(y, axes, None, None, True)
    return y


class Softmax(Function):
    """y = exp(x - max) / sum(exp(x - max)) over ``axis`` (an int, a tuple, or None for all).

    Backward: dx = y * (g - sum(g * y, axis)). Shapes: x (...) -> y (...).
    """

    name = "softmax"
    graph_saved = {"y": ("out", 0)}

    def forward(self, x, axis=-1):
        xp = self.xp
        self.axes = axes = (x.ndim - 1,) if axis == -1 and x.ndim else normalize_axes(self.name, axis, x.ndim)
        if x.size == 0:
            self.y = x.copy()
            return self.y
        if xp is numpy:  # the reductions as the ufuncs' own (what the methods call), without their wrappers
            y = x - _max_keepdims(x, axes)
            numpy.exp(y, out=y)
            y /= numpy.add.reduce(y, axes, None, None, True)
        else:
            y = x - x.max(axis=axes, keepdims=True)
            xp.exp(y, out=y)
            y /= y.sum(axis=axes, keepdims=True)
        self.y = y
        return y

    # the lean form (ember.compile.forward_plan): the inference forward; out= may be x's buffer
    lean_in_place = True

    @staticmethod
    def lean(xp, attrs):
        """The inference forward on NumPy arrays, ``f(x, out=None)``: ``forward``'s steps and bits, nothing kept,
        written into ``out`` where given (the plan passes the logits' own buffer when nobody else reads it: W1's
        (128, 10) needs no new array); None on other array modules (the forward runs)."""
        return functools.partial(_softmax_host, attrs.get("axis", -1)) if xp is numpy else None

    def backward(self, g):
        y = self.y
        gy = g * y
        if type(gy) is numpy.ndarray:
            gy -= y * numpy.add.reduce(gy, self.axes, None, None, True)
        else:
            gy -= y * gy.sum(axis=self.axes, keepdims=True)
        return gy


class LogSoftmax(Function):
    """y = x - max - log(sum(exp(x - max))) over ``axis`` (an int, a tuple, or None for all).

    Backward: dx = g - exp(y) * sum(g, axis). Shapes: x (...) -> y (...).
    """

    name = "log_softmax"
    graph_saved = {"y": ("out", 0)}

    def forward(self, x, axis=-1):
        xp = self.xp
        self.axes = normalize_axes(self.name, axis, x.ndim)
        if x.size == 0:
            self.y = x.copy()
            return self.y
        z = x - x.max(axis=self.axes, keepdims=True)
        z -= xp.log(xp.exp(z).sum(axis=self.axes, keepdims=True))
        self.y = z
        return z

    def backward(self, g):
        return g - self.xp.exp(self.y) * g.sum(axis=self.axes, keepdims=True)


# ---- public functions -----------------------------------------------------------------------------------------------


def relu(x, negative_slope=0.0, max_value=None, threshold=0.0):
    """Rectified linear unit, Keras's general form.

    Args:
        x: input tensor.
        negative_slope: slope for values below ``threshold``.
        max_value: the largest value returned (no cap when None).
        threshold: values at or below it are damped (or set to 0).

    Returns:
        ``clip(x if x > threshold else 0, 0, max_value) - negative_slope * max(threshold - x, 0)``,
        which is ``max(x, 0)`` with the defaults.
    """
    if negative_slope != 0 and max_value is None and threshold == 0:
        return LeakyReLU.apply(x, negative_slope=negative_slope)
    if max_value is not None and max_value < 0:
        raise ValueError(f"relu: max_value must be >= 0, got {max_value}")
    return ReLU.apply(x, negative_slope=negative_slope, max_value=max_value, threshold=threshold)


def relu6(x):
    """``min(max(x, 0), 6)``."""
    return ReLU6.apply(x)


def leaky_relu(x, negative_slope=0.2):
    """``x`` where x > 0, else ``negative_slope * x``."""
    return LeakyReLU.apply(x, negative_slope=negative_slope)


def elu(x, alpha=1.0):
    """Exponential linear unit: ``x`` where x > 0, else ``alpha * (exp(x) - 1)``."""
    return ELU.apply(x, alpha=alpha)


def selu(x):
    """Scaled ELU: ``scale * elu(x, alpha)`` with Klambauer et al.'s alpha = 1.6732632... and scale = 1.0507009..."""
    return ELU.apply(x, alpha=_SELU_ALPHA, scale=_SELU_SCALE)


def gelu(x, approximate=False):
    """Gaussian error linear unit ``x * Phi(x)``; ``approximate=True`` uses the tanh formula."""
    return GELU.apply(x, approximate=bool(approximate))


def sigmoid(x):
    """Logistic sigmoid ``1 / (1 + exp(-x))``, stable for large |x|."""
    return Sigmoid.apply(x)


def hard_sigmoid(x):
    """Piecewise-linear sigmoid: 0 for x <= -3, 1 for x >= 3, ``x / 6 + 0.5`` between (Keras 3)."""
    return HardSigmoid.apply(x)


def hard_silu(x):
    """Hard SiLU (hard swish): ``x * hard_sigmoid(x)``."""
    return HardSilu.apply(x)


hard_swish = hard_silu


def tanh(x):
    """Hyperbolic tangent."""
    return Tanh.apply(x)


def softplus(x):
    """``log(exp(x) + 1)``, without overflow."""
    return Softplus.apply(x)


def softsign(x):
    """``x / (abs(x) + 1)``."""
    return Softsign.apply(x)


def silu(x):
    """Swish / SiLU: ``x * sigmoid(x)``."""
    return Silu.apply(x)


swish = silu


def mish(x):
    """``x * tanh(softplus(x))``."""
    return Mish.apply(x)


def exponential(x):
    """``exp(x)``."""
    return exp(x)


def linear(x):
    """The identity: returns ``x`` itself, as Keras does."""
    return x


def softmax(x, axis=-1):
    """Softmax over ``axis`` (an int, a tuple of ints, or None for all axes); the result sums to 1 there."""
    return Softmax.apply(x, axis=axis)


def log_softmax(x, axis=-1):
    """Log of the softmax over ``axis`` (an int, a tuple of ints, or None), computed stably in one step."""
    return LogSoftmax.apply(x, axis=axis)


def log_sigmoid(x):
    """``log(sigmoid(x)) = -softplus(-x)``, stable for large |x|."""
    return LogSigmoid.apply(x)
