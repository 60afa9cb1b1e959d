"""Special functions: erf, erfc, erfinv.

Forward values come from SciPy when it is installed (``scipy.special``) and
otherwise from Python's ``math.erf``/``math.erfc`` applied elementwise; erfinv
without SciPy refines a closed-form first guess with Newton steps on erf.

Gradients: d erf(x)/dx = 2/sqrt(pi) exp(-x^2); erfc's is its negative;
d erfinv(y)/dy = sqrt(pi)/2 exp(erfinv(y)^2).
"""

from __future__ import annotations

import math

import numpy

from ..backend.device import device_of_array, to_device, to_host
from ..engine.function import Function

__all__ = ["erf", "erfc", "erfinv"]

_TWO_OVER_SQRT_PI = 2.0 / math.sqrt(math.pi)


def _scipy_special():
    try:
        import scipy.special
    except ImportError:
        return None
    return scipy.special


def _host(x):
    """A NumPy array of ``x`` (a NumPy or CuPy array) and a function taking results back to x's module."""
    if isinstance(x, numpy.ndarray):
        return x, lambda r: r
    device = device_of_array(x)
    return to_host(x), lambda r: to_device(r, device)


def _erf_values(x, complement: bool):
    host, back = _host(x)
    special = _scipy_special()
    if special is not None:
        out = (special.erfc if complement else special.erf)(host)
    else:
        f = math.erfc if complement else math.erf
        out = numpy.vectorize(f, otypes=[numpy.float64])(host)
    return back(numpy.asarray(out, dtype=x.dtype))


def _erfinv_values(y):
    host, back = _host(y)
    special = _scipy_special()
    if special is not None:
        return back(numpy.asarray(special.erfinv(host), dtype=y.dtype))
    with numpy.errstate(all="ignore"):
        return back(_erfinv_newton(host).astype(y.dtype))


def _erfinv_newton(host):
    v = host.astype(numpy.float64)
    # Giles's single-precision approximation as the first guess, then Newton steps on erf(x) = v
    w = -numpy.log1p(-v * v)
    x = numpy.where(numpy.isfinite(w), numpy.sqrt(numpy.maximum(w, 0.0)) * numpy.sign(v), numpy.sign(v) * numpy.inf)
    x = numpy.where(numpy.abs(v) < 1, numpy.clip(x * 0.886, -6, 6), x)
    erf = numpy.vectorize(math.erf, otypes=[numpy.float64])
    inner = numpy.abs(v) < 1
    for _ in range(60):
        step = (erf(x[inner]) - v[inner]) / (_TWO_OVER_SQRT_PI * numpy.exp(-(x[inner] ** 2)))
        x[inner] -= step
        if numpy.all(numpy.abs(step) < 1e-15 * numpy.maximum(1.0, numpy.abs(x[inner]))):
            break
    return numpy.where(numpy.abs(v) > 1, numpy.nan, x)


class Erf(Function):
    """y = erf(x) = 2/sqrt(pi) * integral_0^x exp(-t^2) dt."""

    promote = True

    def forward(self, x):
        self.x = x
        return _erf_values(x, complement=False)

    def backward(self, g):
        return g * (_TWO_OVER_SQRT_PI * self.xp.exp(-self.x * self.x)).astype(g.dtype)


class Erfc(Function):
    """y = erfc(x) = 1 - erf(x), accurate for large x."""

    promote = True

    def forward(self, x):
        self.x = x
        return _erf_values(x, complement=True)

    def backward(self, g):
        return -g * (_TWO_OVER_SQRT_PI * self.xp.exp(-self.x * self.x)).astype(g.dtype)


class Erfinv(Function):
    """y = erfinv(x), the inverse of erf on (-1, 1); +-inf at +-1 and nan outside."""

    promote = True

    def forward(self, x):
        self.y = _erfinv_values(x)
        return self.y

    def backward(self, g):
        return g * (self.xp.exp(self.y * self.y) / _TWO_OVER_SQRT_PI).astype(g.dtype)


def _floating(x):
    from ..backend.config import floatx
    from ..engine.tensor import Tensor, tensor

    x = x if isinstance(x, Tensor) else tensor(x)
    return x if x.dtype.kind == "f" else x.astype(floatx())


def erf(x):
    """Elementwise Gauss error function (integer inputs become floatx)."""
    return Erf.apply(_floating(x))


def erfc(x):
    """Elementwise complementary error function 1 - erf(x)."""
    return Erfc.apply(_floating(x))


def erfinv(x):
    """Elementwise inverse error function on [-1, 1]."""
    return Erfinv.apply(_floating(x))
