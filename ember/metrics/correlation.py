"""Correlation metrics: ``PearsonCorrelation`` and ``ConcordanceCorrelation`` and their per-sample functions."""

from __future__ import annotations

from ..backend.config import epsilon
from ..backend.device import device_of_array
from ..engine.tensor import Tensor
from ._arrays import align_ranks, to_array
from .reduction import MeanMetricWrapper

__all__ = ["ConcordanceCorrelation", "PearsonCorrelation", "concordance_correlation", "pearson_correlation"]


def _pair(y_true, y_pred):
    p = to_array(y_pred)
    if p.dtype.kind != "f":
        p = p.astype("float32")
    t = to_array(y_true, device_of_array(p), p.dtype)
    return align_ranks(t, p)


def pearson_correlation(y_true, y_pred, axis=-1):
    """Pearson's correlation of ``y_true`` and ``y_pred`` along ``axis`` (one value per sample)."""
    t, p = _pair(y_true, y_pred)
    t = t - t.mean(axis=axis, keepdims=True)
    p = p - p.mean(axis=axis, keepdims=True)
    t = t / t.std(axis=axis, keepdims=True)
    p = p / p.std(axis=axis, keepdims=True)
    return Tensor._wrap((t * p).mean(axis=axis))


def concordance_correlation(y_true, y_pred, axis=-1):
    """Lin's concordance correlation along ``axis``, written as Keras 3 computes it (one value per sample).

    ``mean(2 * (y_true - mean(y_pred)) * (y_pred - mean(y_pred)) / (var(y_true) + var(y_pred)
    + (mean(y_true) - mean(y_pred))**2 + epsilon))``.
    """
    t, p = _pair(y_true, y_pred)
    t_mean = t.mean(axis=axis, keepdims=True)
    p_mean = p.mean(axis=axis, keepdims=True)
    t_var = (t - t_mean).var(axis=axis, keepdims=True)
    p_var = (p - p_mean).var(axis=axis, keepdims=True)
    covar = (t - p_mean) * (p - p_mean)
    norm = t_var + p_var + (t_mean - p_mean) ** 2
    return Tensor._wrap((2 * covar / (norm + epsilon())).mean(axis=axis))


class PearsonCorrelation(MeanMetricWrapper):
    """The running mean of :func:`pearson_correlation` over samples, as ``keras.metrics.PearsonCorrelation``."""

    def __init__(self, name="pearson_correlation", dtype=None, axis=-1):
        super().__init__(fn=pearson_correlation, name=name, dtype=dtype, axis=axis)
        self.axis = axis

    def get_config(self) -> dict:
        return {"name": self.name, "dtype": self.dtype, "axis": self.axis}


class ConcordanceCorrelation(MeanMetricWrapper):
    """The running mean of :func:`concordance_correlation`, as ``keras.metrics.ConcordanceCorrelation``."""

    def __init__(self, name="concordance_correlation", dtype=None, axis=-1):
        super().__init__(fn=concordance_correlation, name=name, dtype=dtype, axis=axis)
        self.axis = axis

    def get_config(self) -> dict:
        return {"name": self.name, "dtype": self.dtype, "axis": self.axis}
