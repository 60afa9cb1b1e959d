"""Binary arithmetic with NumPy broadcasting: add, subtract, multiply, divide, power, matmul, ...

Gradients may keep the broadcast shape; the engine sums them back to each
input's shape. Integer inputs are promoted to the float dtype of the other
operand.
"""

from __future__ import annotations

import operator

import numpy

from ..backend.config import epsilon
from ..engine.autograd import sum_to_shape
from ..engine.function import Function
from . import split_matmul
from ._checks import broadcast_shapes, elementwise

__all__ = [
    "add",
    "subtract",
    "multiply",
    "divide",
    "true_divide",
    "divide_no_nan",
    "sign_safe_divide",
    "floor_divide",
    "mod",
    "negative",
    "power",
    "matmul",
    "maximum",
    "minimum",
    "where",
    "clip",
]


class Add(Function):
    """out = a + b, shapes broadcast."""

    promote = True
    graph_saved = {}

    def forward(self, a, b):
        return elementwise("add", operator.add, a, b)

    def backward(self, g):
        return g, g

    # the lean form (ember.compile.forward_plan): a + b is NumPy's add; out= may be a's buffer
    lean_in_place = True

    @staticmethod
    def lean(xp, attrs):
        """The inference forward on arrays of traced shapes, ``f(a, b, out=None)``: what ``forward`` computes."""
        return xp.add


class Subtract(Function):
    """out = a - b, shapes broadcast."""

    promote = True
    graph_saved = {}

    def forward(self, a, b):
        return elementwise("subtract", operator.sub, a, b)

    def backward(self, g):
        return g, (-g if self.needs_input_grad[1] else None)


class Multiply(Function):
    """out = a * b, shapes broadcast."""

    promote = True
    graph_saved = {"a": 0, "b": 1}

    def forward(self, a, b):
        self.a, self.b = a, b
        return elementwise("multiply", operator.mul, a, b)

    def backward(self, g):
        ga = g * self.b if self.needs_input_grad[0] else None
        gb = g * self.a if self.needs_input_grad[1] else None
        return ga, gb


class Divide(Function):
    """out = a / b, shapes broadcast."""

    promote = True
    graph_saved = {"b": 1, "out": ("out", 0)}

    def forward(self, a, b):
        self.b = b
        self.out = elementwise("divide", operator.truediv, a, b)
        return self.out

    def backward(self, g):
        ga = g / self.b if self.needs_input_grad[0] else None
        gb = -g * self.out / self.b if self.needs_input_grad[1] else None
        return ga, gb


class DivideNoNan(Function):
    """out = a / b where b != 0, else 0 (Keras's ``divide_no_nan``); no gradient where b == 0."""

    name = "divide_no_nan"
    promote = True

    def forward(self, a, b):
        if b.ndim == 0 and a.dtype == b.dtype and b:  # a nonzero scalar divisor (a mean's count): nothing to mask
            self.zero, self.safe_b = False, b
            out = a / b
            self.out = out = self.xp.asarray(out) if a.ndim == 0 else out  # NumPy gives a 0-d quotient as a scalar
            return out
        broadcast_shapes(self.name, a.shape, b.shape)
        xp = self.xp
        self.zero = b == 0
        self.safe_b = xp.where(self.zero, 1, b).astype(b.dtype, copy=False)
        self.out = xp.where(self.zero, 0, a / self.safe_b).astype(self.safe_b.dtype, copy=False)
        return self.out

    def backward(self, g):
        if self.zero is not False:  # False: a nonzero scalar divisor (the forward's fast form)
            g = self.xp.where(self.zero, 0, g)
        ga = g / self.safe_b if self.needs_input_grad[0] else None
        gb = -g * self.out / self.safe_b if self.needs_input_grad[1] else None
        return ga, gb

    # create_graph: safe_b holds b's values where b != 0; as a tensor of the graph, with 1 where b == 0
    graph_saved = {"safe_b": 1, "out": ("out", 0)}

    def graph_derive(self):
        self.safe_b = self.xp.where(self.zero, 1, self.safe_b)


