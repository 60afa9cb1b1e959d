"""``OrthogonalRegularizer``: penalises the overlap between the rows (or columns) of a 2-D weight."""

from __future__ import annotations

from ..backend.config import epsilon
from ..engine.creation import eye
from ..engine.tensor import Tensor
from ..ops.arithmetic import matmul, maximum
from ..ops.elementwise import abs as _abs
from ..ops.elementwise import rsqrt, square
from ..ops.reduction import sum as _sum
from .base import Regularizer, as_tensor, register, validate_float_arg

_MODES = ("rows", "columns")


@register()
class OrthogonalRegularizer(Regularizer):
    """``factor * mean over pairs i < j of |<v_i, v_j>| / 2`` for the unit-normalised rows or columns v.

    Each vector is scaled to unit L2 norm (by ``1 / max(norm, epsilon)``, so
    zero vectors stay zero, with a zero gradient); the penalty is ``factor * 0.5 * sum(|G - diag(G)|) /
    (n (n - 1) / 2)`` with ``G`` their ``(n, n)`` Gram matrix. It is 0 when the
    vectors are orthogonal.

    Args:
        factor: the penalty factor (a float >= 0).
        mode: ``"rows"`` (the rows are the vectors) or ``"columns"``.
    """

    def __init__(self, factor=0.01, mode="rows"):
        self.factor = validate_float_arg(factor, "factor", "OrthogonalRegularizer")
        if mode not in _MODES:
            raise ValueError(f"OrthogonalRegularizer: mode must be one of {_MODES}, got mode={mode!r}")
        self.mode = mode

    def __call__(self, inputs) -> Tensor:
        """The penalty of a 2-D weight ``(rows, columns)``: a 0-d tensor of its dtype."""
        x = as_tensor(inputs)
        if x.ndim != 2:
            raise ValueError(f"OrthogonalRegularizer: expected a 2-D weight, got shape {tuple(x.shape)}")
        axis = 1 if self.mode == "rows" else 0
        size = x.shape[1 - axis]
        if size < 2:
            raise ValueError(
                f"OrthogonalRegularizer(mode={self.mode!r}): needs at least 2 {self.mode} to compare, "
                f"got a weight of shape {tuple(x.shape)}"
            )
        # 1 / max(norm, epsilon), as Keras's min(rsqrt(norm**2), 1 / epsilon); clamping before rsqrt keeps the
        # gradient of a zero row finite (0) where rsqrt(0) = inf would make it NaN
        eps = epsilon()
        unit = x * rsqrt(maximum(_sum(square(x), axis=axis, keepdims=True), eps * eps))
        gram = matmul(unit, unit.T) if self.mode == "rows" else matmul(unit.T, unit)
        off_diagonal = gram * (1.0 - eye(size, dtype=x.dtype))
        pairs = size * (size - 1) / 2.0
        return self.factor * 0.5 * _sum(_abs(off_diagonal)) / pairs

    def get_config(self) -> dict:
        return {"factor": self.factor, "mode": self.mode}
