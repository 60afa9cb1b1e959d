"""Regression metrics: mean squared/absolute/percentage/log errors, RMSE, CosineSimilarity, LogCoshError."""

from __future__ import annotations

import numpy

from .. import losses
from ..backend.config import epsilon
from ..backend.device import device_of_array
from ..engine.tensor import Tensor
from ._arrays import align_ranks, mask_of, to_array, xp_of
from .reduction import Mean, MeanMetricWrapper

__all__ = [
    "CosineSimilarity",
    "LogCoshError",
    "MeanAbsoluteError",
    "MeanAbsolutePercentageError",
    "MeanSquaredError",
    "MeanSquaredLogarithmicError",
    "RootMeanSquaredError",
    "cosine_similarity",
]


class _NameDtypeConfig:
    def get_config(self):
        return {"name": self.name, "dtype": self.dtype}


class MeanSquaredError(_NameDtypeConfig, MeanMetricWrapper):
    """The running mean of ``mean((y_true - y_pred)**2, axis=-1)``."""

    def __init__(self, name="mean_squared_error", dtype=None):
        super().__init__(fn=losses.mean_squared_error, name=name, dtype=dtype)


class MeanAbsoluteError(_NameDtypeConfig, MeanMetricWrapper):
    """The running mean of ``mean(abs(y_true - y_pred), axis=-1)``."""

    def __init__(self, name="mean_absolute_error", dtype=None):
        super().__init__(fn=losses.mean_absolute_error, name=name, dtype=dtype)


class MeanAbsolutePercentageError(_NameDtypeConfig, MeanMetricWrapper):
    """The running mean of the mean absolute percentage error."""

    def __init__(self, name="mean_absolute_percentage_error", dtype=None):
        super().__init__(fn=losses.mean_absolute_percentage_error, name=name, dtype=dtype)


class MeanSquaredLogarithmicError(_NameDtypeConfig, MeanMetricWrapper):
    """The running mean of the mean squared logarithmic error."""

    def __init__(self, name="mean_squared_logarithmic_error", dtype=None):
        super().__init__(fn=losses.mean_squared_logarithmic_error, name=name, dtype=dtype)


class LogCoshError(_NameDtypeConfig, MeanMetricWrapper):
    """The running mean of ``mean(log(cosh(y_pred - y_true)), axis=-1)``."""

    def __init__(self, name="logcosh", dtype=None):
        super().__init__(fn=losses.log_cosh, name=name, dtype=dtype)


class RootMeanSquaredError(Mean):
    """``sqrt`` of the running (weighted) mean of the squared errors, taken over every element.

    ``update_state(y_true, y_pred, sample_weight=None)``; ``result()`` -> scalar.
    """

    def __init__(self, name="root_mean_squared_error", dtype=None):
        super().__init__(name=name, dtype=dtype)

    def update_state(self, y_true, y_pred, sample_weight=None):
        mask = mask_of(y_pred)
        t = to_array(y_true, self._device, self.dtype)
        p = to_array(y_pred, self._device, self.dtype)
        t, p = align_ranks(t, p)
        error_sq = (p - t) ** 2
        del mask  # Keras 3 reads no mask here (the squared errors carry none)
        self._accumulate(error_sq, sample_weight)

    def result(self):
        value = super().result()
        return self._value(self._device.xp.sqrt(value.data))

    def get_config(self):
        return {"name": self.name, "dtype": self.dtype}


def cosine_similarity(y_true, y_pred, axis=-1):
    """Cosine similarity (not negated) along ``axis``: 1 for parallel vectors; vectors normalised as
    ``x * min(1 / |x|, 1 / epsilon)``. Returns a float tensor without ``axis``."""
    p = to_array(y_pred, y_pred.device if isinstance(y_pred, Tensor) else None)
    if p.dtype.kind != "f":
        p = p.astype("float32")
    t = to_array(y_true, device_of_array(p), p.dtype)
    t, p = align_ranks(t, p)
    xp = xp_of(p)
    inv_eps = 1.0 / epsilon()

    def normalize(x):
        with numpy.errstate(divide="ignore"):
            inv = 1 / xp.sqrt((x * x).sum(axis=axis, keepdims=True))
        return x * xp.minimum(inv, inv_eps).astype(x.dtype, copy=False)

    tn, pn = normalize(t), normalize(p)
    return Tensor._wrap((tn * pn).sum(axis=axis))


class CosineSimilarity(_NameDtypeConfig, MeanMetricWrapper):
    """The running mean of the cosine similarity along ``axis`` (1 = same direction)."""

    def __init__(self, name="cosine_similarity", dtype=None, axis=-1):
        super().__init__(fn=cosine_similarity, name=name, dtype=dtype, axis=axis)