class FloorDivide(Function):
    """out = floor(a / b); piecewise constant, so no gradient flows."""

    name = "floor_divide"
    promote = True
    graph_saved = {}

    def forward(self, a, b):
        broadcast_shapes(self.name, a.shape, b.shape)
        return a // b

    def backward(self, g):
        return None, None


class Mod(Function):
    """out = a mod b (sign of b, as NumPy); d/da = 1, d/db = -floor(a / b)."""

    promote = True
    graph_saved = {}

    def forward(self, a, b):
        broadcast_shapes("mod", a.shape, b.shape)
        self.q = a // b
        return a % b

    def backward(self, g):
        return g, (-g * self.q if self.needs_input_grad[1] else None)


class Negative(Function):
    """out = -a."""

    graph_saved = {}

    def forward(self, a):
        return -a

    def backward(self, g):
        return -g


class Power(Function):
    """out = a ** b, shapes broadcast.

    d/da = b * a**(b-1); d/db = out * log(a), taken as 0 where a == 0 and b >= 0
    (the limit PyTorch also uses), so ``x ** 2`` at x = 0 has finite gradients.
    """

    promote = True
    graph_saved = {"a": 0, "b": 1, "out": ("out", 0)}

    def forward(self, a, b):
        self.a, self.b = a, b
        self.out = elementwise("power", operator.pow, a, b)
        return self.out

    def backward(self, g):
        xp = self.xp
        a, b = self.a, self.b
        ga = gb = None
        if self.needs_input_grad[0]:
            ga = g * b * a ** (b - 1)
        if self.needs_input_grad[1]:
            zero = (a == 0) & (b >= 0)
            log_a = xp.log(xp.where(zero, 1, a))
            gb = g * xp.where(zero, 0, self.out * log_a)
        return ga, gb


class Matmul(Function):
    """Matrix product with NumPy's rules: 1-D operands are promoted, batch dims broadcast.

    Shapes: (..., n, k) @ (..., k, m) -> (..., n, m).
    """

    promote = True
    graph_saved = {"a": 0, "b": 1}

    def forward(self, a, b):
        if a.ndim == 2 and b.ndim == 2 and a.shape[1] == b.shape[0]:  # the common case: nothing to check
            self.a, self.b = a, b
            n = b.shape[1]
            if a.size * n < _LEAST_SPLIT:  # too small to split (most products): no wrapper
                # a.dot(b): a @ b's BLAS call and bits, ~0.3 us less; except a matrix times a vector of strided
                # rows or columns, which NumPy's matmul and dot hand to BLAS differently (other bits)
                if n > 1 < a.shape[0] or (a.flags.c_contiguous and b.flags.c_contiguous):
                    return a.dot(b)
                return a @ b
            return split_matmul.matmul(a, b)  # a @ b, in row parts on Ember's threads when the policy splits
        if a.ndim == 0 or b.ndim == 0:
            raise ValueError(f"matmul: operands must have at least one dimension, got shapes {a.shape} and {b.shape}")
        ka, kb = a.shape[-1], b.shape[0] if b.ndim == 1 else b.shape[-2]
        if ka != kb:
            dim_b = 0 if b.ndim == 1 else b.ndim - 2
            raise ValueError(
                f"matmul: shapes {a.shape} and {b.shape} are not aligned: {ka} (dim {a.ndim - 1}) != {kb} (dim {dim_b})"
            )
        if a.ndim > 2 or b.ndim > 2:
            broadcast_shapes("matmul (batch dimensions)", a.shape[:-2], b.shape[:-2] if b.ndim > 1 else ())
        self.a, self.b = a, b
        return a @ b

    @staticmethod
    def lean(xp, attrs):
        """The inference forward on arrays of traced shapes (no checks, nothing saved): ``f(a, b)``, a @ b."""
        return _lean_matmul if xp is numpy else xp.matmul

    def backward(self, g):
        xp = self.xp
        a, b = self.a, self.b
        if a.ndim == 2 and b.ndim == 2:  # no 1-D promotion, no batch axes to sum
            needs = self.needs_input_grad
            # both products have the forward's m * k * n multiply-adds: too small to split, plain products, as
            # ndarray.dot where neither is a matrix times a vector (see forward: then dot gives @'s bits)
            m, k = a.shape
            n = b.shape[1]
            if m * k * n < _LEAST_SPLIT:
                if type(g) is _NDARRAY and m > 1 and k > 1 and n > 1:
                    return (g.dot(b.T) if needs[0] else None, a.T.dot(g) if needs[1] else None)
                return (g @ b.T if needs[0] else None, a.T @ g if needs[1] else None)
            product = split_matmul.matmul  # a @ b, in row parts on Ember's threads when the policy splits
            return (product(g, b.T) if needs[0] else None, product(a.T, g) if needs[1] else None)
        a2 = a[None, :] if a.ndim == 1 else a
        b2 = b[:, None] if b.ndim == 1 else b
        # restore the dimensions the 1-D promotion removed from the output
        if b.ndim == 1:
            g = g[..., None]
        if a.ndim == 1:
            g = g[..., None, :]
        ga = gb = None
        if self.needs_input_grad[0]:
            ga = sum_to_shape(g @ xp.swapaxes(b2, -1, -2), a2.shape, "matmul").reshape(a.shape)
        if self.needs_input_grad[1]:
            gb = sum_to_shape(xp.swapaxes(a2, -1, -2) @ g, b2.shape, "matmul").reshape(b.shape)
        return ga, gb


