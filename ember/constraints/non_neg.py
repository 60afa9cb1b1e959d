"""``NonNeg``: weights clipped at zero from below."""

from __future__ import annotations

from ..engine.tensor import Tensor
from ..ops.arithmetic import maximum
from .base import Constraint, as_tensor, register


@register()
class NonNeg(Constraint):
    """Sets negative weights to 0: ``max(w, 0)``."""

    def __call__(self, w) -> Tensor:
        """``max(w, 0)``, of ``w``'s shape and dtype."""
        return maximum(as_tensor(w), 0)
