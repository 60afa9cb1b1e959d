"""Regression losses as classes: MeanSquaredError, MeanAbsoluteError, MeanAbsolutePercentageError,
MeanSquaredLogarithmicError, Huber, LogCosh, CosineSimilarity.

Each wraps its per-sample function (``y_true``, ``y_pred`` of shape
``(batch, ..., d)`` -> losses ``(batch, ...)``) and reduces as :class:`Loss` does.
"""

from __future__ import annotations

from . import functions as fns
from .base import Loss
from .wrapper import LossFunctionWrapper

__all__ = [
    "CosineSimilarity",
    "Huber",
    "LogCosh",
    "MeanAbsoluteError",
    "MeanAbsolutePercentageError",
    "MeanSquaredError",
    "MeanSquaredLogarithmicError",
]


class MeanSquaredError(LossFunctionWrapper):
    """Mean of the squared errors over the last axis, then reduced: ``mean((y_true - y_pred)**2)``."""

    def __init__(self, reduction="sum_over_batch_size", name="mean_squared_error", dtype=None):
        super().__init__(fns.mean_squared_error, name=name, reduction=reduction, dtype=dtype)

    def get_config(self):
        return Loss.get_config(self)


class MeanAbsoluteError(LossFunctionWrapper):
    """Mean of the absolute errors: ``mean(abs(y_true - y_pred))``."""

    def __init__(self, reduction="sum_over_batch_size", name="mean_absolute_error", dtype=None):
        super().__init__(fns.mean_absolute_error, name=name, reduction=reduction, dtype=dtype)

    def get_config(self):
        return Loss.get_config(self)


class MeanAbsolutePercentageError(LossFunctionWrapper):
    """``100 * mean(abs((y_true - y_pred) / max(abs(y_true), epsilon)))``."""

    def __init__(self, reduction="sum_over_batch_size", name="mean_absolute_percentage_error", dtype=None):
        super().__init__(fns.mean_absolute_percentage_error, name=name, reduction=reduction, dtype=dtype)

    def get_config(self):
        return Loss.get_config(self)


class MeanSquaredLogarithmicError(LossFunctionWrapper):
    """``mean((log(y_pred + 1) - log(y_true + 1))**2)`` (both clipped below at epsilon)."""

    def __init__(self, reduction="sum_over_batch_size", name="mean_squared_logarithmic_error", dtype=None):
        super().__init__(fns.mean_squared_logarithmic_error, name=name, reduction=reduction, dtype=dtype)

    def get_config(self):
        return Loss.get_config(self)


class CosineSimilarity(LossFunctionWrapper):
    """Negative cosine similarity along ``axis``: -1 for parallel vectors, 0 orthogonal, 1 opposite.

    Args:
        axis: the axis the similarity is computed along (default -1).

    ``get_config`` also records ``axis`` (Keras 3 leaves it out, which loses
    it on a round trip); Keras accepts the extra key.
    """

    def __init__(self, axis=-1, reduction="sum_over_batch_size", name="cosine_similarity", dtype=None):
        super().__init__(fns.cosine_similarity, name=name, reduction=reduction, dtype=dtype, axis=axis)
        self.axis = axis

    def get_config(self):
        return {**Loss.get_config(self), "axis": self.axis}


class Huber(LossFunctionWrapper):
    """Huber loss: ``0.5 * e**2`` for ``|e| <= delta``, ``delta * |e| - 0.5 * delta**2`` beyond.

    Args:
        delta: where the loss turns from quadratic to linear (default 1.0).

    ``get_config`` also records ``delta`` (Keras 3 leaves it out).
    """

    def __init__(self, delta=1.0, reduction="sum_over_batch_size", name="huber_loss", dtype=None):
        super().__init__(fns.huber, name=name, reduction=reduction, dtype=dtype, delta=delta)
        self.delta = delta

    def get_config(self):
        return {**Loss.get_config(self), "delta": self.delta}


class LogCosh(LossFunctionWrapper):
    """``mean(log(cosh(y_pred - y_true)))``: about ``x**2 / 2`` for small errors, ``|x| - log 2`` for large."""

    def __init__(self, reduction="sum_over_batch_size", name="log_cosh", dtype=None):
        super().__init__(fns.log_cosh, name=name, reduction=reduction, dtype=dtype)

    def get_config(self):
        return Loss.get_config(self)