def _lean_matmul(a, b):
    """Matmul's lean form on NumPy arrays: a large 2-D product through :func:`split_matmul.matmul`, others as
    NumPy's (the size first: most products are too small to split)."""
    if a.ndim != 2 or b.ndim != 2:
        return _numpy_matmul(a, b)
    n = b.shape[1]
    if a.size * n < _LEAST_SPLIT:  # (a.dot(b) where it gives matmul's bits: see Matmul.forward)
        if n > 1 < a.shape[0] or (a.flags.c_contiguous and b.flags.c_contiguous):
            return a.dot(b)
        return _numpy_matmul(a, b)
    return split_matmul.matmul(a, b)


_LEAST_SPLIT = split_matmul.LEAST_SPLIT
_NDARRAY = numpy.ndarray
_numpy_matmul = numpy.matmul


class Maximum(Function):
    """Elementwise larger of a and b; on ties each side gets half the gradient (as PyTorch)."""

    promote = True
    graph_saved = {}

    def forward(self, a, b):
        self.a, self.b = a, b
        return elementwise("maximum", self.xp.maximum, a, b)

    def backward(self, g):
        return _pick_grads(self.xp, g, self.a > self.b, self.a == self.b, self.needs_input_grad)


class Minimum(Function):
    """Elementwise smaller of a and b; on ties each side gets half the gradient (as PyTorch)."""

    promote = True
    graph_saved = {}

    def forward(self, a, b):
        self.a, self.b = a, b
        return elementwise("minimum", self.xp.minimum, a, b)

    def backward(self, g):
        return _pick_grads(self.xp, g, self.a < self.b, self.a == self.b, self.needs_input_grad)


def _pick_grads(xp, g, a_wins, tie, needs):
    share = xp.where(tie, 0.5, a_wins.astype(g.dtype)).astype(g.dtype, copy=False)
    ga = g * share if needs[0] else None
    gb = g * (1 - share) if needs[1] else None
    return ga, gb


class Where(Function):
    """out = x where condition else y; condition is boolean and gets no gradient."""

    graph_saved = {}

    def forward(self, condition, x, y):
        broadcast_shapes("where", condition.shape, x.shape, y.shape)
        self.cond = condition.astype(bool, copy=False)
        out = self.xp.where(self.cond, x, y)
        return out

    def backward(self, g):
        zero = g.dtype.type(0)
        gx = self.xp.where(self.cond, g, zero) if self.needs_input_grad[1] else None
        gy = self.xp.where(self.cond, zero, g) if self.needs_input_grad[2] else None
        return None, gx, gy


