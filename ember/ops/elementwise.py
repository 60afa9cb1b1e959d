"""Elementwise math on one tensor: exp, log, log1p, sqrt, abs, square, trig, rounding.

Each op keeps the input's shape and dtype. Rounding and ``sign`` are piecewise
constant and pass no gradient, as in PyTorch.
"""

from __future__ import annotations

from ..engine.function import Function

__all__ = [
    "exp",
    "expm1",
    "log",
    "log1p",
    "log2",
    "log10",
    "sqrt",
    "rsqrt",
    "reciprocal",
    "abs",
    "absolute",
    "square",
    "sign",
    "sin",
    "cos",
    "tan",
    "arctan",
    "sinh",
    "cosh",
    "floor",
    "ceil",
    "round",
]


class Exp(Function):
    """y = e**x."""

    graph_saved = {"y": ("out", 0)}

    def forward(self, x):
        self.y = self.xp.exp(x)
        return self.y

    def backward(self, g):
        return g * self.y


class Expm1(Function):
    """y = e**x - 1, accurate near 0."""

    graph_saved = {"y": ("out", 0)}

    def forward(self, x):
        self.y = self.xp.expm1(x)
        return self.y

    def backward(self, g):
        return g * (self.y + 1)


class Log(Function):
    """y = ln(x); -inf at 0, nan below, as NumPy."""

    graph_saved = {"x": 0}

    def forward(self, x):
        self.x = x
        return self.xp.log(x)

    def backward(self, g):
        return g / self.x


class Log1p(Function):
    """y = ln(1 + x), accurate near 0."""

    graph_saved = {"x": 0}

    def forward(self, x):
        self.x = x
        return self.xp.log1p(x)

    def backward(self, g):
        return g / (1 + self.x)


class Log2(Function):
    """y = log2(x)."""

    graph_saved = {"x": 0}

    def forward(self, x):
        self.x = x
        return self.xp.log2(x)

    def backward(self, g):
        return g / (self.x * self.x.dtype.type(0.6931471805599453))


class Log10(Function):
    """y = log10(x)."""

    graph_saved = {"x": 0}

    def forward(self, x):
        self.x = x
        return self.xp.log10(x)

    def backward(self, g):
        return g / (self.x * self.x.dtype.type(2.302585092994046))


class Sqrt(Function):
    """y = sqrt(x); the gradient 1 / (2 sqrt(x)) is inf at 0, as in NumPy and PyTorch."""

    graph_saved = {"y": ("out", 0)}

    def forward(self, x):
        self.y = self.xp.sqrt(x)
        return self.y

    def backward(self, g):
        return g / (2 * self.y)


class Rsqrt(Function):
    """y = 1 / sqrt(x)."""

    graph_saved = {"x": 0, "y": ("out", 0)}

    def forward(self, x):
        self.x = x
        self.y = 1 / self.xp.sqrt(x)
        return self.y

    def backward(self, g):
        return -0.5 * g * self.y / self.x


class Reciprocal(Function):
    """y = 1 / x."""

    graph_saved = {"y": ("out", 0)}

    def forward(self, x):
        self.y = 1 / x
        return self.y

    def backward(self, g):
        return -g * self.y * self.y


class Abs(Function):
    """y = |x|; the gradient at 0 is 0 (sign(0)), as in PyTorch."""

    graph_saved = {"x": 0}

    def forward(self, x):
        self.x = x
        return self.xp.abs(x)

    def backward(self, g):
        return g * self.xp.sign(self.x)


class Square(Function):
    """y = x * x."""

    graph_saved = {"x": 0}

    def forward(self, x):
        self.x = x
        return x * x

    def backward(self, g):
        return 2 * g * self.x


class Sin(Function):
    graph_saved = {"x": 0}

    def forward(self, x):
        self.x = x
        return self.xp.sin(x)

    def backward(self, g):
        return g * self.xp.cos(self.x)


class Cos(Function):
    graph_saved = {"x": 0}

    def forward(self, x):
        self.x = x
        return self.xp.cos(x)

    def backward(self, g):
        return -g * self.xp.sin(self.x)


class Tan(Function):
    graph_saved = {"y": ("out", 0)}

    def forward(self, x):
        self.y = self.xp.tan(x)
        return self.y

    def backward(self, g):
        return g * (1 + self.y * self.y)


class Arctan(Function):
    graph_saved = {"x": 0}

    def forward(self, x):
        self.x = x
        return self.xp.arctan(x)

    def backward(self, g):
        return g / (1 + self.x * self.x)


class Sinh(Function):
    graph_saved = {"x": 0}

    def forward(self, x):
        self.x = x
        return self.xp.sinh(x)

    def backward(self, g):
        return g * self.xp.cosh(self.x)


class Cosh(Function):
    graph_saved = {"x": 0}

    def forward(self, x):
        self.x = x
        return self.xp.cosh(x)

    def backward(self, g):
        return g * self.xp.sinh(self.x)


class _Constant(Function):
    """Piecewise-constant ops: the gradient is zero almost everywhere."""

    graph_saved = {}

    def backward(self, g):
        return self.xp.zeros_like(g)


class Sign(_Constant):
    def forward(self, x):
        return self.xp.sign(x)


class Floor(_Constant):
    def forward(self, x):
        return self.xp.floor(x)


class Ceil(_Constant):
    def forward(self, x):
        return self.xp.ceil(x)


class Round(_Constant):
    def forward(self, x, decimals=0):
        return self.xp.round(x, decimals)


def exp(x):
    """Elementwise e**x."""
    return Exp.apply(x)


def expm1(x):
    """Elementwise e**x - 1."""
    return Expm1.apply(x)


def log(x):
    """Elementwise natural logarithm."""
    return Log.apply(x)


def log1p(x):
    """Elementwise ln(1 + x)."""
    return Log1p.apply(x)


def log2(x):
    """Elementwise base-2 logarithm."""
    return Log2.apply(x)


def log10(x):
    """Elementwise base-10 logarithm."""
    return Log10.apply(x)


def sqrt(x):
    """Elementwise square root."""
    return Sqrt.apply(x)


def rsqrt(x):
    """Elementwise 1 / sqrt(x)."""
    return Rsqrt.apply(x)


def reciprocal(x):
    """Elementwise 1 / x."""
    return Reciprocal.apply(x)


def abs(x):  # noqa: A001 - NumPy's name
    """Elementwise absolute value."""
    return Abs.apply(x)


absolute = abs


def square(x):
    """Elementwise x * x."""
    return Square.apply(x)


def sign(x):
    """Elementwise -1, 0 or 1 (no gradient)."""
    return Sign.apply(x)


def sin(x):
    return Sin.apply(x)


def cos(x):
    return Cos.apply(x)


def tan(x):
    return Tan.apply(x)


def arctan(x):
    return Arctan.apply(x)


def sinh(x):
    return Sinh.apply(x)


def cosh(x):
    return Cosh.apply(x)


def floor(x):
    """Elementwise floor (no gradient)."""
    return Floor.apply(x)


def ceil(x):
    """Elementwise ceiling (no gradient)."""
    return Ceil.apply(x)


def round(x, decimals: int = 0):  # noqa: A001 - NumPy's name
    """Elementwise rounding to ``decimals`` places, halves to even (no gradient)."""
    return Round.apply(x, decimals=decimals)
