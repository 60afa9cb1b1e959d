"""Comparisons and logical ops: boolean results that carry no gradient."""

from __future__ import annotations

from ..engine.function import Function
from ._checks import elementwise

__all__ = [
    "equal",
    "not_equal",
    "less",
    "less_equal",
    "greater",
    "greater_equal",
    "logical_and",
    "logical_or",
    "logical_not",
    "isnan",
    "isinf",
    "isfinite",
]


class _Compare(Function):
    """A binary comparison; ``ufunc`` names the array-module function."""

    promote = True
    ufunc = ""

    def forward(self, a, b):
        return elementwise(self.op_name(), getattr(self.xp, self.ufunc), a, b)


def _compare(name):
    cls = type(name.title().replace("_", ""), (_Compare,), {"ufunc": name, "name": name})
    return lambda x1, x2: cls.apply(x1, x2)


equal = _compare("equal")
not_equal = _compare("not_equal")
less = _compare("less")
less_equal = _compare("less_equal")
greater = _compare("greater")
greater_equal = _compare("greater_equal")
logical_and = _compare("logical_and")
logical_or = _compare("logical_or")


class _Predicate(Function):
    ufunc = ""

    def forward(self, x):
        return getattr(self.xp, self.ufunc)(x)


def _predicate(name):
    cls = type(name.title().replace("_", ""), (_Predicate,), {"ufunc": name, "name": name})
    return lambda x: cls.apply(x)


logical_not = _predicate("logical_not")
isnan = _predicate("isnan")
isinf = _predicate("isinf")
isfinite = _predicate("isfinite")