class Clip(Function):
    """out = min(max(x, lo), hi); the gradient passes where lo <= x <= hi (bounds included, as PyTorch)."""

    graph_saved = {}

    def forward(self, x, lo=None, hi=None):
        self.inside = True
        out = x
        if lo is not None:
            out = self.xp.maximum(out, self.xp.asarray(lo, dtype=x.dtype))
            self.inside = x >= lo
        if hi is not None:
            out = self.xp.minimum(out, self.xp.asarray(hi, dtype=x.dtype))
            self.inside = self.inside & (x <= hi)
        return out if out is not x else x.copy()

    def backward(self, g):
        return g if self.inside is True else g * self.inside


def add(x1, x2):
    """Elementwise ``x1 + x2`` with broadcasting."""
    return Add.apply(x1, x2)


def subtract(x1, x2):
    """Elementwise ``x1 - x2`` with broadcasting."""
    return Subtract.apply(x1, x2)


def multiply(x1, x2):
    """Elementwise ``x1 * x2`` with broadcasting."""
    return Multiply.apply(x1, x2)


def divide(x1, x2):
    """Elementwise ``x1 / x2`` with broadcasting."""
    return Divide.apply(x1, x2)


true_divide = divide


def divide_no_nan(x1, x2):
    """``x1 / x2`` where ``x2 != 0`` and 0 elsewhere, with gradients that stay finite."""
    return DivideNoNan.apply(x1, x2)


def sign_safe_divide(x1, x2, eps=None):
    """``x1 / x2`` with ``|x2|`` kept at least ``eps`` (default ``epsilon()``), keeping its sign.

    A denominator of exactly 0 counts as positive. Use it where a tiny
    denominator would blow up (relative errors, normalisations).
    """
    from .comparison import greater_equal

    eps = epsilon() if eps is None else eps
    denominator = where(greater_equal(x2, 0), maximum(x2, eps), minimum(x2, -eps))
    return divide(x1, denominator)


def floor_divide(x1, x2):
    """Elementwise ``x1 // x2`` (no gradient)."""
    return FloorDivide.apply(x1, x2)


def mod(x1, x2):
    """Elementwise ``x1 % x2`` with NumPy's sign convention."""
    return Mod.apply(x1, x2)


def negative(x):
    """Elementwise ``-x``."""
    return Negative.apply(x)


def power(x1, x2):
    """Elementwise ``x1 ** x2`` with broadcasting."""
    return Power.apply(x1, x2)


def matmul(x1, x2):
    """Matrix product ``x1 @ x2`` (batched and broadcasting, as ``numpy.matmul``)."""
    return Matmul.apply(x1, x2)


def maximum(x1, x2):
    """Elementwise maximum with broadcasting."""
    return Maximum.apply(x1, x2)


def minimum(x1, x2):
    """Elementwise minimum with broadcasting."""
    return Minimum.apply(x1, x2)


def where(condition, x, y):
    """Elements of ``x`` where ``condition`` holds, else of ``y`` (all three broadcast)."""
    from ..engine.tensor import Tensor

    if not isinstance(condition, Tensor):
        condition = Tensor(condition, dtype=bool, device=_device_of(x, y))
    if not isinstance(x, Tensor) and isinstance(y, Tensor):
        x = Tensor(x, dtype=y.dtype, device=y.device)
    if not isinstance(y, Tensor) and isinstance(x, Tensor):
        y = Tensor(y, dtype=x.dtype, device=x.device)
    return Where.apply(condition, x, y)


def _device_of(*xs):
    from ..engine.tensor import Tensor

    return next((x.device for x in xs if isinstance(x, Tensor)), None)


def clip(x, min=None, max=None):  # noqa: A002 - NumPy 2 names them min and max
    """``x`` limited to ``[min, max]`` (either bound may be None)."""
    if min is None and max is None:
        raise ValueError("clip: at least one of min and max must be given")
    return Clip.apply(x, lo=_scalar(min), hi=_scalar(max))


def _scalar(v):
    from ..engine.tensor import Tensor

    return v.item() if isinstance(v, Tensor) else v
